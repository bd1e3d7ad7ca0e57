//! Paths: sequences of poses (nav_msgs/Path) and of grid cells.

use crate::geometry::Pose2;
use crate::time::Stamp;
use serde::{Deserialize, Serialize};

/// A planned path in `frame_id`, as nav_msgs/Path in 2D.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Path2 {
    pub stamp: Stamp,
    pub frame_id: String,
    pub poses: Vec<Pose2>,
}

impl Path2 {
    /// Total Euclidean length of the polyline through the poses.
    pub fn length(&self) -> f64 {
        self.poses
            .windows(2)
            .map(|w| (w[1].translation() - w[0].translation()).norm())
            .sum()
    }
}

/// A cell of a [`crate::GridMap`]: x = column, y = row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    pub x: u32,
    pub y: u32,
}

impl Cell {
    pub fn new(x: u32, y: u32) -> Self {
        Self { x, y }
    }
}

/// A path over grid cells, one cell per step.
pub type GridPath = Vec<Cell>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_length() {
        let p = Path2 {
            poses: vec![
                Pose2::new(0.0, 0.0, 0.0),
                Pose2::new(3.0, 4.0, 0.0),
                Pose2::new(3.0, 5.0, 1.0),
            ],
            ..Default::default()
        };
        assert!((p.length() - 6.0).abs() < 1e-12);
    }
}
