//! Conflict-Based Search (Sharon et al. 2015): optimal sum of costs for small instances, used to
//! check the quality of the large-fleet solvers. The high level is a best-first search over sets
//! of constraints; each node plans every agent alone (space-time A* under that agent's
//! constraints), finds the earliest conflict between two paths and branches into two children
//! that forbid it for one agent or the other.
//!
//! With `suboptimality` = w > 1 it becomes bounded-suboptimal in the simplest way (focal search
//! on the high level over nodes with cost ≤ w · min cost, fewest conflicts first), so the cost is
//! at most w times the optimum.

use super::deadline::Deadline;
use super::instance::{Cell, Instance, NONE};
use super::validate::path_cost;
use crate::distance::DistanceTable;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Constraint {
    /// The agent may not be at `v` at step `t`.
    Vertex { v: Cell, t: u32 },
    /// The agent may not move `u` → `v` between steps `t` and `t + 1`.
    Edge { u: Cell, v: Cell, t: u32 },
}

#[derive(Debug, Clone)]
struct CtNode {
    /// Constraints added along the branch: `(agent, constraint)`, newest last.
    constraints: Vec<(u32, Constraint)>,
    paths: Vec<Vec<Cell>>,
    cost: u64,
    conflicts: usize,
}

#[derive(Debug, Clone, Copy)]
enum Conflict {
    Vertex {
        a: u32,
        b: u32,
        v: Cell,
        t: u32,
    },
    Edge {
        a: u32,
        b: u32,
        u: Cell,
        v: Cell,
        t: u32,
    },
}

/// Statistics of a CBS run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CbsStats {
    pub expanded: usize,
    pub generated: usize,
}

fn at(p: &[Cell], t: usize) -> Cell {
    p[t.min(p.len() - 1)]
}

/// All pairwise conflicts counted, and the earliest one.
fn conflicts(paths: &[Vec<Cell>]) -> (usize, Option<Conflict>) {
    let horizon = paths.iter().map(Vec::len).max().unwrap_or(0);
    let mut count = 0;
    let mut first: Option<(u32, Conflict)> = None;
    for a in 0..paths.len() {
        for b in a + 1..paths.len() {
            for t in 0..horizon {
                let (va, vb) = (at(&paths[a], t), at(&paths[b], t));
                let c = if va == vb {
                    Some(Conflict::Vertex {
                        a: a as u32,
                        b: b as u32,
                        v: va,
                        t: t as u32,
                    })
                } else if t + 1 < horizon
                    && at(&paths[a], t + 1) == vb
                    && at(&paths[b], t + 1) == va
                {
                    Some(Conflict::Edge {
                        a: a as u32,
                        b: b as u32,
                        u: va,
                        v: vb,
                        t: t as u32,
                    })
                } else {
                    None
                };
                if let Some(c) = c {
                    count += 1;
                    if first.is_none_or(|(ft, _)| (t as u32) < ft) {
                        first = Some((t as u32, c));
                    }
                    break;
                }
            }
        }
    }
    (count, first.map(|f| f.1))
}

