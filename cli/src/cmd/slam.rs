//! `courier slam --log DATASET.clf`: 2D SLAM over a CARMEN log; writes the optimised pose of
//! every laser scan and, on request, the map.

use anyhow::{Context, Result, bail};
use courier_core::Pose2;
use courier_core::formats::carmen::{self, CarmenLog, LaserKind};
use courier_localization::slam2d::map_io::write_nav2_map;
use courier_localization::slam2d::{Slam2d, Slam2dParams, Slam2dStats};
use courier_sim::record::Recorder;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CARMEN log (.clf/.log) with FLASER or ROBOTLASER1 scans and odometry.
    #[arg(long)]
    pub log: PathBuf,
    /// Where to write the poses: one line per laser scan, `ipc_timestamp x y theta`
    /// (the timestamp text exactly as in the log, the robot pose after the final optimisation).
    #[arg(long, default_value = "poses.txt")]
    pub out: PathBuf,
    /// Also write the map as a Nav2 map: this .yaml and a .pgm beside it.
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// SLAM parameters as YAML (any subset of Slam2dParams; the rest keep their defaults).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Also write a Rerun recording (.rrd): every scan and the live pose estimate on the
    /// `log_time` timeline, then the optimised trajectory and the map's occupied cells.
    /// Open it with `rerun FILE.rrd`.
    #[arg(long)]
    pub record: Option<PathBuf>,
}

/// Result of running SLAM over a log.
#[derive(Debug)]
pub struct Run {
    pub slam: Slam2d,
    /// (ipc_timestamp text, optimised robot pose) per laser scan, in log order.
    pub poses: Vec<(String, Pose2)>,
    pub stats: Slam2dStats,
}

/// Loads parameters from an optional YAML file.
pub fn load_params(path: Option<&Path>) -> Result<Slam2dParams> {
    match path {
        None => Ok(Slam2dParams::default()),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_yaml::from_str(&text).with_context(|| format!("parsing {}", p.display()))
        }
    }
}

/// Runs SLAM over every front/robot laser scan of `log` (in file order, with each scan's own
/// odometry pose and laser mounting offset), finishes, and returns the optimised poses.
/// With a `recorder`, each scan and its live estimate go to it, then the optimised result.
pub fn run_log(
    log: &CarmenLog,
    params: Slam2dParams,
    progress: bool,
    recorder: Option<&Recorder>,
) -> Result<Run> {
    let mut slam = Slam2d::new(params)?;
    let lasers: Vec<_> = log
        .lasers
        .iter()
        .filter(|l| l.kind != LaserKind::Rear)
        .collect();
    if lasers.is_empty() {
        bail!("the log has no front or robot laser scans");
    }
    let mut offset_set = false;
    for (k, l) in lasers.iter().enumerate() {
        let offset = l.laser_offset();
        if !offset_set || offset != Pose2::identity() {
            slam.set_laser_offset(offset)?;
            offset_set = true;
        }
        let scan = l.to_scan();
        let estimate = slam
            .on_scan(&scan, Some(l.odom_pose))
            .with_context(|| format!("log line {}", l.line))?;
        if let Some(r) = recorder {
            let t = estimate.stamp.seconds_since(lasers[0].stamp);
            r.log_slam_scan(t, &estimate.pose, &offset, &scan)?;
        }
        if progress && (k + 1) % 1000 == 0 {
            eprint!("\rslam: {}/{} scans", k + 1, lasers.len());
        }
    }
    slam.finish()?;
    if progress {
        eprintln!("\rslam: {} scans, optimised", lasers.len());
    }
    let traj = slam.trajectory();
    if let Some(r) = recorder {
        r.log_slam_result(&traj, &slam.map())?;
    }
    let poses = lasers
        .iter()
        .zip(traj)
        .map(|(l, (_, p))| (l.ipc_timestamp.clone(), p))
        .collect();
    let stats = slam.stats();
    Ok(Run { slam, poses, stats })
}

/// Writes `ipc_timestamp x y theta` lines.
pub fn write_poses(path: &Path, poses: &[(String, Pose2)]) -> Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    for (t, p) in poses {
        writeln!(w, "{t} {:.6} {:.6} {:.6}", p.x(), p.y(), p.theta())?;
    }
    w.flush()?;
    Ok(())
}

pub fn run(args: Args) -> Result<()> {
    let params = load_params(args.params.as_deref())?;
    let log = carmen::read_log(&args.log)?;
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let recorder = args
        .record
        .as_deref()
        .map(|p| Recorder::create_app("courier_slam", p))
        .transpose()?;
    let run = run_log(&log, params, progress, recorder.as_ref())?;
    write_poses(&args.out, &run.poses)?;
    if let Some(m) = &args.map {
        write_nav2_map(&run.slam.map(), m)?;
    }
    let s = run.stats;
    eprintln!(
        "slam: {} scans, {} nodes, {} submaps, {} loop closures ({} searches), {} optimisations; skipped beams: {} NaN/inf, {} too close; {} no-return",
        s.scans,
        s.nodes,
        s.submaps,
        s.loop_closures,
        s.loop_closure_searches,
        s.optimizations,
        s.nan_beams,
        s.out_of_range_beams,
        s.no_return_beams
    );
    if let (Some(r), Some(p)) = (recorder, &args.record) {
        r.finish()?;
        eprintln!(
            "slam: Rerun recording in {} (open with `rerun {}`)",
            p.display(),
            p.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poses_keep_the_timestamp_text_exactly() {
        // Three FLASER scans of a wall 2 m ahead, with timestamps whose text a float
        // round-trip would change.
        let stamps = ["100.500000", "100.60", "101"];
        let ranges = ["2.0"; 9].join(" ");
        let text: String = stamps
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let x = 0.01 * k as f64;
                format!("FLASER 9 {ranges} {x} 0 0 {x} 0 0 {t} host {t}\n")
            })
            .collect();
        let log = carmen::parse_log(&text, "t.clf").expect("valid log");
        let run = run_log(&log, Slam2dParams::default(), false, None).expect("runs");
        let path = std::env::temp_dir().join(format!("courier-slam-{}.txt", std::process::id()));
        write_poses(&path, &run.poses).expect("writes");
        let out = std::fs::read_to_string(&path).expect("reads back");
        std::fs::remove_file(&path).ok();
        let firsts: Vec<&str> = out
            .lines()
            .map(|l| l.split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(firsts, stamps);
        for l in out.lines() {
            assert_eq!(l.split_whitespace().count(), 4, "{l}");
        }
    }

    #[test]
    fn params_load_from_partial_yaml() {
        let path = std::env::temp_dir().join(format!("courier-slam-{}.yaml", std::process::id()));
        std::fs::write(
            &path,
            "scans_per_submap: 40\nloop_closure:\n  min_score: 0.6\n",
        )
        .expect("writes");
        let p = load_params(Some(&path)).expect("parses");
        std::fs::remove_file(&path).ok();
        assert_eq!(p.scans_per_submap, 40);
        assert_eq!(p.loop_closure.min_score, 0.6);
        assert_eq!(p.resolution, Slam2dParams::default().resolution);
    }

    #[test]
    fn params_with_an_unknown_field_are_an_error_that_names_it() {
        let path =
            std::env::temp_dir().join(format!("courier-slam-typo-{}.yaml", std::process::id()));
        std::fs::write(&path, "loop_closure:\n  min_scor: 0.6\n").expect("writes");
        let err = format!(
            "{:#}",
            load_params(Some(&path)).expect_err("a misspelt field")
        );
        std::fs::remove_file(&path).ok();
        assert!(err.contains("unknown field `min_scor`"), "{err}");
    }
}
