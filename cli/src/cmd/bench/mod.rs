//! `courier bench …`: measurements on real data, printed as JSON lines (one object per
//! measurement, then a summary object with `"summary": true`). Each benchmark lives in its own
//! module here; the code it measures lives in the library crates.

use anyhow::Result;
use clap::Subcommand;
use std::time::{Duration, Instant};

mod lifelong;
mod localization;
mod mapf;
mod perception;
mod plan_grid;
mod plan_hybrid;
mod read;
mod slam;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Read speed of Courier's file readers on a file (MovingAI, CARMEN, point clouds).
    Read(read::Args),
    /// MAPF solver success rate, first-solution time and SoC / lower bound on MovingAI maps.
    Mapf(mapf::Args),
    /// Grid search speed and exactness (JPS, A*) against a plain `pathfinding` A* on a MovingAI map + scenario.
    PlanGrid(plan_grid::Args),
    /// Hybrid-A* planning time and success rate on seeded parking-lot, corridor and campus scenes.
    PlanHybrid(plan_hybrid::Args),
    /// 2D SLAM accuracy (Kümmerle relation metric) and speed on a CARMEN log with relations.
    Slam(slam::Args),
    /// Localization: LiDAR odometry on real frames and in simulation, fusion, AMCL.
    Localization(localization::Args),
    /// Ground segmentation P/R/F1 on a labelled frame, ground and full-chain speed per frame.
    Perception(perception::Args),
    /// Lifelong operation on LoRR instances: tasks completed and per-step planning time.
    Lifelong(lifelong::Args),
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Read(a) => read::run(a),
        What::Mapf(a) => mapf::run(a),
        What::PlanGrid(a) => plan_grid::run(a),
        What::PlanHybrid(a) => plan_hybrid::run(a),
        What::Slam(a) => slam::run(a),
        What::Localization(a) => localization::run(a),
        What::Perception(a) => perception::run(a),
        What::Lifelong(a) => lifelong::run(a),
    }
}

/// Prints one JSON line.
pub fn emit(value: &serde_json::Value) {
    println!("{value}");
}

/// Wall-clock and this thread's CPU time of one measured call. CPU time is what a benchmark
/// should be judged on when the machine is shared: it does not grow when other processes
/// compete for the cores.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Runs `f` once and times it.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Timing) {
    let (w0, c0) = (Instant::now(), cpu_time::ThreadTime::now());
    let out = f();
    (
        out,
        Timing {
            wall: w0.elapsed(),
            cpu: c0.elapsed(),
        },
    )
}
