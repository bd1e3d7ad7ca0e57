//! `courier bench plan-grid --map M --scen S`: speed and exactness of Courier's grid planners
//! against a plain A* on the `pathfinding` crate, on the same queries in the same run. Each
//! planner runs the queries twice: once timing each query (p99, expansions, exactness), once as
//! a single timed batch (the mean, free of per-query clock overhead).

use super::{emit, timed};
use crate::cmd::plan::{GridAlgo, load, queries};
use anyhow::Result;
use courier_planning::grid::{ContractionHierarchy, GridPlanner, HubLabels, reference};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// MovingAI `.map` file.
    #[arg(long)]
    pub map: PathBuf,
    /// MovingAI `.scen` file for that map.
    #[arg(long)]
    pub scen: PathBuf,
    /// Run the (slow) baseline on at most this many queries, spread evenly over the scenario
    /// (every k-th); 0 = all. Speed-ups compare the planners on exactly those queries.
    #[arg(long, default_value_t = 2000)]
    pub baseline_max: usize,
    /// Courier planners to measure, each `jps` or `astar`, with `-lm` for landmarks, `ch`
    /// (contraction hierarchy) or `hl` (hub labels over it); their preprocessing time and
    /// memory are reported separately.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "jps-lm,hl,ch,jps,astar-lm,astar"
    )]
    pub planners: Vec<String>,
    /// Time the batch of queries this many times (each planner and the baseline) and take
    /// the median mean; more repeats steady small maps whose whole batch takes a millisecond.
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Landmarks for the `-lm` planners.
    #[arg(long, default_value_t = 16)]
    pub landmarks: usize,
}

/// Per-query CPU times (µs, each query timed alone) and mismatch count of one planner.
struct Run {
    cpu_us: Vec<f64>,
    wall_us: Vec<f64>,
    expansions: Vec<u64>,
    mismatches: usize,
    max_error: f64,
}

