//! One-shot multi-agent path finding (MAPF) on 4-connected grids, MovingAI benchmark rules:
//! each step an agent moves to a 4-neighbour or waits; no two agents in one cell at one step; no
//! two agents swap cells; an agent's cost is the step of its final arrival; the score is the sum
//! of costs (SoC).
//!
//! - [`solve`]: the large-fleet solver. [`lacam`] (search over configurations with [`Pibt`] as
//!   the successor generator; complete) finds a first solution, then [`lns`] (large
//!   neighbourhood search with [`sipp`]) lowers the SoC until the time limit.
//! - [`cbs::solve`]: optimal (or bounded-suboptimal) CBS for small instances.
//! - [`validate()`]: checks any solution against the rules; [`solve`] runs it before returning.
//! - [`DistanceTable`] and [`Pibt`] are public building blocks for other planners (lifelong).
//!
//! ```
//! use courier_core::maps::GridMap;
//! use courier_fleet::mapf::{self, Instance, MapfParams};
//! let map = GridMap::new(3, 3, vec![true; 9]);
//! // Two agents swap the ends of the middle row.
//! let inst = Instance::new(&map, &[(0, 1), (2, 1)], &[(2, 1), (0, 1)]).unwrap();
//! let out = mapf::solve(&inst, &MapfParams { time_limit_s: 1.0, ..Default::default() }).unwrap();
//! assert!(out.solved);
//! assert!(out.sum_of_costs >= out.lower_bound);
//! ```

pub mod cbs;
pub mod deadline;
pub mod instance;
pub mod lacam;
pub mod lns;
pub mod pibt;
pub mod sipp;
pub mod validate;

pub use deadline::Deadline;
// Distance tables live in `crate::distance` (shared with lifelong); re-exported for MAPF users.
pub use crate::distance::{DistanceTable, UNREACHABLE, bfs_from};
pub use instance::{Cell, Grid, Instance, NONE};
pub use pibt::{AgentDistances, Pibt};
pub use validate::{Costs, path_cost, validate};

