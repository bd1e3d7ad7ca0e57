//! `courier bench …`: measurements on real data, printed as JSON lines (one object per
//! measurement, then a summary object with `"summary": true`). Each benchmark lives in its own
//! module here; the code it measures lives in the library crates.

use anyhow::Result;
use clap::Subcommand;
use std::time::{Duration, Instant};

mod lifelong;
mod read;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Read speed of Courier's file readers on a file (MovingAI, CARMEN, point clouds).
    Read(read::Args),
    /// Lifelong operation on LoRR instances: tasks completed and per-step planning time.
    Lifelong(lifelong::Args),
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Read(a) => read::run(a),
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
