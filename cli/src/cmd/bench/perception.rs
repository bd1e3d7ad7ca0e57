//! `courier bench perception`: ground segmentation quality on a labelled frame (precision,
//! recall, F1), ground segmentation speed and full-chain speed per frame (thread CPU and wall
//! time), and per-frame ground fraction / estimated sensor height on other sensors.

use super::{emit, timed};
use crate::cmd::perception::{load_params, read_cloud};
use anyhow::{Result, bail};
use courier_core::Stamp;
use courier_core::formats::kitti;
use courier_perception::ground::score;
use courier_perception::{GroundSegmenter, Perception};
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Labelled frame (KITTI .bin layout) for precision / recall / F1.
    #[arg(
        long,
        default_value = "../shared/data/lidar/labelled/rellis3d_os1-64_000104.bin"
    )]
    pub labelled: PathBuf,
    /// Its per-point labels (.label, RELLIS-3D ids).
    #[arg(
        long,
        default_value = "../shared/data/lidar/labelled/rellis3d_os1-64_000104.label"
    )]
    pub labels: PathBuf,
    /// Label ids that are ground (RELLIS-3D: dirt, grass, asphalt, concrete, puddle, mud).
    #[arg(long, value_delimiter = ',', default_value = "1,3,10,23,31,33")]
    pub ground_labels: Vec<u16>,
    /// Label ids left out of the score (unlabelled / no return).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub ignore_labels: Vec<u16>,
    /// Sensor height of the labelled frame (m); estimated if omitted.
    #[arg(long)]
    pub labelled_height: Option<f32>,
    /// Frames to time (.pcd, KITTI .bin, nuScenes .pcd.bin).
    #[arg(long, num_args = 1.., default_values = [
        "../shared/data/lidar/unlabelled/kitti_hdl64_patchworkpp_000000.bin",
        "../shared/data/lidar/unlabelled/kitti_hdl64_patchworkpp_000001.bin",
        "../shared/data/lidar/unlabelled/kitti_hdl64_patchworkpp_000002.bin",
        "../shared/data/lidar/unlabelled/nuscenes_hdl32_LIDAR_TOP_1532402927647951.pcd.bin",
        "../shared/data/lidar/unlabelled/ouster_os128_patchwork_000000.bin",
    ])]
    pub frames: Vec<PathBuf>,
    /// Sensor heights for `--frames`, in order (m; `auto` = estimate). Default: KITTI 1.73 ×3,
    /// nuScenes 1.84, Ouster OS-128 file 0 (its origin is near the ground).
    #[arg(long, value_delimiter = ',', default_value = "1.73,1.73,1.73,1.84,0")]
    pub heights: Vec<String>,
    /// Timed runs per frame (the median is reported).
    #[arg(long, default_value_t = 20)]
    pub repeat: usize,
    /// JSON `PerceptionParams`; missing fields take their defaults.
    #[arg(long)]
    pub params: Option<PathBuf>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(args: Args) -> Result<()> {
    let repeat = args.repeat.max(1);
    // Drawn on stderr only when it is a terminal.
    let bar = indicatif::ProgressBar::new(((2 * args.frames.len() + 1) * repeat) as u64);
    // Quality on the labelled frame.
    let cloud = read_cloud(&args.labelled)?;
    let labels = kitti::read_labels(&args.labels)?;
    if labels.len() != cloud.len() {
        bail!(
            "{}: {} labels for {} points",
            args.labels.display(),
            labels.len(),
            cloud.len()
        );
    }
    let params = load_params(args.params.as_deref(), args.labelled_height)?;
    let mut seg = GroundSegmenter::new(params.ground.clone())?;
    let mut mask = Vec::new();
    let mut cpu = Vec::new();
    let mut stats = Default::default();
    for _ in 0..repeat {
        let (s, t) = timed(|| seg.segment_cloud(&cloud, &mut mask));
        stats = s?;
        cpu.push(t.cpu.as_secs_f64());
        bar.inc(1);
    }
    let s = score(
        &mask,
        &labels,
        |l| args.ground_labels.contains(&l),
        |l| args.ignore_labels.contains(&l),
    )?;
    emit(&json!({
        "bench": "ground_quality", "cloud": args.labelled, "points": cloud.len(),
        "sensor_height": stats.sensor_height, "precision": s.precision, "recall": s.recall,
        "f1": s.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn_, "tn": s.tn,
        "median_cpu_ms": median(&mut cpu) * 1e3,
    }));

    // Speed and qualitative output per frame.
    let mut ground_hz = Vec::new();
    let mut chain_ms = Vec::new();
    for (k, path) in args.frames.iter().enumerate() {
        let cloud = read_cloud(path)?;
        let h = match args.heights.get(k).map(String::as_str) {
            None | Some("auto") => None,
            Some(v) => Some(
                v.parse::<f32>()
                    .map_err(|e| anyhow::anyhow!("--heights {v}: {e}"))?,
            ),
        };
        let params = load_params(args.params.as_deref(), h)?;
        let mut seg = GroundSegmenter::new(params.ground.clone())?;
        let (mut gc, mut gw) = (Vec::new(), Vec::new());
        let mut stats = Default::default();
        for _ in 0..repeat {
            let (s, t) = timed(|| seg.segment_cloud(&cloud, &mut mask));
            stats = s?;
            gc.push(t.cpu.as_secs_f64());
            gw.push(t.wall.as_secs_f64());
            bar.inc(1);
        }
        let mut node = Perception::new(params)?;
        let (mut cc, mut cw) = (Vec::new(), Vec::new());
        let mut summary = (0, 0);
        let mut c = cloud.clone();
        for r in 0..repeat {
            c.stamp = Stamp::from_nanos(r as i64 * 100_000_000);
            let (o, t) = timed(|| {
                node.on_cloud(&c, None)
                    .map(|o| (o.obstacles.len(), o.tracks.len()))
            });
            summary = o?;
            cc.push(t.cpu.as_secs_f64());
            cw.push(t.wall.as_secs_f64());
            bar.inc(1);
        }
        let (gcpu, ccpu) = (median(&mut gc), median(&mut cc));
        if path.to_string_lossy().contains("kitti") {
            ground_hz.push(1.0 / gcpu);
            chain_ms.push(ccpu * 1e3);
        }
        emit(&json!({
            "bench": "frame", "cloud": path, "points": cloud.len(),
            "sensor_height": stats.sensor_height, "height_given": h.is_some(),
            "ground_fraction": stats.ground as f64 / cloud.len().max(1) as f64,
            "ground_median_cpu_ms": gcpu * 1e3, "ground_median_wall_ms": median(&mut gw) * 1e3,
            "ground_hz_cpu": 1.0 / gcpu,
            "chain_median_cpu_ms": ccpu * 1e3, "chain_median_wall_ms": median(&mut cw) * 1e3,
            "obstacles": summary.0, "tracks": summary.1,
        }));
    }
    bar.finish_and_clear();
    emit(&json!({
        "summary": true, "precision": s.precision, "recall": s.recall, "f1": s.f1,
        "goal_f1_recall_met": s.f1 >= 0.95 && s.recall >= 0.95,
        "kitti_ground_hz_cpu_min": ground_hz.iter().copied().reduce(f64::min),
        "kitti_chain_cpu_ms_max": chain_ms.iter().copied().reduce(f64::max),
    }));
    Ok(())
}
