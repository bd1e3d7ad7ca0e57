//! What A* and JPS share: the map (plain and padded), the reusable node arrays, the optional
//! landmarks, and the start of a query (endpoint checks, heuristic, seeding the open list).

use super::landmarks::Landmarks;
use super::nodes::{Nodes, Open};
use super::padded::Padded;
use super::{check_endpoints, octile};
use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;

#[derive(Debug, Clone)]
pub(crate) struct Search {
    pub map: GridMap,
    pub grid: Padded,
    pub nodes: Nodes,
    pub landmarks: Option<Landmarks>,
}

impl Search {
    /// Search state for `map` with `k` landmarks (0 = octile heuristic only). Errs if the map
    /// has more cells than 32-bit node ids hold.
    pub fn new(map: &GridMap, k: usize) -> Result<Self> {
        if (map.width + 2).saturating_mul(map.height + 2) >= u32::MAX as usize {
            return Err(PlanningError::InvalidInput {
                what: "grid map".into(),
                reason: format!("{}x{} cells is too large", map.width, map.height),
            });
        }
        let grid = Padded::new(map);
        let landmarks = (k > 0).then(|| Landmarks::build(&grid, k));
        Ok(Self {
            map: map.clone(),
            nodes: Nodes::new(grid.len()),
            grid,
            landmarks,
        })
    }

    /// Starts a query: checks the endpoints, points the landmarks at the goal and seeds the
    /// open list with the start. Returns the padded start and goal indices.
    pub fn begin(&mut self, start: Cell, goal: Cell) -> Result<(usize, usize)> {
        check_endpoints(&self.map, start, goal)?;
        let (s, t) = (self.grid.index(start), self.grid.index(goal));
        if let Some(l) = self.landmarks.as_mut() {
            l.set_goal(t);
        }
        let h0 = heuristic(self.landmarks.as_ref(), goal)(s, start.x, start.y);
        if h0 == f64::INFINITY {
            return Err(unreachable(start, goal));
        }
        self.nodes.reset();
        self.nodes.relax(s, 0.0, s);
        self.nodes.open.push(Open {
            f: h0,
            g: 0.0,
            node: s as u32,
        });
        Ok((s, t))
    }
}

/// The admissible heuristic towards `goal`: octile, raised by the landmarks' bound when there
/// are any (∞ when they prove the goal unreachable).
pub(crate) fn heuristic(lm: Option<&Landmarks>, goal: Cell) -> impl Fn(usize, u32, u32) -> f64 {
    move |i, x, y| {
        let o = octile(x.abs_diff(goal.x), y.abs_diff(goal.y));
        lm.map_or(o, |l| o.max(l.h(i)))
    }
}

pub(crate) fn unreachable(start: Cell, goal: Cell) -> PlanningError {
    PlanningError::Unreachable {
        start: (start.x as usize, start.y as usize),
        goal: (goal.x as usize, goal.y as usize),
    }
}
