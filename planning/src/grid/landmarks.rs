//! Differential heuristics (landmarks): exact distances from a few landmark cells, computed
//! once per map, give the admissible and consistent bound `|d(L, goal) − d(L, n)|` on the
//! distance from `n` to the goal (triangle inequality). Taking the maximum with the octile
//! distance keeps it admissible and makes it far tighter on maps with long detours (mazes,
//! rooms), so A* and JPS expand far fewer nodes while staying exactly optimal.

use super::nodes::{Nodes, Open};
use super::padded::Padded;
use std::f64::consts::SQRT_2;

#[derive(Debug, Clone)]
pub(crate) struct Landmarks {
    k: usize,
    /// `dist[n * k + l]`: distance from landmark `l` to padded cell `n` (∞ if unreachable);
    /// one node's distances are adjacent, so a lookup touches one cache line.
    dist: Vec<f64>,
    /// The goal's row of `dist`, set per query.
    goal: Vec<f64>,
}

impl Landmarks {
    /// `k` landmarks placed by farthest-point sampling: the first is the cell farthest from
    /// the first passable cell, each next one the cell farthest from all chosen so far.
    pub(crate) fn build(grid: &Padded, k: usize) -> Self {
        let n = grid.len();
        let mut nodes = Nodes::new(n);
        let mut out = Self {
            k: 0,
            dist: Vec::new(),
            goal: Vec::new(),
        };
        let Some(first) = grid.pass.iter().position(|&p| p) else {
            return out;
        };
        let mut scratch = vec![f64::INFINITY; n];
        dijkstra(grid, &mut nodes, first, &mut scratch);
        let mut min_d = vec![f64::INFINITY; n];
        let mut next = farthest(&scratch, &min_d, first);
        let mut rows: Vec<Vec<f64>> = Vec::with_capacity(k);
        while rows.len() < k {
            let Some(l) = next else { break };
            dijkstra(grid, &mut nodes, l, &mut scratch);
            for (m, &d) in min_d.iter_mut().zip(&scratch) {
                *m = m.min(d);
            }
            rows.push(scratch.clone());
            next = farthest(&scratch, &min_d, l);
        }
        out.k = rows.len();
        out.dist = vec![f64::INFINITY; n * out.k];
        for (l, row) in rows.iter().enumerate() {
            for (i, &d) in row.iter().enumerate() {
                out.dist[i * out.k + l] = d;
            }
        }
        out.goal = vec![0.0; out.k];
        out
    }

    pub fn set_goal(&mut self, goal: usize) {
        let k = self.k;
        self.goal
            .copy_from_slice(&self.dist[goal * k..goal * k + k]);
    }

    /// The differential lower bound on the distance from `n` to the goal set last.
    #[inline]
    pub fn h(&self, n: usize) -> f64 {
        let k = self.k;
        let mut best = 0.0f64;
        for (&a, &b) in self.dist[n * k..n * k + k].iter().zip(&self.goal) {
            // A landmark that reaches neither cell says nothing; one that reaches exactly one
            // of them proves there is no path (∞ is then the right bound).
            let d = if a == f64::INFINITY && b == f64::INFINITY {
                0.0
            } else {
                (a - b).abs()
            };
            best = best.max(d);
        }
        best
    }
}

/// The cell of greatest `min_d` among cells `d` reaches (the first reached cell on ties);
/// `None` when every such cell is already at distance 0 from a landmark.
fn farthest(d: &[f64], min_d: &[f64], fallback: usize) -> Option<usize> {
    let mut best = (0.0, fallback);
    for (i, (&di, &m)) in d.iter().zip(min_d).enumerate() {
        let v = if m.is_finite() { m } else { di };
        if di.is_finite() && v > best.0 {
            best = (v, i);
        }
    }
    (best.0 > 0.0).then_some(best.1)
}

/// Exact distances from `src` to every cell under the MovingAI moves, into `out`.
fn dijkstra(grid: &Padded, nodes: &mut Nodes, src: usize, out: &mut [f64]) {
    out.iter_mut().for_each(|d| *d = f64::INFINITY);
    let w = grid.w as isize;
    let pass = &grid.pass;
    nodes.reset();
    nodes.relax(src, 0.0, src);
    nodes.open.push(Open {
        f: 0.0,
        g: 0.0,
        node: src as u32,
    });
    while let Some(Open { g, node, .. }) = nodes.open.pop() {
        let n = node as usize;
        if nodes.skip(n, g) {
            continue;
        }
        nodes.close(n);
        out[n] = g;
        let ni = n as isize;
        for (dx, dy) in [
            (1, 0),
            (-1, 0),
            (0, 1),
            (0, -1),
            (1, 1),
            (1, -1),
            (-1, 1),
            (-1, -1),
        ] {
            let m = (ni + dy * w + dx) as usize;
            if !pass[m] {
                continue;
            }
            let cost = if dx != 0 && dy != 0 {
                if !(pass[(ni + dx) as usize] && pass[(ni + dy * w) as usize]) {
                    continue;
                }
                SQRT_2
            } else {
                1.0
            };
            if nodes.relax(m, g + cost, n) {
                nodes.open.push(Open {
                    f: g + cost,
                    g: g + cost,
                    node: m as u32,
                });
            }
        }
    }
}
