//! Hybrid-A* for car-like (Ackermann) and differential-drive vehicles: an SE(2) search over
//! precomputed motion primitives, guided by the maximum of an obstacle-aware holonomic heuristic
//! (2D Dijkstra from the goal) and an obstacle-free non-holonomic one (Reeds-Shepp or Dubins,
//! from a lookup table), with analytic expansion, polygon-footprint collision checks (parry2d)
//! and path smoothing.

pub mod dubins;
pub mod error;
pub mod reeds_shepp;

pub use error::PlanError;

#[cfg(test)]
mod curve_tests;
pub mod footprint;
pub mod grid;
pub mod heuristic;
pub mod scenes;
pub mod search;
pub mod smooth;

pub use footprint::{Footprint, FootprintSpec};
pub use grid::CollisionGrid;
pub use search::{HybridAStar, HybridParams, Kinematics, LocalPath};
