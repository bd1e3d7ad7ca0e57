//! A* over every cell, with the octile heuristic (optionally raised by landmarks).

use super::landmarks::Landmarks;
use super::nodes::{Nodes, Open};
use super::padded::Padded;
use super::{GridPlan, GridPlanner, check_endpoints, octile};
use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;
use std::f64::consts::SQRT_2;

/// A* on one map; keep it and call [`GridPlanner::plan`] for each query.
#[derive(Debug, Clone)]
pub struct AStar {
    map: GridMap,
    grid: Padded,
    nodes: Nodes,
    landmarks: Option<Landmarks>,
}

impl AStar {
    /// A planner for `map`. Errs if the map has more cells than 32-bit node ids hold.
    pub fn new(map: &GridMap) -> Result<Self> {
        let grid = padded_checked(map)?;
        Ok(Self {
            map: map.clone(),
            nodes: Nodes::new(grid.len()),
            grid,
            landmarks: None,
        })
    }

    /// A planner whose heuristic also uses `k` landmarks (differential heuristics; see
    /// the grid module docs): `k` Dijkstra searches over the map up front, then far fewer
    /// expansions on maps with long detours. `k = 0` is [`Self::new`].
    pub fn with_landmarks(map: &GridMap, k: usize) -> Result<Self> {
        let mut p = Self::new(map)?;
        if k > 0 {
            p.landmarks = Some(Landmarks::build(&p.grid, k));
        }
        Ok(p)
    }
}

/// The padded grid, refusing maps whose cells do not fit 32-bit node ids.
pub(super) fn padded_checked(map: &GridMap) -> Result<Padded> {
    if (map.width + 2).saturating_mul(map.height + 2) >= u32::MAX as usize {
        return Err(PlanningError::InvalidInput {
            what: "grid map".into(),
            reason: format!("{}x{} cells is too large", map.width, map.height),
        });
    }
    Ok(Padded::new(map))
}

impl GridPlanner for AStar {
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan> {
        check_endpoints(&self.map, start, goal)?;
        let g = &self.grid;
        let w = g.w as isize;
        let (s, t) = (g.index(start), g.index(goal));
        if let Some(l) = self.landmarks.as_mut() {
            l.set_goal(t);
        }
        let lm = self.landmarks.as_ref();
        // Admissible heuristic: octile, raised by the landmarks' bound when there are any.
        let h = |i: usize, x: u32, y: u32| {
            let o = octile(x.abs_diff(goal.x), y.abs_diff(goal.y));
            lm.map_or(o, |l| o.max(l.h(i)))
        };
        let unreachable = PlanningError::Unreachable {
            start: (start.x as usize, start.y as usize),
            goal: (goal.x as usize, goal.y as usize),
        };
        let h0 = h(s, start.x, start.y);
        if h0 == f64::INFINITY {
            return Err(unreachable);
        }
        let nodes = &mut self.nodes;
        nodes.reset();
        nodes.relax(s, 0.0, s);
        nodes.open.push(Open {
            f: h0,
            g: 0.0,
            node: s as u32,
        });
        let mut expansions = 0;
        // (dx, dy, step cost), cardinals first.
        const MOVES: [(isize, isize, f64); 8] = [
            (1, 0, 1.0),
            (-1, 0, 1.0),
            (0, 1, 1.0),
            (0, -1, 1.0),
            (1, 1, SQRT_2),
            (1, -1, SQRT_2),
            (-1, 1, SQRT_2),
            (-1, -1, SQRT_2),
        ];
        while let Some(Open { g: gn, node, .. }) = nodes.open.pop() {
            let n = node as usize;
            if nodes.skip(n, gn) {
                continue;
            }
            nodes.close(n);
            expansions += 1;
            if n == t {
                let cells = walk_back(g, nodes, s, t);
                let (cardinals, diagonals) = super::count_steps(&self.map, &cells)?;
                return Ok(GridPlan {
                    cells,
                    cardinals,
                    diagonals,
                    expansions,
                });
            }
            let (x, y) = g.xy(n);
            for &(dx, dy, cost) in &MOVES {
                let m = (n as isize + dy * w + dx) as usize;
                if !g.pass[m] {
                    continue;
                }
                if dx != 0
                    && dy != 0
                    && !(g.pass[(n as isize + dx) as usize]
                        && g.pass[(n as isize + dy * w) as usize])
                {
                    continue;
                }
                let ng = gn + cost;
                if nodes.relax(m, ng, n) {
                    let (mx, my) = ((x as isize + dx) as u32, (y as isize + dy) as u32);
                    let hm = h(m, mx, my);
                    if hm == f64::INFINITY {
                        continue; // the landmarks prove the goal unreachable from here
                    }
                    nodes.open.push(Open {
                        f: ng + hm,
                        g: ng,
                        node: m as u32,
                    });
                }
            }
        }
        Err(unreachable)
    }
}

/// The cells from `s` to `t` by parent links (each link one step).
fn walk_back(g: &Padded, nodes: &Nodes, s: usize, t: usize) -> Vec<Cell> {
    let mut cells = vec![g.cell(t)];
    let mut n = t;
    while n != s {
        n = nodes.parent(n);
        cells.push(g.cell(n));
    }
    cells.reverse();
    cells
}
