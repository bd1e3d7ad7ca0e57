//! `courier bench localization …`: LiDAR odometry speed and motion on real frames, LiDAR
//! odometry drift on a simulated drive, fusion (ESKF) errors on simulated sequences, and AMCL
//! convergence on a generated map. Prints JSON lines.

use super::{emit, timed};
use anyhow::{Context, Result, bail};
use courier_core::formats::kitti;
use courier_localization::lidar_odometry::{LidarOdometry, LidarOdometryParams};
use courier_localization::sim_sequences;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// LiDAR odometry over consecutive real frames (KITTI .bin, in order): per-frame thread CPU
    /// time and estimated inter-frame motion. The whole sequence is run `--repeat` times with a
    /// fresh odometry; timings of every run are reported.
    LidarOdometry(LidarArgs),
    /// LiDAR odometry drift on a simulated drive (HDL-64-like pattern, ground truth).
    LidarSim(LidarSimArgs),
    /// Fusion filter (ESKF) position errors on simulated sequences with a 60 s GNSS outage and a
    /// 20 m GNSS jump, over several seeds.
    Fusion(FusionArgs),
    /// AMCL global localization on a generated map from a uniform initial spread.
    Amcl(AmclArgs),
}

#[derive(Debug, clap::Args)]
pub struct LidarArgs {
    /// Consecutive frames, in time order (e.g. ../shared/data/lidar/unlabelled/kitti_hdl64_*.bin).
    #[arg(required = true)]
    pub frames: Vec<PathBuf>,
    /// How many times to run the sequence.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Map voxel size, m.
    #[arg(long, default_value_t = 1.0)]
    pub voxel_size: f64,
}

#[derive(Debug, clap::Args)]
pub struct LidarSimArgs {
    /// Number of frames (1 m apart, 10 Hz).
    #[arg(long, default_value_t = 100)]
    pub frames: usize,
    /// Scene and noise seed.
    #[arg(long, default_value_t = 11)]
    pub seed: u64,
    /// Azimuth step of the simulated sensor, degrees (0.2 ≈ 115k points per frame).
    #[arg(long, default_value_t = 0.2)]
    pub azimuth_step: f64,
}

#[derive(Debug, clap::Args)]
pub struct FusionArgs {
    /// Seeds to run (first..first+count).
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Gyro noise density of the simulated IMU, rad/s/√Hz (5e-5 industrial MEMS, 2e-4 consumer).
    #[arg(long, default_value_t = 5e-5)]
    pub gyro_noise: f64,
    /// Gyro noise density the filter assumes; default: the simulated IMU's (its datasheet figure).
    #[arg(long)]
    pub filter_gyro_noise: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct AmclArgs {
    /// Seeds to run (first..first+count).
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::LidarOdometry(a) => lidar(a),
        What::LidarSim(a) => lidar_sim(a),
        What::Fusion(a) => fusion(a),
        What::Amcl(a) => amcl(a),
    }
}

fn lidar(a: LidarArgs) -> Result<()> {
    let clouds = a
        .frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut c =
                kitti::read_bin_auto(f).with_context(|| format!("reading {}", f.display()))?;
            c.stamp = courier_core::Stamp::ZERO + i as f64 * 0.1;
            Ok(c)
        })
        .collect::<Result<Vec<_>>>()?;
    let params = LidarOdometryParams {
        voxel_size: a.voxel_size,
        ..LidarOdometryParams::default()
    };
    let mut reg_cpu = Vec::new();
    for run in 0..a.repeat.max(1) {
        let mut odo = LidarOdometry::new(params.clone());
        for (i, c) in clouds.iter().enumerate() {
            let (res, t) = timed(|| odo.on_cloud(c));
            let e = res?;
            let d = e.delta.translation();
            let (_, _, yaw) = e.delta.rpy();
            if i > 0 {
                reg_cpu.push(t.cpu.as_secs_f64());
            }
            emit(&json!({
                "run": run, "frame": i, "file": a.frames[i], "points": c.len(),
                "source_points": e.source_points, "iterations": e.iterations,
                "correspondences": e.correspondences, "threshold_m": e.threshold,
                "delta_xyz_m": [d.x, d.y, d.z], "delta_yaw_deg": yaw.to_degrees(),
                "delta_norm_m": d.norm(),
                "wall_s": t.wall.as_secs_f64(), "cpu_s": t.cpu.as_secs_f64(),
            }));
        }
    }
    if reg_cpu.is_empty() {
        bail!("need at least two frames to time registration");
    }
    reg_cpu.sort_by(f64::total_cmp);
    let median = reg_cpu[reg_cpu.len() / 2];
    emit(&json!({
        "summary": true, "bench": "lidar-odometry", "registered_frames": reg_cpu.len(),
        "median_cpu_s": median, "max_cpu_s": reg_cpu[reg_cpu.len() - 1], "hz_cpu": 1.0 / median,
    }));
    Ok(())
}