/// Summary of `r` over queries `idx`; `batch_mean` is the mean CPU µs per query from timing
/// the whole batch at once (free of the per-query clock overhead, which matters for queries of
/// a few µs), reported as `mean_cpu_us`.
fn stats(
    name: &str,
    r: &Run,
    idx: &[usize],
    batch_mean: f64,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut cpu: Vec<f64> = idx.iter().map(|&i| r.cpu_us[i]).collect();
    let n = cpu.len().max(1) as f64;
    let total: f64 = cpu.iter().sum();
    let mean_each = total / n;
    cpu.sort_by(f64::total_cmp);
    let p99 = cpu
        .get(((cpu.len() as f64 * 0.99).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or(0.0);
    let wall_mean = idx.iter().map(|&i| r.wall_us[i]).sum::<f64>() / n;
    let exp_mean = idx.iter().map(|&i| r.expansions[i] as f64).sum::<f64>() / n;
    let mut v = json!({
        "planner": name,
        "queries": idx.len(),
        "qps_cpu": if batch_mean > 0.0 { 1e6 / batch_mean } else { 0.0 },
        "mean_cpu_us": batch_mean,
        "mean_cpu_us_timed_each": mean_each,
        "p99_cpu_us": p99,
        "mean_wall_us": wall_mean,
        "mean_expansions": exp_mean,
        "mismatches": r.mismatches,
        "max_abs_error": r.max_error,
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

/// Mean CPU µs per query of running `plan` on every query of `idx` in one timed batch; the
/// median over `repeat` batches.
fn batch(
    plan: &mut dyn FnMut(usize) -> Result<(f64, u64)>,
    idx: &[usize],
    repeat: usize,
) -> Result<f64> {
    let mut means = Vec::with_capacity(repeat.max(1));
    for _ in 0..repeat.max(1) {
        let (res, t) = timed(|| -> Result<()> {
            for &i in idx {
                plan(i)?;
            }
            Ok(())
        });
        res?;
        means.push(t.cpu.as_secs_f64() * 1e6 / idx.len().max(1) as f64);
    }
    means.sort_by(f64::total_cmp);
    Ok(means[means.len() / 2])
}

pub fn run(args: Args) -> Result<()> {
    let (map, scen) = load(&args.map, &args.scen)?;
    let qs = queries(&scen);
    let n = qs.len();
    let all: Vec<usize> = (0..n).collect();
    let stride = if args.baseline_max == 0 || n <= args.baseline_max {
        1
    } else {
        n.div_ceil(args.baseline_max)
    };
    let sample: Vec<usize> = (0..n).step_by(stride).collect();
    let capped = sample.len() < n;
    let measure =
        |plan: &mut dyn FnMut(usize) -> Result<(f64, u64)>, idx: &[usize]| -> Result<Run> {
            let mut r = Run {
                cpu_us: vec![0.0; n],
                wall_us: vec![0.0; n],
                expansions: vec![0; n],
                mismatches: 0,
                max_error: 0.0,
            };
            let bar = indicatif::ProgressBar::new(idx.len() as u64);
            for &i in idx {
                let (res, t) = timed(|| plan(i));
                let (len, exp) = res?;
                let err = (len - scen.entries[i].optimal_length).abs();
                r.max_error = r.max_error.max(err);
                r.mismatches += usize::from(err > 1e-6);
                r.cpu_us[i] = t.cpu.as_secs_f64() * 1e6;
                r.wall_us[i] = t.wall.as_secs_f64() * 1e6;
                r.expansions[i] = exp;
                bar.inc(1);
            }
            bar.finish_and_clear();
            Ok(r)
        };
    let file = args
        .map
        .file_name()
        .map(|f| f.to_string_lossy().into_owned());
    let mut ours = Vec::new();
    for name in &args.planners {
        let (algo, lm) = match name.as_str() {
            "jps" => (GridAlgo::Jps, 0),
            "jps-lm" => (GridAlgo::Jps, args.landmarks),
            "astar" => (GridAlgo::Astar, 0),
            "astar-lm" => (GridAlgo::Astar, args.landmarks),
            "ch" => (GridAlgo::Ch, 0),
            "hl" => (GridAlgo::Hl, 0),
            other => {
                anyhow::bail!("unknown planner {other:?} (jps, jps-lm, astar, astar-lm, ch, hl)")
            }
        };
        let mut ch_stats = serde_json::Value::Null;
        let (p, setup) = timed(|| -> Result<Box<dyn GridPlanner>> {
            if algo == GridAlgo::Ch {
                let ch = ContractionHierarchy::new(&map)?;
                let s = ch.stats();
                ch_stats = json!({"nodes": s.nodes, "up_edges": s.up_edges, "unpacked_moves": s.unpacked_moves,
                    "shortcuts": s.shortcuts, "memory_mb": s.memory_bytes as f64 / 1e6});
                Ok(Box::new(ch))
            } else if algo == GridAlgo::Hl {
                let (ch, t_ch) = timed(|| ContractionHierarchy::new(&map));
                let ch = ch?;
                let (hl, t_hl) = timed(|| HubLabels::from_ch(ch));
                let hl = hl?;
                let c = hl.hierarchy().stats();
                let s = hl.stats();
                ch_stats = json!({"nodes": s.nodes, "up_edges": c.up_edges,
                    "shortcuts": c.shortcuts, "ch_cpu_s": t_ch.cpu.as_secs_f64(),
                    "labels_cpu_s": t_hl.cpu.as_secs_f64(), "label_entries": s.entries,
                    "mean_label": s.mean_label, "max_label": s.max_label,
                    "memory_mb": s.memory_bytes as f64 / 1e6});
                Ok(Box::new(hl))
            } else {
                algo.planner(&map, lm)
            }
        });
        let mut p = p?;
        let mut run_one = |i: usize| {
            let plan = p.plan(qs[i].0, qs[i].1)?;
            Ok((plan.length(), plan.expansions))
        };
        let r = measure(&mut run_one, &all)?;
        let mean_all = batch(&mut run_one, &all, args.repeat)?;
        let mean_sample = if capped {
            batch(&mut run_one, &sample, args.repeat)?
        } else {
            mean_all
        };
        let v = stats(
            name,
            &r,
            &all,
            mean_all,
            json!({"map": file, "landmarks": lm, "setup_cpu_s": setup.cpu.as_secs_f64(),
                "setup_wall_s": setup.wall.as_secs_f64(), "ch": ch_stats}),
        );
        emit(&v);
        ours.push((name.clone(), mean_sample, r.mismatches));
    }
    let mut run_base = |i: usize| {
        let plan = reference::plan(&map, qs[i].0, qs[i].1)?;
        Ok((plan.length(), plan.expansions))
    };
    let base = measure(&mut run_base, &sample)?;
    let base_mean = batch(&mut run_base, &sample, args.repeat)?;
    let v = stats(
        "pathfinding-astar",
        &base,
        &sample,
        base_mean,
        json!({"map": file, "capped": capped, "of_queries": n}),
    );
    emit(&v);
    let mut summary = json!({
        "summary": true,
        "map": file,
        "queries": n,
        "baseline_queries": sample.len(),
        "baseline_capped": capped,
        "baseline_mismatches": base.mismatches,
    });
    for (name, mean_on_sample, mismatches) in &ours {
        if let Some(o) = summary.as_object_mut() {
            o.insert(format!("{name}_mismatches"), json!(mismatches));
            o.insert(
                format!("{name}_speedup_cpu"),
                json!(base_mean / mean_on_sample.max(1e-9)),
            );
        }
    }
    emit(&summary);
    if capped {
        eprintln!(
            "note: baseline run on {} of {} queries (every {stride}th; --baseline-max 0 runs all); speed-ups compare the same queries",
            sample.len(),
            n
        );
    }
    Ok(())
}
