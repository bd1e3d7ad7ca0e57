//! Checks a MAPF solution against the MovingAI benchmark rules and computes its costs.
//!
//! Rules: `paths[i][0]` is agent `i`'s start and its last cell its goal; each step is a wait or a
//! move to a passable 4-neighbour; no two agents in one cell at one step (an agent whose path has
//! ended stays at its goal forever); no two agents swap cells in one step. An agent's cost is the
//! step of its final arrival at its goal (trailing waits at the goal cost nothing).

use super::instance::{Cell, Instance, NONE};
use crate::error::{FleetError, Result};

/// Costs of a valid solution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Costs {
    /// Sum over agents of the step of final arrival.
    pub sum_of_costs: u64,
    /// Largest arrival step.
    pub makespan: u64,
}

/// The cost of one path: the step of its final arrival at its last cell.
pub fn path_cost(path: &[Cell]) -> u64 {
    let Some(&goal) = path.last() else { return 0 };
    path.iter().rposition(|&v| v != goal).map_or(0, |k| k + 1) as u64
}

/// Checks `paths` (one per agent, cell ids) against `inst`; returns the costs or an error that
/// names the agent(s), step and cell of the first broken rule.
pub fn validate(inst: &Instance, paths: &[Vec<Cell>]) -> Result<Costs> {
    let g = &inst.grid;
    let n = inst.num_agents();
    let bad = |m: String| Err(FleetError::Solution(m));
    if paths.len() != n {
        return bad(format!("{} paths for {n} agents", paths.len()));
    }
    let xy = |v: Cell| g.xy(v);
    let mut horizon = 0;
    for (i, p) in paths.iter().enumerate() {
        let (Some(&first), Some(&last)) = (p.first(), p.last()) else {
            return bad(format!("agent {i} has an empty path"));
        };
        if first != inst.starts[i] {
            return bad(format!(
                "agent {i} starts at {:?}, not at its start {:?}",
                xy(first),
                xy(inst.starts[i])
            ));
        }
        if last != inst.goals[i] {
            return bad(format!(
                "agent {i} ends at {:?}, not at its goal {:?}",
                xy(last),
                xy(inst.goals[i])
            ));
        }
        for t in 0..p.len() {
            if !g.is_passable(p[t]) {
                return bad(format!(
                    "agent {i} at step {t} is on a blocked or unknown cell"
                ));
            }
            if t > 0 && !g.is_step(p[t - 1], p[t]) {
                return bad(format!(
                    "agent {i} jumps from {:?} to {:?} at step {t}",
                    xy(p[t - 1]),
                    xy(p[t])
                ));
            }
        }
        horizon = horizon.max(p.len());
    }
    let at = |i: usize, t: usize| paths[i][t.min(paths[i].len() - 1)];
    // occ[v] = agent at v at the current step; prev[v] = agent at v at the previous step.
    let mut occ = vec![NONE; g.size()];
    let mut prev = vec![NONE; g.size()];
    for t in 0..horizon {
        for i in 0..n {
            let v = at(i, t) as usize;
            if occ[v] != NONE {
                return bad(format!(
                    "vertex conflict: agents {} and {i} both at {:?} at step {t}",
                    occ[v],
                    xy(v as Cell)
                ));
            }
            occ[v] = i as u32;
        }
        if t > 0 {
            for i in 0..n {
                let (u, v) = (at(i, t - 1), at(i, t));
                if u == v {
                    continue;
                }
                let j = prev[v as usize];
                if j != NONE && j as usize != i && at(j as usize, t) == u {
                    return bad(format!(
                        "edge conflict: agents {i} and {j} swap {:?} and {:?} between steps {} and {t}",
                        xy(u),
                        xy(v),
                        t - 1
                    ));
                }
            }
            for i in 0..n {
                prev[at(i, t - 1) as usize] = NONE;
            }
        }
        std::mem::swap(&mut occ, &mut prev);
    }
    let mut costs = Costs {
        sum_of_costs: 0,
        makespan: 0,
    };
    for p in paths {
        let c = path_cost(p);
        costs.sum_of_costs += c;
        costs.makespan = costs.makespan.max(c);
    }
    Ok(costs)
}
