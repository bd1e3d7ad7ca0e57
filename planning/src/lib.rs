//! Courier planning: pose + goal + obstacles → path → velocity commands (see issue 4).
