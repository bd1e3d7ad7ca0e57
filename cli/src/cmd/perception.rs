//! `courier perception …`: ground segmentation and the full perception chain on point cloud
//! files.

use anyhow::{Context, Result, bail};
use courier_core::Stamp;
use courier_core::formats::{kitti, pcd};
use courier_core::msgs::PointCloud;
use courier_perception::{GroundSegmenter, Perception, PerceptionParams};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Ground segmentation of one frame: writes one byte per input point, in input order
    /// (1 = ground, 0 = not), and prints a JSON summary.
    Ground(GroundArgs),
    /// The whole chain (crop → ground → clusters → boxes → tracks) over frames in order; prints
    /// one JSON line per frame with the obstacles and confirmed tracks.
    Run(RunArgs),
}

#[derive(Debug, clap::Args)]
pub struct GroundArgs {
    /// The point cloud: PCD `.pcd` (ascii, binary or binary_compressed), KITTI `.bin`
    /// (x y z intensity float32) or nuScenes `.pcd.bin`.
    #[arg(long)]
    pub cloud: PathBuf,
    /// Height of the sensor origin above the ground (m); estimated from the cloud if omitted
    /// (e.g. 1.73 for KITTI, 1.84 for nuScenes, ~0 for clouds whose origin is on the ground).
    #[arg(long)]
    pub sensor_height: Option<f32>,
    /// Where to write the mask (one byte per point).
    #[arg(long)]
    pub out: PathBuf,
    /// JSON file with `PerceptionParams` (only its `ground` part is used here); missing fields
    /// take their defaults.
    #[arg(long)]
    pub params: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Frames (.pcd, KITTI .bin, nuScenes .pcd.bin), in time order.
    #[arg(required = true)]
    pub clouds: Vec<PathBuf>,
    /// Time between frames (s), used as the frames' stamps.
    #[arg(long, default_value_t = 0.1)]
    pub period: f64,
    /// Sensor height (m); estimated per frame if omitted.
    #[arg(long)]
    pub sensor_height: Option<f32>,
    /// JSON file with `PerceptionParams`; missing fields take their defaults.
    #[arg(long)]
    pub params: Option<PathBuf>,
}

/// Reads a point cloud, choosing the reader from the file name.
pub fn read_cloud(path: &Path) -> Result<PointCloud> {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".bin") {
        Ok(kitti::read_bin_auto(path)?)
    } else if name.ends_with(".pcd") {
        Ok(pcd::read_pcd(path)?.cloud)
    } else {
        bail!(
            "{}: unknown point cloud type (expected PCD .pcd, KITTI .bin or nuScenes .pcd.bin)",
            path.display()
        )
    }
}

/// Loads parameters from a JSON file (defaults when none), applying a given sensor height.
pub fn load_params(path: Option<&Path>, sensor_height: Option<f32>) -> Result<PerceptionParams> {
    let mut p: PerceptionParams = match path {
        Some(f) => serde_json::from_str(
            &std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
        )
        .with_context(|| format!("{}: not a valid PerceptionParams JSON", f.display()))?,
        None => PerceptionParams::default(),
    };
    if let Some(h) = sensor_height {
        if !h.is_finite() {
            bail!("--sensor-height must be finite, got {h}");
        }
        p.ground.sensor_height = Some(h);
    }
    Ok(p)
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Ground(a) => ground(a),
        What::Run(a) => run_chain(a),
    }
}

fn ground(a: GroundArgs) -> Result<()> {
    let cloud = read_cloud(&a.cloud)?;
    let params = load_params(a.params.as_deref(), a.sensor_height)?;
    let mut seg = GroundSegmenter::new(params.ground)?;
    let mut mask = Vec::new();
    let stats = seg.segment_cloud(&cloud, &mut mask)?;
    std::fs::write(&a.out, &mask).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "{}",
        json!({
            "cloud": a.cloud, "out": a.out, "points": stats.points, "ground": stats.ground,
            "ground_fraction": stats.ground as f64 / stats.points.max(1) as f64,
            "sensor_height": stats.sensor_height, "ground_bins": stats.ground_bins,
        })
    );
    Ok(())
}

fn run_chain(a: RunArgs) -> Result<()> {
    if !(a.period.is_finite() && a.period > 0.0) {
        bail!("--period must be positive, got {}", a.period);
    }
    let params = load_params(a.params.as_deref(), a.sensor_height)?;
    let mut node = Perception::new(params)?;
    for (k, path) in a.clouds.iter().enumerate() {
        let mut cloud = read_cloud(path)?;
        cloud.stamp = Stamp::from_secs_f64(k as f64 * a.period).context("stamp out of range")?;
        let out = node.on_cloud(&cloud, None)?;
        println!(
            "{}",
            json!({
                "cloud": path, "stamp_s": cloud.stamp.secs_f64(), "points": cloud.len(),
                "ground": out.ground_stats.ground, "sensor_height": out.ground_stats.sensor_height,
                "obstacles": out.obstacles, "tracks": out.tracks,
            })
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_load_partly_and_reject_unknown_fields() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("courier-perception-{}.json", std::process::id()));
        std::fs::write(&path, r#"{"obstacle_range": 30.0}"#).expect("writes");
        let p = load_params(Some(&path), None).expect("parses");
        assert_eq!(p.obstacle_range, 30.0);
        assert_eq!(p.cluster, PerceptionParams::default().cluster);
        std::fs::write(&path, r#"{"cluster": {"tolerence": 0.5}}"#).expect("writes");
        let err = format!(
            "{:#}",
            load_params(Some(&path), None).expect_err("a misspelt field")
        );
        std::fs::remove_file(&path).ok();
        assert!(err.contains("unknown field `tolerence`"), "{err}");
    }
}
