//! Layered 2D costmaps with Nav2 semantics.
//!
//! Cost values follow `nav2_costmap_2d`: [`FREE_SPACE`] 0, [`INSCRIBED_INFLATED_OBSTACLE`] 253
//! (the robot centre here means the footprint touches an obstacle), [`LETHAL_OBSTACLE`] 254 (an
//! obstacle cell), [`NO_INFORMATION`] 255 (unknown). Between them, inflation decays as
//! `252 · exp(-cost_scaling_factor · (d − inscribed_radius))` out to `inflation_radius`, where `d`
//! is the distance in metres from the cell centre to the nearest lethal cell centre.
//!
//! The node core is [`LayeredCostmap`]: build it from a [`courier_core::OccupancyGrid`] (the static
//! layer), feed it live obstacle points (the obstacle layer) with
//! [`LayeredCostmap::set_obstacles`], and read the combined, inflated [`Costmap2D`] with
//! [`LayeredCostmap::costmap`]. Each update recomputes only the changed window: the bounding box
//! of the cells whose obstacle state changed, grown by the inflation radius.
//!
//! ```
//! use courier_core::{OccupancyGrid, Pose2};
//! use courier_planning::costmap::{CostmapParams, LayeredCostmap, LETHAL_OBSTACLE};
//! let grid = OccupancyGrid::filled(40, 40, 0.05, Pose2::identity(), 0);
//! let mut cm = LayeredCostmap::new(&grid, CostmapParams::default()).unwrap();
//! let window = cm.set_obstacles(&[[1.0, 1.0]]).unwrap().window.expect("one cell changed");
//! assert_eq!(cm.costmap().cost_at(1.0, 1.0), Some(LETHAL_OBSTACLE));
//! assert!(window.contains(20, 20));
//! ```

mod footprint;
mod inflation;
mod layered;

pub use footprint::Footprint;
pub use inflation::InflationKernel;
pub use layered::{CostmapParams, LayeredCostmap, ObstacleUpdate};

use courier_core::Pose2;
use serde::{Deserialize, Serialize};

/// Cost of a cell known to be free.
pub const FREE_SPACE: u8 = 0;
/// Cost of a cell within the inscribed radius of an obstacle: the robot collides there.
pub const INSCRIBED_INFLATED_OBSTACLE: u8 = 253;
/// Cost of an obstacle cell.
pub const LETHAL_OBSTACLE: u8 = 254;
/// Cost of an unknown cell.
pub const NO_INFORMATION: u8 = 255;

/// A 2D grid of costs (0..=255), laid out like nav_msgs/OccupancyGrid: cell (col, row) has its
/// lower-left corner at `origin * (col * resolution, row * resolution)`, row-major from row 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Costmap2D {
    pub width: usize,
    pub height: usize,
    /// Metres per cell.
    pub resolution: f64,
    /// Pose of the lower-left corner of cell (0, 0) in the map frame.
    pub origin: Pose2,
    /// `width * height` costs, index `row * width + col`.
    pub data: Vec<u8>,
}

impl Costmap2D {
    /// A costmap of `width × height` cells, all `value`.
    pub fn filled(width: usize, height: usize, resolution: f64, origin: Pose2, value: u8) -> Self {
        Self {
            width,
            height,
            resolution,
            origin,
            data: vec![value; width * height],
        }
    }
    /// Index of cell (col, row) in `data`; the caller keeps it on the map.
    pub fn index(&self, col: usize, row: usize) -> usize {
        row * self.width + col
    }
    /// Cost of cell (col, row); `None` off the map.
    pub fn get(&self, col: i64, row: i64) -> Option<u8> {
        if col < 0 || row < 0 || col as usize >= self.width || row as usize >= self.height {
            return None;
        }
        Some(self.data[row as usize * self.width + col as usize])
    }
    /// The (col, row) of the cell holding map-frame point (x, y); may lie off the map.
    pub fn world_to_cell(&self, x: f64, y: f64) -> (i64, i64) {
        courier_core::maps::world_to_cell(&self.origin, self.resolution, x, y)
    }
    /// The map-frame centre of cell (col, row).
    pub fn cell_to_world(&self, col: i64, row: i64) -> (f64, f64) {
        courier_core::maps::cell_to_world(&self.origin, self.resolution, col, row)
    }
    /// Cost of the cell holding map-frame point (x, y); `None` off the map or for a non-finite point.
    pub fn cost_at(&self, x: f64, y: f64) -> Option<u8> {
        if !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let (c, r) = self.world_to_cell(x, y);
        self.get(c, r)
    }
}

/// A rectangle of cells: columns `col0..col1`, rows `row0..row1` (ends exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellWindow {
    pub col0: usize,
    pub row0: usize,
    pub col1: usize,
    pub row1: usize,
}

impl CellWindow {
    /// The whole `width × height` map.
    pub fn full(width: usize, height: usize) -> Self {
        Self {
            col0: 0,
            row0: 0,
            col1: width,
            row1: height,
        }
    }
    /// The single cell (col, row).
    pub fn cell(col: usize, row: usize) -> Self {
        Self {
            col0: col,
            row0: row,
            col1: col + 1,
            row1: row + 1,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.col0 >= self.col1 || self.row0 >= self.row1
    }
    pub fn contains(&self, col: usize, row: usize) -> bool {
        (self.col0..self.col1).contains(&col) && (self.row0..self.row1).contains(&row)
    }
    /// Number of cells.
    pub fn area(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            (self.col1 - self.col0) * (self.row1 - self.row0)
        }
    }
    /// The smallest window holding both.
    pub fn union(&self, other: &CellWindow) -> CellWindow {
        if self.is_empty() {
            return *other;
        }
        if other.is_empty() {
            return *self;
        }
        CellWindow {
            col0: self.col0.min(other.col0),
            row0: self.row0.min(other.row0),
            col1: self.col1.max(other.col1),
            row1: self.row1.max(other.row1),
        }
    }
    /// Grown by `cells` on every side, clipped to a `width × height` map.
    pub fn grown(&self, cells: usize, width: usize, height: usize) -> CellWindow {
        CellWindow {
            col0: self.col0.saturating_sub(cells),
            row0: self.row0.saturating_sub(cells),
            col1: (self.col1 + cells).min(width),
            row1: (self.row1 + cells).min(height),
        }
    }
}
