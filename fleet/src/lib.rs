//! Courier fleet coordination: tasks + robots → assignments + conflict-free paths (see issue 3).
//!
//! - [`mapf`]: one-shot multi-agent path finding on 4-connected grids (LaCAM with PIBT, LNS
//!   refinement, CBS for small instances, a solution validator, BFS distance tables).

pub mod error;
pub mod mapf;

pub use error::{FleetError, Result};

pub mod assign;
pub mod lifelong;
pub mod lorr;
