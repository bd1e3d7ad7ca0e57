//! Courier planning: pose + goal + obstacles → path → velocity commands (see issue 4).
//!
//! - [`costmap`]: layered 2D costmaps with Nav2 semantics (static + live obstacle layers,
//!   footprint-aware inflation, windowed updates).
//! - [`grid`]: optimal 8-connected grid search under MovingAI rules (A* and jump point search).

pub mod costmap;
pub mod error;
pub mod grid;

pub use error::{PlanningError, Result};

pub mod control;
pub mod hybrid;
pub mod node;
pub mod road;
