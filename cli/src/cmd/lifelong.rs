//! `courier lifelong`: lifelong warehouse operation (LoRR rules) on a LoRR instance or on a
//! seeded task stream over a MovingAI map; prints the score and per-step planning time.

use anyhow::{Context, Result, bail};
use courier_core::formats::movingai;
use courier_fleet::lifelong::{
    self, LifelongParams, MotionModel, Problem, SchedulerMethod, Simulator, StepStats,
};
use courier_fleet::lorr;
use std::path::PathBuf;

/// Prints tasks done and the last step's planning time to stderr 20 times over a run.
pub fn progress(steps: usize) -> impl FnMut(&StepStats, &Simulator) + Send {
    let every = (steps / 20).max(1);
    move |s, _| {
        if (s.step + 1) % every == 0 {
            eprintln!(
                "step {}/{steps}: {} tasks done, last step planned in {:.1} ms",
                s.step + 1,
                s.tasks_completed,
                s.plan_wall_ms
            );
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// LoRR instance `.json` (2023 or 2024 format; its map, agents and tasks files are read
    /// relative to it).
    #[arg(long, conflicts_with_all = ["map", "agents"])]
    pub instance: Option<PathBuf>,
    /// MovingAI `.map` for a generated, seeded task stream (with --agents and --seed).
    #[arg(long, requires = "agents")]
    pub map: Option<PathBuf>,
    /// Number of robots of a generated stream.
    #[arg(long)]
    pub agents: Option<usize>,
    /// Seed of the generated stream and of the planner's tie-breaking.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Share of the tasks (drawn with --seed) that get priority 1: the scheduler credits them
    /// 50 steps of travel by default (`scheduler.terms.priority_weight` in --params).
    #[arg(long, default_value_t = 0.0)]
    pub priority_share: f64,
    /// Share of the tasks (drawn with --seed) that must be finished within --due-steps of
    /// being revealed: the scheduler favours them as the deadline nears (50 steps before)
    /// and sends the nearest robots.
    #[arg(long, default_value_t = 0.0)]
    pub due_share: f64,
    /// Steps after its reveal by which a task with a deadline should be finished.
    #[arg(long, default_value_t = 300)]
    pub due_steps: u64,
    /// Steps to simulate (default: the instance's own, from simulation_time.json, else 1000).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Per-step planning budget in ms (LoRR: 1000); 0 = no time limit (reproducible runs).
    #[arg(long, default_value_t = 1000)]
    pub step_time_ms: u64,
    /// Motion model: `rotation` (LoRR: forward / turn 90° / wait) or `four` (4-connected).
    #[arg(long, default_value = "rotation", value_parser = ["rotation", "four"])]
    pub motion: String,
    /// Task assignment solver: `auto` (Hungarian for small batches, else greedy), `greedy`
    /// or `hungarian`.
    /// (default: auto, or what --params says).
    #[arg(long, value_parser = ["auto", "greedy", "hungarian"])]
    pub scheduler: Option<String>,
    /// Do not re-match robots whose task is not opened yet (only free robots get tasks).
    #[arg(long)]
    pub no_reassign: bool,
    /// Memory bound of the distance-table cache, MiB (default 1024, raised up to 2048 where
    /// that gives every robot a table).
    #[arg(long)]
    pub cache_mb: Option<usize>,
    /// Planner and scheduler parameters as JSON (`LifelongParams`: `planner`, `scheduler`,
    /// …; missing fields take their defaults); the flags above override it.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Write the metrics as JSON here (with `best_known` and `share_of_best` for a
    /// main-round instance run at its full length under the rotation model without drawn
    /// priorities or deadlines, else null).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Lifelong parameters from a JSON file (`LifelongParams`; missing fields take their
/// defaults), or the defaults.
pub fn read_params(path: Option<&std::path::Path>) -> Result<LifelongParams> {
    let Some(p) = path else {
        return Ok(LifelongParams::default());
    };
    let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing parameters {}", p.display()))
}

pub fn run(args: Args) -> Result<()> {
    let (mut problem, default_steps, year) = match (&args.instance, &args.map, args.agents) {
        (Some(path), _, _) => {
            let (p, year) = lorr::read_instance(path)
                .with_context(|| format!("reading LoRR instance {}", path.display()))?;
            eprintln!(
                "{}: {year:?} rules, {}x{} map, {} robots, {} tasks in the list",
                p.name,
                p.map.width,
                p.map.height,
                p.starts.len(),
                p.tasks.len()
            );
            let s = p.steps.unwrap_or(1000);
            (p, s, Some(year))
        }
        (None, Some(map), Some(n)) => {
            let grid = movingai::read_map(map)?;
            let name = map
                .file_stem()
                .map_or_else(|| "map".into(), |s| s.to_string_lossy().into_owned());
            (
                Problem::generate(&name, grid, n, args.seed.unwrap_or(0))?,
                1000,
                None,
            )
        }
        _ => bail!("give --instance LORR.json, or --map M.map --agents N [--seed S]"),
    };
    if args.priority_share > 0.0 || args.due_share > 0.0 {
        problem.draw_terms(
            args.priority_share,
            args.due_share,
            args.due_steps,
            args.seed.unwrap_or(0),
        )?;
    }
    let steps = args.steps.unwrap_or(default_steps);
    let mut params = read_params(args.params.as_deref())?;
    params.motion = if args.motion == "four" {
        MotionModel::FourConnected
    } else {
        MotionModel::Rotation
    };
    params.step_time_ms = (args.step_time_ms > 0).then_some(args.step_time_ms);
    if let Some(seed) = args.seed {
        params.planner.seed = seed;
    }
    if let Some(mb) = args.cache_mb {
        params.planner.cache_bytes = mb << 20;
        params.planner.cache_max_bytes = mb << 20;
    }
    if let Some(s) = &args.scheduler {
        params.scheduler.method = match s.as_str() {
            "greedy" => SchedulerMethod::Greedy,
            "hungarian" => SchedulerMethod::Hungarian,
            _ => SchedulerMethod::Auto,
        };
    }
    if args.no_reassign {
        params.scheduler.reassign_unopened = false;
    }
    let m = lifelong::run(&problem, steps, &params, progress(steps))?;
    println!(
        "{}: {} robots, {} steps ({:?}, {}): {} tasks completed, {} errands",
        m.name, m.agents, m.steps, params.motion, m.planner, m.tasks_completed, m.errands_completed
    );
    // Drawn terms make it another problem than the one the best-known result is for.
    let standing = year
        .filter(|_| problem.terms.is_empty())
        .and_then(|y| lorr::standing(y, problem.steps, params.motion, &m));
    if let Some((best, share)) = standing {
        println!("best-known result {best} ({:.1} % of it)", 100.0 * share);
    }
    println!(
        "planning per step, wall ms: mean {:.2}, p99 {:.2}, max {:.2}; thread CPU ms: mean {:.2}, p99 {:.2}, max {:.2}",
        m.plan_wall_ms.mean,
        m.plan_wall_ms.p99,
        m.plan_wall_ms.max,
        m.plan_cpu_ms.mean,
        m.plan_cpu_ms.p99,
        m.plan_cpu_ms.max
    );
    println!(
        "validated steps {}, refused plans {}, steps over budget {}, distance tables {}, max robots on Manhattan {}, one-way lane penalty {}, jam cuts {}, total {:.1} s",
        m.validated_steps,
        m.refused_plans,
        m.over_budget_steps,
        m.tables_computed,
        m.max_manhattan_robots,
        m.lane_penalty,
        m.jam_cuts,
        m.total_wall_s
    );
    if !problem.terms.is_empty() {
        let t = &m.task_times;
        println!(
            "steps from reveal to finish, tasks still open counted at their age: priority tasks {:.1} ({} done, {} open), normal tasks {:.1} ({} done, {} open)",
            t.urgent_mean(),
            t.urgent,
            t.urgent_open,
            t.normal_mean(),
            t.normal,
            t.normal_open
        );
        println!(
            "tasks with a deadline: {} done, {} of them late ({:.1} steps late on average); {} open past their deadline at the end; {} steps late in all",
            t.due,
            t.late,
            t.late_mean(),
            t.overdue,
            t.lateness()
        );
    }
    if let Some(out) = &args.out {
        let mut json = serde_json::to_value(&m)?;
        json["best_known"] = standing.map(|(best, _)| best).into();
        json["share_of_best"] = standing.map(|(_, share)| share).into();
        std::fs::write(out, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(())
}
