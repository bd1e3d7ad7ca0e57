//! `courier bench mapf`: success rate, first-solution time and SoC / lower bound of the MAPF
//! solver over MovingAI benchmark maps and scenarios. One JSON line per instance, then a summary.

use super::{emit, timed};
use crate::cmd::mapf::{load, run_solver, summary, with_big_stack};
use anyhow::{Result, bail};
use courier_core::formats::movingai;
use courier_fleet::mapf::MapfParams;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of `.map` files (every map in it, or those named by --only).
    #[arg(long)]
    pub maps: PathBuf,
    /// Folder of `.scen` files named `<map>-<kind>-<id>.scen`.
    #[arg(long)]
    pub scens: PathBuf,
    /// Agent counts, comma-separated (counts above a scenario's rows are skipped).
    #[arg(long, value_delimiter = ',', required = true)]
    pub agents: Vec<usize>,
    /// Time limit per instance, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// Scenario kind: `random`, `even`, or e.g. `10000agents`.
    #[arg(long, default_value = "random")]
    pub kind: String,
    /// Scenario ids, comma-separated (default 1..=25).
    #[arg(long, value_delimiter = ',')]
    pub scen_ids: Vec<usize>,
    /// Only these maps (names without `.map`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stop at the first solution (CPU time then measures the first solution alone).
    #[arg(long)]
    pub no_refine: bool,
    /// Count the time limit in the solver thread's CPU time instead of wall time (the runs are
    /// then comparable on a shared machine).
    #[arg(long)]
    pub cpu_clock: bool,
    /// Agents replanned together per LNS iteration (default: the library's).
    #[arg(long)]
    pub lns_neighborhood: Option<usize>,
    /// Stop refining after this many LNS iterations (0: until the time limit).
    #[arg(long, default_value_t = 0)]
    pub lns_iterations: usize,
    /// Heuristic weight of the LNS single-agent replanner (SIPP); 1 = optimal paths.
    #[arg(long, default_value_t = 3.0)]
    pub lns_weight: f64,
    /// Solver: lacam, cbs or cbs:W (see `courier mapf --help`).
    #[arg(long, default_value = "lacam")]
    pub solver: String,
}

/// Peak resident set size of this process in KiB (VmHWM), if the OS reports it.
fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub fn run(args: Args) -> Result<()> {
    let mut maps: Vec<String> = std::fs::read_dir(&args.maps)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".map"))
                .map(str::to_string)
        })
        .filter(|m| args.only.is_empty() || args.only.contains(m))
        .collect();
    maps.sort();
    if maps.is_empty() {
        bail!("no maps found in {}", args.maps.display());
    }
    let ids: Vec<usize> = if args.scen_ids.is_empty() {
        (1..=25).collect()
    } else {
        args.scen_ids.clone()
    };
    let (mut runs, mut solved, mut first_sum, mut ratio_sum, mut cpu_sum) = (0, 0, 0.0, 0.0, 0.0);
    for map in &maps {
        let map_path = args.maps.join(format!("{map}.map"));
        for &id in &ids {
            let scen_path = args.scens.join(format!("{map}-{}-{id}.scen", args.kind));
            if !scen_path.exists() {
                continue;
            }
            let rows = movingai::read_scen(&scen_path)?.entries.len();
            for &agents in &args.agents {
                if agents > rows {
                    continue;
                }
                let inst = load(&map_path, &scen_path, agents)?;
                let params = MapfParams {
                    time_limit_s: args.time_limit,
                    seed: args.seed,
                    refine: !args.no_refine,
                    cpu_clock: args.cpu_clock,
                    lns_max_iterations: args.lns_iterations,
                    lns_heuristic_weight: args.lns_weight,
                    ..Default::default()
                };
                let params = MapfParams {
                    lns_neighborhood: args.lns_neighborhood.unwrap_or(params.lns_neighborhood),
                    ..params
                };
                let solver = args.solver.clone();
                let (out, t) =
                    with_big_stack(move || timed(|| run_solver(&inst, &solver, &params)))?;
                let out = out?;
                let mut line = summary(&out, agents);
                let ratio = out.sum_of_costs as f64 / out.lower_bound.max(1) as f64;
                line["map"] = json!(map);
                line["scen"] = json!(scen_path.file_name().and_then(|n| n.to_str()));
                line["wall_s"] = json!(t.wall.as_secs_f64());
                line["cpu_s"] = json!(t.cpu.as_secs_f64());
                line["soc_over_lb"] = json!(ratio);
                line["peak_rss_kib"] = json!(peak_rss_kib());
                emit(&line);
                runs += 1;
                cpu_sum += t.cpu.as_secs_f64();
                if out.solved {
                    solved += 1;
                    first_sum += out.first_solution_s.unwrap_or(0.0);
                    ratio_sum += ratio;
                }
            }
        }
    }
    let mean = |s: f64| {
        if solved > 0 {
            s / solved as f64
        } else {
            f64::NAN
        }
    };
    emit(&json!({
        "summary": true,
        "instances": runs,
        "solved": solved,
        "success_rate": if runs > 0 { solved as f64 / runs as f64 } else { f64::NAN },
        "mean_first_solution_s": mean(first_sum),
        "mean_soc_over_lb": mean(ratio_sum),
        "mean_cpu_s": if runs > 0 { cpu_sum / runs as f64 } else { f64::NAN },
        "peak_rss_kib": peak_rss_kib(),
    }));
    Ok(())
}