/// Space-time A* for one agent under its constraints; `None` if impossible.
fn low_level(
    inst: &Instance,
    dist: &DistanceTable,
    agent: usize,
    cons: &[(u32, Constraint)],
    deadline: &Deadline,
) -> Option<Vec<Cell>> {
    let grid = &inst.grid;
    let (start, goal) = (inst.starts[agent], inst.goals[agent]);
    let mut vertex = HashSet::new();
    let mut edge = HashSet::new();
    let mut t_max = 0;
    let mut min_end = 0;
    for &(a, c) in cons {
        if a as usize != agent {
            continue;
        }
        match c {
            Constraint::Vertex { v, t } => {
                vertex.insert((v, t));
                t_max = t_max.max(t);
                if v == goal {
                    min_end = min_end.max(t + 1);
                }
            }
            Constraint::Edge { u, v, t } => {
                edge.insert((u, v, t));
                t_max = t_max.max(t + 1);
            }
        }
    }
    if vertex.contains(&(start, 0)) {
        return None;
    }
    let mut nodes: Vec<(Cell, u32, u32)> = vec![(start, 0, NONE)];
    let mut closed = HashSet::new();
    let mut open = BinaryHeap::new();
    let h0 = dist.get(agent, start);
    open.push(Reverse((h0.max(min_end), h0, 0u32)));
    let mut popped = 0usize;
    while let Some(Reverse((_, _, k))) = open.pop() {
        let (v, t, _) = nodes[k as usize];
        if !closed.insert((v, t.min(t_max + 1))) {
            continue;
        }
        if v == goal && t >= min_end {
            let mut path = Vec::new();
            let mut k = k;
            while k != NONE {
                path.push(nodes[k as usize].0);
                k = nodes[k as usize].2;
            }
            path.reverse();
            return Some(path);
        }
        popped += 1;
        if popped.is_multiple_of(1024) && deadline.passed() {
            return None;
        }
        for &u in grid.neighbors(v).iter().chain(std::iter::once(&v)) {
            let t1 = t + 1;
            if (u == v && t > t_max)
                || vertex.contains(&(u, t1))
                || edge.contains(&(v, u, t))
                || closed.contains(&(u, t1.min(t_max + 1)))
            {
                continue;
            }
            let hu = dist.get(agent, u);
            nodes.push((u, t1, k));
            open.push(Reverse((
                (t1 + hu).max(min_end),
                hu,
                nodes.len() as u32 - 1,
            )));
        }
    }
    None
}

/// Solves `inst` with CBS (optimal SoC when `suboptimality` is 1.0, else within that factor).
/// Returns `None` on time-out. Meant for small instances (tens of agents).
pub fn solve(
    inst: &Instance,
    dist: &DistanceTable,
    suboptimality: f64,
    deadline: &Deadline,
) -> (Option<Vec<Vec<Cell>>>, CbsStats) {
    let n = inst.num_agents();
    let mut stats = CbsStats::default();
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        match low_level(inst, dist, i, &[], deadline) {
            Some(p) => paths.push(p),
            None => return (None, stats),
        }
    }
    let cost = paths.iter().map(|p| path_cost(p)).sum();
    let (nc, _) = conflicts(&paths);
    let mut store = vec![CtNode {
        constraints: Vec::new(),
        paths,
        cost,
        conflicts: nc,
    }];
    // OPEN ordered by cost; FOCAL (cost ≤ w · min) by conflicts. With w = 1 FOCAL holds exactly
    // the cheapest nodes, so this is plain CBS with conflict-count tie-breaking.
    let mut open: BTreeSet<(u64, usize, usize)> = BTreeSet::new();
    open.insert((cost, nc, 0));
    let w = suboptimality.max(1.0);
    while let Some(&(min_cost, _, _)) = open.first() {
        if deadline.passed() {
            return (None, stats);
        }
        let bound = (min_cost as f64 * w).floor() as u64;
        let &(c, k, id) = open
            .iter()
            .take_while(|e| e.0 <= bound)
            .min_by_key(|e| (e.1, e.0, e.2))
            .expect("the first entry of OPEN is within the bound");
        open.remove(&(c, k, id));
        stats.expanded += 1;
        let node = store[id].clone();
        let Some(conf) = conflicts(&node.paths).1 else {
            return (Some(node.paths), stats);
        };
        let branches = match conf {
            Conflict::Vertex { a, b, v, t } => [
                (a, Constraint::Vertex { v, t }),
                (b, Constraint::Vertex { v, t }),
            ],
            Conflict::Edge { a, b, u, v, t } => [
                (a, Constraint::Edge { u, v, t }),
                (b, Constraint::Edge { u: v, v: u, t }),
            ],
        };
        for (agent, c) in branches {
            let mut child = node.clone();
            child.constraints.push((agent, c));
            let Some(p) = low_level(inst, dist, agent as usize, &child.constraints, deadline)
            else {
                continue;
            };
            child.cost = child.cost - path_cost(&child.paths[agent as usize]) + path_cost(&p);
            child.paths[agent as usize] = p;
            child.conflicts = conflicts(&child.paths).0;
            stats.generated += 1;
            let cid = store.len();
            open.insert((child.cost, child.conflicts, cid));
            store.push(child);
        }
        store[id].paths = Vec::new(); // expanded: only its constraints are needed no more
    }
    (None, stats)
}
