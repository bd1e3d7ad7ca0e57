//! Courier planning: pose + goal + obstacles → path → velocity commands (see issue 4).

pub mod control;
pub mod hybrid;
pub mod node;
pub mod road;
