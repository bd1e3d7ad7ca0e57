//! `courier sim`: run a simulation scenario headless, write metrics and a Rerun recording.

use anyhow::{Context, Result};
use courier_sim::Scenario;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundled scenario name (warehouse, warehouse-500, delivery, delivery-small) or a
    /// scenario TOML file.
    #[arg(long, default_value = "warehouse")]
    pub scenario: String,
    /// Override the number of robots (AGVs or delivery vehicles).
    #[arg(long)]
    pub agents: Option<usize>,
    /// Override the simulated duration in seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Override the seed (same scenario + seed = same metrics).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write a Rerun recording (.rrd) here; open it with `rerun FILE`.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the metrics JSON here (they are always printed to stdout).
    #[arg(long)]
    pub metrics: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(s) = args.seed {
        scenario.seed = s;
    }
    if let Some(d) = args.duration {
        anyhow::ensure!(
            d.is_finite() && d > 0.0,
            "--duration must be positive, got {d}"
        );
        scenario.duration_s = d;
    }
    if let Some(n) = args.agents {
        anyhow::ensure!(n > 0, "--agents must be at least 1");
        if let Some(w) = scenario.warehouse.as_mut() {
            w.agents = n;
        }
        if let Some(d) = scenario.delivery.as_mut() {
            d.vehicles = n;
        }
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::with_draw_target(
            Some(scenario.duration_s.ceil() as u64),
            ProgressDrawTarget::stderr(),
        );
        b.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} s simulated, {elapsed} elapsed, eta {eta}",
            )
            .context("progress template")?,
        );
        b.set_message(scenario.name.clone());
        b
    } else {
        ProgressBar::hidden()
    };
    let on_progress = |t: f64| bar.set_position(t as u64);
    let metrics = if scenario.delivery.is_some() {
        courier_sim::delivery::run::run(&scenario, args.record.as_deref(), on_progress)?
    } else {
        courier_sim::run::run(&scenario, args.record.as_deref(), on_progress)?
    };
    bar.finish_and_clear();
    let json = serde_json::to_string_pretty(&metrics)?;
    println!("{json}");
    if let Some(path) = &args.metrics {
        std::fs::write(path, &json).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("metrics written to {}", path.display());
    }
    if let Some(path) = &args.record {
        eprintln!(
            "recording written to {} (view it with `rerun {}`)",
            path.display(),
            path.display()
        );
    }
    Ok(())
}