use crate::error::{FleetError, Result};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Parameters of [`solve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapfParams {
    /// Wall-clock budget in seconds for the whole run (distance tables, search, refinement).
    /// Default 10.
    pub time_limit_s: f64,
    /// Count `time_limit_s` in this thread's CPU time instead of wall time (for benchmarks on a
    /// shared machine). Default false.
    pub cpu_clock: bool,
    /// Seed of every random choice. Default 0.
    pub seed: u64,
    /// Refine the first solution with LNS while time remains. Default true.
    pub refine: bool,
    /// Agents replanned together per LNS iteration; 0: adaptive (sizes 1, 2, 4, 8 picked by
    /// ALNS weights rewarding SoC gain per search work). Default 0.
    pub lns_neighborhood: usize,
    /// Stop refining after this many LNS iterations (0: refine until the time limit). With a
    /// time limit that is not reached, the result then depends only on the seed. Default 0.
    pub lns_max_iterations: usize,
    /// Heuristic weight of the LNS replanner (SIPP): 1 gives optimal single-agent paths;
    /// larger values expand fewer states for possibly longer paths. Default 3 (2 was measured
    /// better than 1 at 10 s on warehouse-10-20-10-2-1, random-32-32-20 and
    /// warehouse-20-40-10-2-2; with the adaptive neighbourhood size, 3 beat 2 on
    /// warehouse-10-20-10-2-1 and tied on the other two).
    pub lns_heuristic_weight: f64,
}

impl Default for MapfParams {
    fn default() -> Self {
        Self {
            time_limit_s: 10.0,
            cpu_clock: false,
            seed: 0,
            refine: true,
            lns_neighborhood: 0,
            lns_max_iterations: 0,
            lns_heuristic_weight: 3.0,
        }
    }
}

/// What [`solve`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct MapfOutcome {
    /// True iff `paths` is a valid solution (checked by [`validate()`]).
    pub solved: bool,
    /// One path per agent (cell ids), each ending at the agent's final arrival; empty unless
    /// solved.
    pub paths: Vec<Vec<Cell>>,
    /// Wall time of the whole run.
    pub runtime_s: f64,
    /// Wall time until the first solution (None if none).
    pub first_solution_s: Option<f64>,
    /// SoC of the first solution.
    pub first_sum_of_costs: u64,
    pub sum_of_costs: u64,
    pub makespan: u64,
    /// Sum over agents of the BFS distance start → goal.
    pub lower_bound: u64,
    /// LaCAM configurations stored.
    pub lacam_nodes: usize,
    pub lns_iterations: usize,
    /// Adaptive neighbourhood size: LNS iterations run with 1, 2, 4, … agents.
    pub lns_size_iterations: Vec<usize>,
}

/// What every solver starts with: the parameters checked, the clock started, the distance
/// tables, and an unsolved outcome carrying the lower bound.
fn begin<'a>(
    inst: &'a Instance,
    params: &MapfParams,
) -> Result<(Instant, Deadline, DistanceTable<'a>, MapfOutcome)> {
    if !(params.time_limit_s.is_finite() && params.time_limit_s >= 0.0) {
        return Err(FleetError::Param(format!(
            "time_limit_s must be a finite non-negative number, got {}",
            params.time_limit_s
        )));
    }
    let t0 = Instant::now();
    let deadline = if params.cpu_clock {
        Deadline::cpu_in(params.time_limit_s)
    } else {
        Deadline::wall_in(params.time_limit_s)
    };
    let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
    let lower_bound = (0..inst.num_agents())
        .map(|i| dist.get(i, inst.starts[i]) as u64)
        .sum();
    let out = MapfOutcome {
        solved: false,
        paths: Vec::new(),
        runtime_s: 0.0,
        first_solution_s: None,
        first_sum_of_costs: 0,
        sum_of_costs: 0,
        makespan: 0,
        lower_bound,
        lacam_nodes: 0,
        lns_iterations: 0,
        lns_size_iterations: Vec::new(),
    };
    Ok((t0, deadline, dist, out))
}

/// Solves `inst` within `params.time_limit_s`: LaCAM for a first solution, then LNS refinement.
/// A time-out gives `solved = false` (never an invalid solution). Errors only on bad
/// parameters (the instance was checked when it was built) or, as a safety net, if a solver
/// produced an invalid solution.
pub fn solve(inst: &Instance, params: &MapfParams) -> Result<MapfOutcome> {
    let (t0, deadline, dist, mut out) = begin(inst, params)?;
    let (configs, stats) = lacam::solve(inst, &dist, params.seed, &deadline);
    out.lacam_nodes = stats.nodes;
    if let Some(configs) = configs {
        let mut paths = lacam::configs_to_paths(&configs, &inst.goals);
        drop(configs);
        out.first_solution_s = Some(t0.elapsed().as_secs_f64());
        let mut costs = validate(inst, &paths)?;
        out.first_sum_of_costs = costs.sum_of_costs;
        if params.refine && !deadline.passed() {
            let mut lns = lns::Lns::new(inst, &dist, paths.clone(), params.seed);
            lns.neighborhood = params.lns_neighborhood;
            lns.max_iterations = params.lns_max_iterations;
            lns.set_heuristic_weight(params.lns_heuristic_weight);
            let stats = lns.run(&deadline);
            out.lns_iterations = stats.iterations;
            out.lns_size_iterations = stats.size_iterations.to_vec();
            let refined = lns.into_paths();
            // Safety net: keep the first solution should refinement ever break a rule.
            if let Ok(c) = validate(inst, &refined) {
                (paths, costs) = (refined, c);
            }
        }
        out.solved = true;
        out.sum_of_costs = costs.sum_of_costs;
        out.makespan = costs.makespan;
        out.paths = paths;
    }
    out.runtime_s = t0.elapsed().as_secs_f64();
    Ok(out)
}

/// Solves `inst` with CBS, optimal (`w` = 1) or bounded-suboptimal with factor `w` ≥ 1, for
/// checking solution quality on small instances. Same contract as [`solve`].
pub fn solve_cbs(inst: &Instance, params: &MapfParams, w: f64) -> Result<MapfOutcome> {
    if !(w.is_finite() && w >= 1.0) {
        return Err(FleetError::Param(format!(
            "the suboptimality factor must be >= 1, got {w}"
        )));
    }
    let (t0, deadline, dist, mut out) = begin(inst, params)?;
    if let (Some(paths), _) = cbs::solve(inst, &dist, w, &deadline) {
        let c = validate(inst, &paths)?;
        out.first_solution_s = Some(t0.elapsed().as_secs_f64());
        (out.solved, out.paths) = (true, paths);
        (out.sum_of_costs, out.first_sum_of_costs, out.makespan) =
            (c.sum_of_costs, c.sum_of_costs, c.makespan);
    }
    out.runtime_s = t0.elapsed().as_secs_f64();
    Ok(out)
}
