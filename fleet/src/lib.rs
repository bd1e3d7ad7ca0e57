//! Courier fleet coordination: tasks + robots → assignments + conflict-free paths (see issue 3).

pub mod assign;
pub mod lifelong;
pub mod lorr;
