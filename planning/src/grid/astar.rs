//! A* over every cell, with the octile heuristic (optionally raised by landmarks).

use super::nodes::{Nodes, Open};
use super::padded::Padded;
use super::search::{Search, heuristic, unreachable};
use super::{GridPlan, GridPlanner};
use crate::error::Result;
use courier_core::GridMap;
use courier_core::path::Cell;
use std::f64::consts::SQRT_2;

/// A* on one map; keep it and call [`GridPlanner::plan`] for each query.
#[derive(Debug, Clone)]
pub struct AStar {
    search: Search,
}

impl AStar {
    /// A planner for `map`. Errs if the map has more cells than 32-bit node ids hold.
    pub fn new(map: &GridMap) -> Result<Self> {
        Self::with_landmarks(map, 0)
    }

    /// A planner whose heuristic also uses `k` landmarks (differential heuristics; see
    /// the grid module docs): `k` Dijkstra searches over the map up front, then far fewer
    /// expansions on maps with long detours. `k = 0` is [`Self::new`].
    pub fn with_landmarks(map: &GridMap, k: usize) -> Result<Self> {
        Ok(Self {
            search: Search::new(map, k)?,
        })
    }
}

impl GridPlanner for AStar {
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan> {
        let (s, t) = self.search.begin(start, goal)?;
        let Search {
            map,
            grid: g,
            nodes,
            landmarks,
        } = &mut self.search;
        let h = heuristic(landmarks.as_ref(), goal);
        let w = g.w as isize;
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
                let (cardinals, diagonals) = super::count_steps(map, &cells)?;
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
        Err(unreachable(start, goal))
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
