//! The benchmark's baseline: a plain A* built on `pathfinding::directed::astar`, with costs
//! scaled to integers, on the same movement rules.

use super::{GridPlan, check_endpoints, count_steps};
use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;

/// Cost of a cardinal step: 2⁴⁰. A diagonal step is √2 · 2⁴⁰ rounded; the rounding error, under
/// 5e-13 per step, is far below the gap between distinct octile lengths, so the order of path
/// costs (and the path found) is that of exact arithmetic.
const CARDINAL: u64 = 1 << 40;
const DIAGONAL: u64 = 1_554_944_255_988; // round(√2 · 2⁴⁰)

/// The shortest path by `pathfinding`'s A*, and the number of nodes it expanded.
pub fn plan(map: &GridMap, start: Cell, goal: Cell) -> Result<GridPlan> {
    check_endpoints(map, start, goal)?;
    let mut expansions = 0u64;
    let h = |&(x, y): &(u32, u32)| {
        let (dx, dy) = (u64::from(x.abs_diff(goal.x)), u64::from(y.abs_diff(goal.y)));
        let (lo, hi) = (dx.min(dy), dx.max(dy));
        (hi - lo) * CARDINAL + lo * DIAGONAL
    };
    let succ = |&(x, y): &(u32, u32)| {
        expansions += 1;
        let (x, y) = (i64::from(x), i64::from(y));
        let mut out = Vec::with_capacity(8);
        for dy in -1..=1i64 {
            for dx in -1..=1i64 {
                if (dx, dy) == (0, 0) || !map.is_passable(x + dx, y + dy) {
                    continue;
                }
                if dx != 0 && dy != 0 {
                    if !(map.is_passable(x + dx, y) && map.is_passable(x, y + dy)) {
                        continue;
                    }
                    out.push((((x + dx) as u32, (y + dy) as u32), DIAGONAL));
                } else {
                    out.push((((x + dx) as u32, (y + dy) as u32), CARDINAL));
                }
            }
        }
        out
    };
    let found = pathfinding::directed::astar::astar(&(start.x, start.y), succ, h, |&(x, y)| {
        (x, y) == (goal.x, goal.y)
    });
    let Some((path, _)) = found else {
        return Err(PlanningError::Unreachable {
            start: (start.x as usize, start.y as usize),
            goal: (goal.x as usize, goal.y as usize),
        });
    };
    let cells: Vec<Cell> = path.into_iter().map(|(x, y)| Cell::new(x, y)).collect();
    let (cardinals, diagonals) = count_steps(map, &cells)?;
    Ok(GridPlan {
        cells,
        cardinals,
        diagonals,
        expansions,
    })
}
