//! Warehouse worlds: a grid floor with storage racks, pick stations and chargers, generated from
//! a few layout numbers or read from a MovingAI map.

use crate::error::{Result, SimError};
use courier_core::GridMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A generated layout: blocks of double-sided racks separated by aisles, pick stations along the
/// west wall, chargers along the east wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayoutParams {
    /// Rack blocks along x (columns of blocks).
    pub shelf_blocks_x: usize,
    /// Rack blocks along y (rows of blocks).
    pub shelf_blocks_y: usize,
    /// Cells per rack block along x.
    pub shelf_length: usize,
    /// Cells per rack block along y.
    pub shelf_depth: usize,
    /// Free cells between blocks.
    pub aisle_width: usize,
    /// Free cells around the storage area.
    pub margin: usize,
    /// Number of pick stations (west wall).
    pub stations: usize,
    /// Number of chargers (east wall).
    pub chargers: usize,
}

impl Default for LayoutParams {
    fn default() -> Self {
        Self {
            shelf_blocks_x: 8,
            shelf_blocks_y: 6,
            shelf_length: 10,
            shelf_depth: 2,
            aisle_width: 2,
            margin: 4,
            stations: 8,
            chargers: 8,
        }
    }
}

/// The floor of a warehouse and its special places, as grid cell indices (`y * width + x`).
#[derive(Debug, Clone, PartialEq)]
pub struct WarehouseWorld {
    pub grid: GridMap,
    pub cell_size_m: f64,
    /// Free cells next to a rack, where totes are picked up.
    pub pickups: Vec<u32>,
    /// Pick stations, where totes are dropped off.
    pub stations: Vec<u32>,
    /// Charger cells.
    pub chargers: Vec<u32>,
}

impl WarehouseWorld {
    /// Generates the layout described by `p`.
    pub fn generate(p: &LayoutParams, cell_size_m: f64) -> Result<Self> {
        if p.shelf_blocks_x == 0
            || p.shelf_blocks_y == 0
            || p.shelf_length == 0
            || p.shelf_depth == 0
        {
            return Err(SimError::Invalid(
                "layout: shelf blocks and sizes must be at least 1".into(),
            ));
        }
        if p.aisle_width == 0 || p.margin < 2 {
            return Err(SimError::Invalid(
                "layout: aisle_width must be ≥ 1 and margin ≥ 2".into(),
            ));
        }
        let pitch_x = p.shelf_length + p.aisle_width;
        let pitch_y = p.shelf_depth + p.aisle_width;
        let width = 2 * p.margin + p.shelf_blocks_x * pitch_x - p.aisle_width;
        let height = 2 * p.margin + p.shelf_blocks_y * pitch_y - p.aisle_width;
        if width * height > 4_000_000 {
            return Err(SimError::Invalid(format!(
                "layout of {width}x{height} cells is too large"
            )));
        }
        let mut passable = vec![true; width * height];
        for by in 0..p.shelf_blocks_y {
            for bx in 0..p.shelf_blocks_x {
                for dy in 0..p.shelf_depth {
                    for dx in 0..p.shelf_length {
                        let (x, y) = (p.margin + bx * pitch_x + dx, p.margin + by * pitch_y + dy);
                        passable[y * width + x] = false;
                    }
                }
            }
        }
        let grid = GridMap::new(width, height, passable);
        let along = |n: usize, x: usize| -> Vec<u32> {
            (0..n)
                .map(|k| (((k * 2 + 1) * height / (2 * n.max(1))) * width + x) as u32)
                .collect()
        };
        let stations = along(p.stations, 0);
        let chargers = along(p.chargers, width - 1);
        let pickups = rack_faces(&grid);
        Self::checked(grid, cell_size_m, pickups, stations, chargers)
    }

    /// Reads a MovingAI map: pickups are free cells next to an obstacle, stations the free cells
    /// of the west-most column that has any (spread out), chargers those of the east-most.
    pub fn from_map(path: &Path, cell_size_m: f64) -> Result<Self> {
        let grid = courier_core::formats::movingai::read_map(path)?;
        let column = |x: usize| -> Vec<u32> {
            (0..grid.height)
                .filter(|&y| grid.passable[y * grid.width + x])
                .map(|y| (y * grid.width + x) as u32)
                .collect()
        };
        let west = (0..grid.width)
            .map(column)
            .find(|c| !c.is_empty())
            .unwrap_or_default();
        let east = (0..grid.width)
            .rev()
            .map(column)
            .find(|c| !c.is_empty())
            .unwrap_or_default();
        let spread = |v: Vec<u32>| v.into_iter().step_by(3).collect::<Vec<_>>();
        let pickups = rack_faces(&grid);
        Self::checked(grid, cell_size_m, pickups, spread(west), spread(east))
    }

