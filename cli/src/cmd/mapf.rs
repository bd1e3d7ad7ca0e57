//! `courier mapf`: one-shot multi-agent path finding on a MovingAI map and scenario.

use anyhow::{Context, Result, bail};
use courier_core::formats::movingai;
use courier_fleet::mapf::{self, Instance, MapfOutcome, MapfParams};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovingAI `.map` file.
    #[arg(long)]
    pub map: PathBuf,
    /// MovingAI `.scen` file; its map column is ignored, its width and height must match.
    #[arg(long)]
    pub scen: PathBuf,
    /// Number of agents: the first N rows of the scenario.
    #[arg(long)]
    pub agents: usize,
    /// Time limit in seconds (wall clock, whole run).
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Seed of every random choice (the first solution is identical for a given seed).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Solver: `lacam` (LaCAM + LNS refinement, for any size) or `cbs` (optimal, small only;
    /// `cbs:W` is bounded-suboptimal within factor W, e.g. `cbs:1.1`).
    #[arg(long, default_value = "lacam")]
    pub solver: String,
    /// Stop at the first solution (no LNS refinement).
    #[arg(long)]
    pub no_refine: bool,
    /// Count the time limit in the solver thread's CPU time instead of wall time (for
    /// benchmarks on a shared machine).
    #[arg(long)]
    pub cpu_clock: bool,
    /// Agents replanned together per LNS iteration (0: adaptive, sizes 1 to 8).
    #[arg(long, default_value_t = 0)]
    pub lns_neighborhood: usize,
    /// Stop refining after this many LNS iterations (0: until the time limit). With a time
    /// limit that is not reached, the refined result then depends only on the seed.
    #[arg(long, default_value_t = 0)]
    pub lns_iterations: usize,
    /// Heuristic weight of the LNS single-agent replanner (SIPP); 1 = optimal paths.
    #[arg(long, default_value_t = 3.0)]
    pub lns_weight: f64,
    /// Write the result (with paths) as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Loads the first `agents` agents of a scenario on a map (errors name the file and row).
pub fn load(map: &PathBuf, scen: &PathBuf, agents: usize) -> Result<Instance> {
    let grid = movingai::read_map(map)?;
    let sc = movingai::read_scen(scen)?;
    Instance::from_scen(&grid, &sc, agents).with_context(|| format!("scenario {}", scen.display()))
}

/// Runs `f` on a thread with a large stack (PIBT recurses once per pushed agent).
pub fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(f)?
        .join()
        .map_err(|_| anyhow::anyhow!("the solver thread panicked"))
}

/// Solves with the chosen solver; CBS results are validated like the others.
pub fn run_solver(inst: &Instance, solver: &str, params: &MapfParams) -> Result<MapfOutcome> {
    let (name, w) = solver.split_once(':').unwrap_or((solver, "1"));
    let w: f64 = w
        .parse()
        .ok()
        .filter(|w: &f64| w.is_finite() && *w >= 1.0)
        .with_context(|| format!("bad suboptimality factor in {solver:?}: need a number >= 1"))?;
    match name {
        "lacam" => Ok(mapf::solve(inst, params)?),
        "cbs" => Ok(mapf::solve_cbs(inst, params, w)?),
        other => bail!("unknown solver {other:?} (expected lacam or cbs)"),
    }
}

/// The result JSON without paths.
pub fn summary(out: &MapfOutcome, agents: usize) -> serde_json::Value {
    json!({
        "solved": out.solved,
        "agents": agents,
        "runtime_s": out.runtime_s,
        "first_solution_s": out.first_solution_s,
        "first_sum_of_costs": out.first_sum_of_costs,
        "sum_of_costs": out.sum_of_costs,
        "makespan": out.makespan,
        "lower_bound": out.lower_bound,
        "lacam_nodes": out.lacam_nodes,
        "lns_iterations": out.lns_iterations,
        "lns_size_iterations": out.lns_size_iterations,
    })
}

pub fn run(args: Args) -> Result<()> {
    let inst = load(&args.map, &args.scen, args.agents)?;
    let params = MapfParams {
        time_limit_s: args.time_limit,
        seed: args.seed,
        refine: !args.no_refine,
        cpu_clock: args.cpu_clock,
        lns_neighborhood: args.lns_neighborhood,
        lns_max_iterations: args.lns_iterations,
        lns_heuristic_weight: args.lns_weight,
    };
    let solver = args.solver.clone();
    let (inst, out) = with_big_stack(move || {
        let out = run_solver(&inst, &solver, &params);
        (inst, out)
    })?;
    let out = out?;
    let mut value = summary(&out, args.agents);
    println!("{value}");
    if let Some(path) = &args.out {
        let paths: Vec<Vec<[u32; 2]>> = out
            .paths
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&v| {
                        let (x, y) = inst.grid.xy(v);
                        [x, y]
                    })
                    .collect()
            })
            .collect();
        value["paths"] = json!(paths);
        std::fs::write(path, value.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
