//! Optimal grid search under the MovingAI rules: 8-connected, cardinal step 1, diagonal step
//! √2, no corner cutting (a diagonal move needs both orthogonally adjacent cells passable).
//!
//! - [`AStar`]: A* with a binary-heap open list and generation-stamped node arrays, so a query
//!   allocates nothing once the planner has warmed up;
//! - [`Jps`]: jump point search (Harabor & Grastien) in its no-corner-cutting form, on the same
//!   node arrays; far fewer expansions on open maps;
//! - both optionally take landmarks (differential heuristics: exact distances from a few cells
//!   precomputed per map, bounding `|d(L, goal) − d(L, n)|`) for a tighter
//!   admissible heuristic;
//! - [`reference`]: a plain A* on the `pathfinding` crate, the baseline the benchmark compares
//!   against.
//!
//! All return a [`GridPlan`] whose length is counted as `cardinals + √2 · diagonals`, so it
//! carries no accumulated rounding.
//!
//! ```
//! use courier_core::{GridMap, path::Cell};
//! use courier_planning::grid::{GridPlanner, Jps};
//! // . . .
//! // . @ .
//! // . . .
//! let map = GridMap::new(3, 3, (0..9).map(|i| i != 4).collect());
//! let plan = Jps::new(&map).unwrap().plan(Cell::new(0, 0), Cell::new(2, 2)).unwrap();
//! assert_eq!((plan.cardinals, plan.diagonals), (4, 0)); // no cutting the obstacle's corners
//! ```

mod astar;
mod ch;
mod hl;
mod jps;
mod landmarks;
mod nodes;
mod padded;
pub mod reference;
mod search;

pub use astar::AStar;
pub use ch::{ChStats, ContractionHierarchy};
pub use hl::{HlStats, HubLabels};
pub use jps::Jps;

use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;

/// A shortest path found by a grid planner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GridPlan {
    /// Every cell from start to goal inclusive, each one step (8-connected) from the last.
    pub cells: Vec<Cell>,
    /// Cardinal steps.
    pub cardinals: u32,
    /// Diagonal steps.
    pub diagonals: u32,
    /// Nodes taken off the open list and expanded.
    pub expansions: u64,
}

impl GridPlan {
    /// Octile length: cardinals + √2 · diagonals.
    pub fn length(&self) -> f64 {
        f64::from(self.cardinals) + std::f64::consts::SQRT_2 * f64::from(self.diagonals)
    }
}

/// A planner answering start → goal queries on one map.
pub trait GridPlanner {
    /// The shortest path from `start` to `goal`, or why there is none.
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan>;
}

/// Octile distance: the exact shortest length on an empty grid, an admissible and consistent
/// heuristic under these rules.
pub fn octile(dx: u32, dy: u32) -> f64 {
    let (lo, hi) = if dx < dy { (dx, dy) } else { (dy, dx) };
    f64::from(hi - lo) + std::f64::consts::SQRT_2 * f64::from(lo)
}

/// Checks that start and goal are passable cells of `map`.
pub(crate) fn check_endpoints(map: &GridMap, start: Cell, goal: Cell) -> Result<()> {
    for (what, c) in [("start", start), ("goal", goal)] {
        let (x, y) = (i64::from(c.x), i64::from(c.y));
        if !map.in_bounds(x, y) {
            return Err(PlanningError::OffMap {
                what,
                x,
                y,
                width: map.width,
                height: map.height,
            });
        }
        if !map.is_passable(x, y) {
            return Err(PlanningError::Blocked { what, x, y });
        }
    }
    Ok(())
}

/// Counts the cardinal and diagonal steps of a cell path, checking each step is a legal move.
pub fn count_steps(map: &GridMap, cells: &[Cell]) -> Result<(u32, u32)> {
    let (mut card, mut diag) = (0, 0);
    for (k, w) in cells.windows(2).enumerate() {
        let (ax, ay) = (i64::from(w[0].x), i64::from(w[0].y));
        let (bx, by) = (i64::from(w[1].x), i64::from(w[1].y));
        let (dx, dy) = (bx - ax, by - ay);
        let legal = dx.abs() <= 1
            && dy.abs() <= 1
            && (dx, dy) != (0, 0)
            && map.is_passable(bx, by)
            && (dx == 0
                || dy == 0
                || (map.is_passable(ax + dx, ay) && map.is_passable(ax, ay + dy)));
        if !legal {
            return Err(PlanningError::InvalidInput {
                what: "grid path".into(),
                reason: format!("step {k} from ({ax}, {ay}) to ({bx}, {by}) is not a legal move"),
            });
        }
        if dx == 0 || dy == 0 {
            card += 1;
        } else {
            diag += 1;
        }
    }
    Ok((card, diag))
}
