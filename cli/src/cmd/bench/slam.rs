//! `courier bench slam --log intel.clf --relations intel.relations`: accuracy of 2D SLAM by the
//! relation metric of Kümmerle et al. 2009, and its speed as a multiple of real time (log
//! duration over this thread's CPU time for the SLAM run, log reading excluded).

use super::{emit, timed};
use crate::cmd::slam::{load_params, run_log};
use anyhow::Result;
use courier_core::formats::carmen;
use courier_localization::slam2d::relations::{evaluate, read_relations};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CARMEN log (.clf).
    #[arg(long)]
    pub log: PathBuf,
    /// Ground-truth relations (`t1 t2 x y z roll pitch yaw`, times = FLASER ipc_timestamps).
    #[arg(long)]
    pub relations: PathBuf,
    /// SLAM parameters as YAML (defaults otherwise).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Evaluate only the relations whose both scans are in the log (for a cut log); their
    /// number is reported. Without it a missing scan is an error.
    #[arg(long)]
    pub partial: bool,
    /// Also write the poses here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let params = load_params(args.params.as_deref())?;
    let (log, read_t) = timed(|| carmen::read_log(&args.log));
    let log = log?;
    let relations = read_relations(&args.relations)?;
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (run, t) = timed(|| run_log(&log, params, progress, None));
    let run = run?;
    if let Some(out) = &args.out {
        crate::cmd::slam::write_poses(out, &run.poses)?;
    }
    let poses: HashMap<String, _> = run.poses.iter().cloned().collect();
    let relations: Vec<_> = if args.partial {
        relations
            .into_iter()
            .filter(|r| poses.contains_key(&r.t1) && poses.contains_key(&r.t2))
            .collect()
    } else {
        relations
    };
    let m = evaluate(&poses, &relations)?;
    let span = log.time_span().map_or(0.0, |(a, b)| b.seconds_since(a));
    let s = run.stats;
    emit(&json!({
        "log": args.log,
        "scans": s.scans,
        "nodes": s.nodes,
        "submaps": s.submaps,
        "loop_closure_searches": s.loop_closure_searches,
        "global_loop_closure_searches": s.global_loop_closure_searches,
        "loop_closures": s.loop_closures,
        "optimizations": s.optimizations,
        "constraints": run.slam.constraint_count(),
        "nan_beams": s.nan_beams,
        "read_cpu_s": read_t.cpu.as_secs_f64(),
    }));
    emit(&json!({
        "summary": true,
        "relations": m.relations,
        "trans_err_m_mean": m.translation.mean,
        "trans_err_m_std": m.translation.std,
        "trans_err_m_max": m.translation.max,
        "rot_err_deg_mean": m.rotation_deg.mean,
        "rot_err_deg_std": m.rotation_deg.std,
        "rot_err_deg_max": m.rotation_deg.max,
        "trans_sq_m2_mean": m.translation_sq.mean,
        "rot_sq_deg2_mean": m.rotation_sq_deg2.mean,
        "log_span_s": span,
        "cpu_s": t.cpu.as_secs_f64(),
        "wall_s": t.wall.as_secs_f64(),
        "realtime_factor_cpu": span / t.cpu.as_secs_f64().max(1e-9),
        "realtime_factor_wall": span / t.wall.as_secs_f64().max(1e-9),
    }));
    Ok(())
}
