//! `courier bench read FILE`: how fast Courier's readers load a file.

use super::{emit, timed};
use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read (any kind `courier info` knows).
    pub file: PathBuf,
    /// How many times to read it.
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
}

pub fn run(args: Args) -> Result<()> {
    let bytes = std::fs::metadata(&args.file)?.len();
    let mut cpu = Vec::new();
    for i in 0..args.repeat.max(1) {
        let (res, t) = timed(|| crate::cmd::info::summarize(&args.file));
        res?;
        cpu.push(t.cpu.as_secs_f64());
        emit(
            &json!({"file": args.file, "run": i, "bytes": bytes, "wall_s": t.wall.as_secs_f64(), "cpu_s": t.cpu.as_secs_f64()}),
        );
    }
    cpu.sort_by(f64::total_cmp);
    let median = cpu[cpu.len() / 2];
    emit(
        &json!({"summary": true, "file": args.file, "median_cpu_s": median, "mb_per_s": bytes as f64 / 1e6 / median}),
    );
    Ok(())
}
