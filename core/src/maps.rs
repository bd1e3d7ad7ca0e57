//! Maps: the metric [`OccupancyGrid`] (Nav2 semantics) and the passability [`GridMap`] of
//! MovingAI benchmarks and warehouse grids.

use crate::geometry::Pose2;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Occupancy value of a free cell (nav_msgs/OccupancyGrid).
pub const FREE: i8 = 0;
/// Occupancy value of a certainly occupied cell.
pub const OCCUPIED: i8 = 100;
/// Occupancy value of an unknown cell.
pub const UNKNOWN: i8 = -1;

/// The (col, row) of the cell holding map-frame point (x, y) in a grid whose cell (0, 0) has its
/// lower-left corner at `origin` and whose cells are `resolution` metres wide (the geometry of
/// nav_msgs/OccupancyGrid, shared by every metric grid: occupancy grids and costmaps).
pub fn world_to_cell(origin: &Pose2, resolution: f64, x: f64, y: f64) -> (i64, i64) {
    let p = origin
        .0
        .inverse_transform_point(&nalgebra::Point2::new(x, y));
    (
        (p.x / resolution).floor() as i64,
        (p.y / resolution).floor() as i64,
    )
}

/// The map-frame centre of cell (col, row) of a grid laid out as in [`world_to_cell`].
pub fn cell_to_world(origin: &Pose2, resolution: f64, col: i64, row: i64) -> (f64, f64) {
    let local = nalgebra::Point2::new(
        (col as f64 + 0.5) * resolution,
        (row as f64 + 0.5) * resolution,
    );
    let p = origin.transform_point(&local);
    (p.x, p.y)
}

/// A metric occupancy grid, as nav_msgs/OccupancyGrid: `data[[row, col]]` is the cell whose
/// lower-left corner is at `origin * (col * resolution, row * resolution)`; row 0 is at the
/// origin (the bottom of the image a Nav2 `.pgm` shows). Values: 0 free … 100 occupied, -1 unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OccupancyGrid {
    /// Metres per cell.
    pub resolution: f64,
    /// Pose of the lower-left corner of cell (0, 0) in the map frame.
    pub origin: Pose2,
    /// Shape (height, width).
    pub data: Array2<i8>,
}

impl OccupancyGrid {
    /// A grid of `width × height` cells, all `value`.
    pub fn filled(width: usize, height: usize, resolution: f64, origin: Pose2, value: i8) -> Self {
        Self {
            resolution,
            origin,
            data: Array2::from_elem((height, width), value),
        }
    }
    pub fn width(&self) -> usize {
        self.data.ncols()
    }
    pub fn height(&self) -> usize {
        self.data.nrows()
    }
    /// Cell value at (col, row); `None` off the map.
    pub fn get(&self, col: i64, row: i64) -> Option<i8> {
        if col < 0 || row < 0 {
            return None;
        }
        self.data.get((row as usize, col as usize)).copied()
    }
    /// The (col, row) of the cell holding map-frame point (x, y); may lie off the map.
    pub fn world_to_cell(&self, x: f64, y: f64) -> (i64, i64) {
        world_to_cell(&self.origin, self.resolution, x, y)
    }
    /// The map-frame centre of cell (col, row).
    pub fn cell_to_world(&self, col: i64, row: i64) -> (f64, f64) {
        cell_to_world(&self.origin, self.resolution, col, row)
    }
    /// Counts of (free, occupied, unknown) cells, with Nav2's reading: -1 unknown, ≥ 65 occupied
    /// (the default occupied_thresh), the rest free.
    pub fn census(&self) -> (usize, usize, usize) {
        let (mut f, mut o, mut u) = (0, 0, 0);
        for &v in &self.data {
            match v {
                v if v < 0 => u += 1,
                v if v >= 65 => o += 1,
                _ => f += 1,
            }
        }
        (f, o, u)
    }
}