    fn checked(
        grid: GridMap,
        cell_size_m: f64,
        pickups: Vec<u32>,
        stations: Vec<u32>,
        chargers: Vec<u32>,
    ) -> Result<Self> {
        if pickups.is_empty() || stations.is_empty() {
            return Err(SimError::Invalid(
                "the warehouse has no pickup places or no stations".into(),
            ));
        }
        Ok(Self {
            grid,
            cell_size_m,
            pickups,
            stations,
            chargers,
        })
    }

    /// Metric centre (x east, y north) of a cell. Grid row 0 is the north edge, so y is flipped.
    pub fn cell_center(&self, cell: u32) -> [f64; 2] {
        let (x, y) = self.grid.coords(cell as usize);
        [
            (x as f64 + 0.5) * self.cell_size_m,
            ((self.grid.height - 1 - y) as f64 + 0.5) * self.cell_size_m,
        ]
    }

    /// The cell holding a metric point, if on the map.
    pub fn cell_at(&self, p: [f64; 2]) -> Option<(i64, i64)> {
        let x = (p[0] / self.cell_size_m).floor() as i64;
        let row_from_bottom = (p[1] / self.cell_size_m).floor() as i64;
        let y = self.grid.height as i64 - 1 - row_from_bottom;
        self.grid.in_bounds(x, y).then_some((x, y))
    }

    /// Obstacle cells, for rendering and collision checks.
    pub fn obstacles(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.grid.passable.len())
            .filter(|&i| !self.grid.passable[i])
            .map(|i| i as u32)
    }
}

/// Free cells with an obstacle among their 4-neighbours.
fn rack_faces(grid: &GridMap) -> Vec<u32> {
    (0..grid.passable.len())
        .filter(|&i| grid.passable[i])
        .filter(|&i| {
            let (x, y) = grid.coords(i);
            let (x, y) = (x as i64, y as i64);
            [(1, 0), (-1, 0), (0, 1), (0, -1)]
                .iter()
                .any(|(dx, dy)| grid.in_bounds(x + dx, y + dy) && !grid.is_passable(x + dx, y + dy))
        })
        .map(|i| i as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_layout_has_racks_aisles_and_places() {
        let p = LayoutParams {
            shelf_blocks_x: 2,
            shelf_blocks_y: 2,
            shelf_length: 3,
            shelf_depth: 2,
            aisle_width: 1,
            margin: 2,
            stations: 2,
            chargers: 1,
        };
        let w = WarehouseWorld::generate(&p, 1.0).unwrap();
        assert_eq!(
            (w.grid.width, w.grid.height),
            (2 * 2 + 2 * 4 - 1, 2 * 2 + 2 * 3 - 1)
        );
        assert_eq!(w.obstacles().count(), 4 * 6);
        assert_eq!(w.stations.len(), 2);
        for &c in w.pickups.iter().chain(&w.stations).chain(&w.chargers) {
            assert!(w.grid.passable[c as usize]);
        }
        // Every free cell is reachable from the first station (aisles connect everything).
        let mut seen = vec![false; w.grid.passable.len()];
        let mut stack = vec![w.stations[0] as usize];
        seen[stack[0]] = true;
        while let Some(c) = stack.pop() {
            for n in w.grid.neighbors4(c) {
                if !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        assert_eq!(seen.iter().filter(|&&s| s).count(), w.grid.passable_count());
        let c = w.pickups[0];
        let (x, y) = w.grid.coords(c as usize);
        assert_eq!(w.cell_at(w.cell_center(c)), Some((x as i64, y as i64)));
    }

    #[test]
    fn degenerate_layouts_are_errors() {
        let p = LayoutParams {
            shelf_blocks_x: 0,
            ..Default::default()
        };
        assert!(WarehouseWorld::generate(&p, 1.0).is_err());
    }
}
