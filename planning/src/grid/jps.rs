//! Jump point search (Harabor & Grastien 2011) in the no-corner-cutting form used by the
//! MovingAI benchmarks.
//!
//! Canonical paths go diagonal first, then straight. With corner cutting forbidden a diagonal
//! move from a cell needs both orthogonal neighbours free, so:
//! - a diagonal step has no forced neighbours: its successors are the two straight directions
//!   and the diagonal itself;
//! - a straight step east into `n` forces the cell north of `n` when the cell north of the
//!   previous cell is blocked (that cell could not be reached diagonally from the previous
//!   cell), and with it the north-east diagonal. Likewise for the other sides and directions;
//! - jumping stops at the goal, at a cell with a forced neighbour, or (diagonally) at a cell
//!   from which a straight jump finds such a cell.

use super::nodes::{Nodes, Open};
use super::padded::Padded;
use super::search::{Search, heuristic, unreachable};
use super::{GridPlan, GridPlanner};
use crate::error::Result;
use courier_core::GridMap;
use courier_core::path::Cell;
use std::f64::consts::SQRT_2;

/// Jump point search on one map; keep it and call [`GridPlanner::plan`] for each query.
#[derive(Debug, Clone)]
pub struct Jps {
    search: Search,
}

impl Jps {
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

/// Moves straight from `i` by `d` (±1 or ±row) until the goal, a blocked cell (→ `None`) or a
/// cell with a forced neighbour on either side (`side` is the perpendicular offset).
#[inline]
fn jump_straight(pass: &[bool], mut i: isize, d: isize, side: isize, goal: isize) -> Option<isize> {
    loop {
        let n = i + d;
        if !pass[n as usize] {
            return None;
        }
        if n == goal
            || (pass[(n + side) as usize] && !pass[(i + side) as usize])
            || (pass[(n - side) as usize] && !pass[(i - side) as usize])
        {
            return Some(n);
        }
        i = n;
    }
}

/// Moves diagonally from `i` by (`dx`, `dyw` = dy · row) until the goal, a move that would cut
/// a corner or enter a blocked cell (→ `None`), or a cell from which a straight jump along
/// either component finds a jump point.
#[inline]
fn jump_diagonal(
    pass: &[bool],
    w: isize,
    mut i: isize,
    dx: isize,
    dyw: isize,
    goal: isize,
) -> Option<isize> {
    loop {
        let n = i + dx + dyw;
        if !(pass[(i + dx) as usize] && pass[(i + dyw) as usize] && pass[n as usize]) {
            return None;
        }
        if n == goal
            || jump_straight(pass, n, dx, w, goal).is_some()
            || jump_straight(pass, n, dyw, 1, goal).is_some()
        {
            return Some(n);
        }
        i = n;
    }
}

impl GridPlanner for Jps {
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan> {
        let (s, t) = self.search.begin(start, goal)?;
        let Search {
            grid: g,
            nodes,
            landmarks,
            ..
        } = &mut self.search;
        let pass = &g.pass[..];
        let w = g.w as isize;
        let h = heuristic(landmarks.as_ref(), goal);
        let mut expansions = 0;
        while let Some(Open { g: gn, node, .. }) = nodes.open.pop() {
            let n = node as usize;
            if nodes.skip(n, gn) {
                continue;
            }
            nodes.close(n);
            expansions += 1;
            if n == t {
                return Ok(finish(g, nodes, s, t, expansions));
            }
            let (x, y) = g.xy(n);
            let (px, py) = g.xy(nodes.parent(n));
            let dx = (x as isize - px as isize).signum();
            let dy = (y as isize - py as isize).signum();
            // Successor directions (dx, dy) after pruning.
            let mut dirs = [(0isize, 0isize); 8];
            let mut k = 0;
            let mut add = |d: (isize, isize)| {
                dirs[k] = d;
                k += 1;
            };
            let ni = n as isize;
            match (dx, dy) {
                (0, 0) => {
                    for d in [
                        (1, 0),
                        (-1, 0),
                        (0, 1),
                        (0, -1),
                        (1, 1),
                        (1, -1),
                        (-1, 1),
                        (-1, -1),
                    ] {
                        add(d);
                    }
                }
                (dx, 0) => {
                    add((dx, 0));
                    for s in [1, -1] {
                        if pass[(ni + s * w) as usize] && !pass[(ni - dx + s * w) as usize] {
                            add((0, s));
                            add((dx, s));
                        }
                    }
                }
                (0, dy) => {
                    add((0, dy));
                    for s in [1, -1] {
                        if pass[(ni + s) as usize] && !pass[(ni - dy * w + s) as usize] {
                            add((s, 0));
                            add((s, dy));
                        }
                    }
                }
                (dx, dy) => {
                    add((dx, 0));
                    add((0, dy));
                    add((dx, dy));
                }
            }
            let ti = t as isize;
            for &(ddx, ddy) in &dirs[..k] {
                let found = match (ddx, ddy) {
                    (ddx, 0) => jump_straight(pass, ni, ddx, w, ti),
                    (0, ddy) => jump_straight(pass, ni, ddy * w, 1, ti),
                    (ddx, ddy) => jump_diagonal(pass, w, ni, ddx, ddy * w, ti),
                };
                let Some(j) = found else { continue };
                let j = j as usize;
                let (jx, jy) = g.xy(j);
                let steps = f64::from(jx.abs_diff(x).max(jy.abs_diff(y)));
                let ng = gn
                    + if ddx != 0 && ddy != 0 {
                        SQRT_2 * steps
                    } else {
                        steps
                    };
                if nodes.relax(j, ng, n) {
                    let hj = h(j, jx, jy);
                    if hj == f64::INFINITY {
                        continue; // the landmarks prove the goal unreachable from here
                    }
                    nodes.open.push(Open {
                        f: ng + hj,
                        g: ng,
                        node: j as u32,
                    });
                }
            }
        }
        Err(unreachable(start, goal))
    }
}

/// Expands the jump points from `s` to `t` into cells (each segment is a straight or a
/// diagonal run) and counts the steps.
fn finish(g: &Padded, nodes: &Nodes, s: usize, t: usize, expansions: u64) -> GridPlan {
    let mut points = vec![t];
    let mut n = t;
    while n != s {
        n = nodes.parent(n);
        points.push(n);
    }
    points.reverse();
    let (mut cardinals, mut diagonals) = (0, 0);
    let mut cells = Vec::with_capacity(points.len() * 4);
    cells.push(g.cell(s));
    for p in points.windows(2) {
        let (ax, ay) = g.xy(p[0]);
        let (bx, by) = g.xy(p[1]);
        let (dx, dy) = (
            (i64::from(bx) - i64::from(ax)).signum(),
            (i64::from(by) - i64::from(ay)).signum(),
        );
        // Each segment is one straight or one diagonal run (the jumps checked every move).
        let steps = ax.abs_diff(bx).max(ay.abs_diff(by));
        if dx != 0 && dy != 0 {
            diagonals += steps;
        } else {
            cardinals += steps;
        }
        for k in 1..=i64::from(steps) {
            cells.push(Cell::new(
                (i64::from(ax) + k * dx) as u32,
                (i64::from(ay) + k * dy) as u32,
            ));
        }
    }
    GridPlan {
        cells,
        cardinals,
        diagonals,
        expansions,
    }
}