/// A passability grid for grid path finding and MAPF: `x` is the column, `y` the row, row 0 at
/// the top (the MovingAI convention). Cells are numbered `y * width + x`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridMap {
    pub width: usize,
    pub height: usize,
    /// Row-major, `width * height` entries.
    pub passable: Vec<bool>,
}

impl GridMap {
    pub fn new(width: usize, height: usize, passable: Vec<bool>) -> Self {
        assert_eq!(
            passable.len(),
            width * height,
            "GridMap: passable has the wrong length"
        );
        Self {
            width,
            height,
            passable,
        }
    }
    pub fn index(&self, x: usize, y: usize) -> usize {
        y * self.width + x
    }
    pub fn coords(&self, index: usize) -> (usize, usize) {
        (index % self.width, index / self.width)
    }
    pub fn in_bounds(&self, x: i64, y: i64) -> bool {
        x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height
    }
    /// False off the map.
    pub fn is_passable(&self, x: i64, y: i64) -> bool {
        self.in_bounds(x, y) && self.passable[y as usize * self.width + x as usize]
    }
    pub fn passable_count(&self) -> usize {
        self.passable.iter().filter(|&&p| p).count()
    }
    /// The passable 4-neighbours of cell `index`, in the order right, down, left, up.
    pub fn neighbors4(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let (x, y) = self.coords(index);
        let (x, y) = (x as i64, y as i64);
        [(1, 0), (0, 1), (-1, 0), (0, -1)]
            .into_iter()
            .filter(move |(dx, dy)| self.is_passable(x + dx, y + dy))
            .map(move |(dx, dy)| self.index((x + dx) as usize, (y + dy) as usize))
    }
    /// Converts to an occupancy grid (100 blocked, 0 free) with `resolution` m per cell, flipping
    /// rows so that the top row of the grid map is the top (last) row of the occupancy grid.
    pub fn to_occupancy(&self, resolution: f64) -> OccupancyGrid {
        let mut g =
            OccupancyGrid::filled(self.width, self.height, resolution, Pose2::identity(), FREE);
        for y in 0..self.height {
            for x in 0..self.width {
                if !self.passable[self.index(x, y)] {
                    g.data[[self.height - 1 - y, x]] = OCCUPIED;
                }
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn occupancy_world_cell_round_trip() {
        let g = OccupancyGrid::filled(10, 5, 0.05, Pose2::new(-1.0, 2.0, 0.0), FREE);
        assert_eq!(g.world_to_cell(-1.0 + 0.051, 2.0 + 0.149), (1, 2));
        let (x, y) = g.cell_to_world(3, 4);
        assert_eq!(g.world_to_cell(x, y), (3, 4));
        assert_eq!(g.get(10, 0), None);
        assert_eq!(g.get(-1, 0), None);
        assert_eq!(g.census(), (50, 0, 0));
    }

    #[test]
    fn rotated_origin_is_honoured() {
        let g = OccupancyGrid::filled(
            4,
            4,
            1.0,
            Pose2::new(0.0, 0.0, std::f64::consts::FRAC_PI_2),
            FREE,
        );
        // Cell (col 1, row 0) centre is at local (1.5, 0.5) → map (-0.5, 1.5).
        let (x, y) = g.cell_to_world(1, 0);
        assert!((x + 0.5).abs() < 1e-12 && (y - 1.5).abs() < 1e-12);
        assert_eq!(g.world_to_cell(x, y), (1, 0));
    }

    #[test]
    fn grid_neighbours_and_occupancy_flip() {
        // .@
        // ..
        let m = GridMap::new(2, 2, vec![true, false, true, true]);
        assert_eq!(m.neighbors4(0).collect::<Vec<_>>(), vec![2]);
        assert_eq!(m.neighbors4(3).collect::<Vec<_>>(), vec![2]);
        assert!(!m.is_passable(1, 0) && !m.is_passable(-1, 0) && m.is_passable(1, 1));
        let o = m.to_occupancy(1.0);
        assert_eq!(o.data[[1, 1]], OCCUPIED);
        assert_eq!(o.data[[0, 1]], FREE);
    }
}