fn lidar_sim(a: LidarSimArgs) -> Result<()> {
    use sim_sequences::lidar::{ScanPattern, drift, generate};
    let pattern = ScanPattern {
        azimuth_step_deg: a.azimuth_step,
        ..ScanPattern::default()
    };
    let seq = generate(a.seed, a.frames, 1.0, &pattern);
    let mut odo = LidarOdometry::new(LidarOdometryParams::default());
    let mut est = Vec::new();
    let mut cpu = Vec::new();
    let mut failed = 0;
    for c in &seq.clouds {
        let (res, t) = timed(|| odo.on_cloud(c));
        cpu.push(t.cpu.as_secs_f64());
        match res {
            Ok(e) => est.push(e.pose),
            Err(e) => {
                // Keep the frame count aligned with the truth: hold the last pose.
                failed += 1;
                eprintln!("{e}");
                est.push(est.last().copied().unwrap_or_default());
            }
        }
    }
    let d = drift(&seq.poses, &est);
    cpu.sort_by(f64::total_cmp);
    let points = seq.clouds.iter().map(|c| c.len()).sum::<usize>() / seq.clouds.len().max(1);
    emit(&json!({
        "summary": true, "bench": "lidar-sim", "seed": a.seed, "frames": a.frames,
        "mean_points": points, "drift": d, "failed_frames": failed, "median_cpu_s": cpu[cpu.len() / 2],
    }));
    Ok(())
}

fn fusion(a: FusionArgs) -> Result<()> {
    use courier_localization::fusion::{FusionFilter, FusionParams};
    use sim_sequences::fusion::{FusionScenario, generate, run_filter};
    let mut outage = Vec::new();
    let mut all_first_rejected = true;
    let mut jump_accepted = 0;
    for seed in a.first_seed..a.first_seed + a.seeds {
        let sc = FusionScenario {
            seed,
            gyro_noise: a.gyro_noise,
            ..FusionScenario::default()
        };
        let seq = generate(&sc);
        let mut f = FusionFilter::new(FusionParams {
            gyro_noise: a.filter_gyro_noise.unwrap_or(a.gyro_noise),
            ..FusionParams::default()
        });
        let (rep, t) = timed(|| run_filter(&seq, &mut f));
        outage.push(rep.max_error_in_outage);
        all_first_rejected &= rep.first_jump_rejected;
        jump_accepted += rep.jump_fixes_accepted;
        emit(
            &json!({"seed": seed, "report": rep, "messages": seq.events.len(), "cpu_s": t.cpu.as_secs_f64()}),
        );
    }
    let n = outage.len().max(1) as f64;
    let mean = outage.iter().sum::<f64>() / n;
    let worst = outage.iter().copied().fold(0.0, f64::max);
    let under = outage.iter().filter(|&&e| e < 0.5).count();
    emit(&json!({
        "summary": true, "bench": "fusion", "gyro_noise": a.gyro_noise,
        "filter_gyro_noise": a.filter_gyro_noise.unwrap_or(a.gyro_noise), "seeds": outage.len(),
        "mean_max_error_in_outage_m": mean, "worst_max_error_in_outage_m": worst,
        "seeds_under_0_5_m": under, "all_first_jumps_rejected": all_first_rejected,
        "jumped_fixes_accepted": jump_accepted,
    }));
    Ok(())
}

fn amcl(a: AmclArgs) -> Result<()> {
    use sim_sequences::planar::run_global_localization;
    let mut converged = 0;
    let mut localized = 0;
    for seed in a.first_seed..a.first_seed + a.seeds {
        let (rep, t) = timed(|| run_global_localization(seed));
        let rep = rep?;
        converged += usize::from(rep.converged);
        localized += usize::from(rep.localized);
        emit(&json!({"seed": seed, "report": rep, "cpu_s": t.cpu.as_secs_f64()}));
    }
    emit(&json!({
        "summary": true, "bench": "amcl", "runs": a.seeds, "converged": converged,
        "localized": localized,
    }));
    Ok(())
}
