//! Courier fleet coordination: tasks + robots → assignments + conflict-free paths (see issue 3).
