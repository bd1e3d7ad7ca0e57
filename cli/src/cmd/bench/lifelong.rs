//! `courier bench lifelong`: per-step planning time (wall and thread CPU) and tasks completed
//! of lifelong operation on LoRR instances, as JSON lines (one per instance, then a summary).
//! A main-round instance run at its full length under the rotation model is also set against
//! its best-known result (`best_known`, `share_of_best`; null otherwise).

use anyhow::{Context, Result};
use courier_fleet::lifelong::{self, LifelongParams};
use courier_fleet::lorr;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// LoRR instance `.json` files (2023 or 2024).
    #[arg(required = true)]
    pub instances: Vec<PathBuf>,
    /// Steps per instance (default: each instance's own).
    #[arg(long)]
    pub steps: Option<usize>,
    /// Per-step budget in ms (0 = none).
    #[arg(long, default_value_t = 1000)]
    pub step_time_ms: u64,
    /// Planner and scheduler parameters as JSON (`LifelongParams`, as `courier lifelong
    /// --params`; missing fields take their defaults); `--step-time-ms` overrides its budget.
    #[arg(long)]
    pub params: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let params = LifelongParams {
        step_time_ms: (args.step_time_ms > 0).then_some(args.step_time_ms),
        ..crate::cmd::lifelong::read_params(args.params.as_deref())?
    };
    let (mut tasks, mut steps_total, mut cpu_sum) = (0usize, 0usize, 0.0f64);
    let mut shares = Vec::new();
    for path in &args.instances {
        let (p, year) = lorr::read_instance(path)
            .with_context(|| format!("reading LoRR instance {}", path.display()))?;
        let steps = args.steps.or(p.steps).unwrap_or(1000);
        eprintln!("{}: {steps} steps", path.display());
        let m = lifelong::run(&p, steps, &params, crate::cmd::lifelong::progress(steps))?;
        let standing = lorr::standing(year, p.steps, params.motion, &m);
        if let Some((_, share)) = standing {
            shares.push(share);
        }
        tasks += m.tasks_completed;
        steps_total += m.steps;
        cpu_sum += m.plan_cpu_ms.mean * m.steps as f64;
        super::emit(&json!({
            "bench": "lifelong",
            "instance": m.name,
            "rules": format!("{year:?}"),
            "agents": m.agents,
            "planner": m.planner,
            "steps": m.steps,
            "tasks_completed": m.tasks_completed,
            "errands_completed": m.errands_completed,
            "plan_wall_ms": m.plan_wall_ms,
            "plan_cpu_ms": m.plan_cpu_ms,
            "over_budget_steps": m.over_budget_steps,
            "refused_plans": m.refused_plans,
            "jam_cuts": m.jam_cuts,
            "best_known": standing.map(|(best, _)| best),
            "share_of_best": standing.map(|(_, share)| share),
        }));
    }
    super::emit(&json!({
        "bench": "lifelong",
        "summary": true,
        "instances": args.instances.len(),
        "steps": steps_total,
        "tasks_completed": tasks,
        "plan_cpu_ms_mean": if steps_total > 0 { cpu_sum / steps_total as f64 } else { 0.0 },
        // Over the instances run at full length that have a best-known result.
        "share_of_best_mean": (!shares.is_empty())
            .then(|| shares.iter().sum::<f64>() / shares.len() as f64),
    }));
    Ok(())
}
