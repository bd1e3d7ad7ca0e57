//! `courier`: the one front door to Courier. Each subcommand parses arguments, calls a library
//! and prints or writes the result; the logic lives in the library crates.

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Debug, Parser)]
#[command(name = "courier", version, about = "Courier: an autonomy stack for delivery vehicles, warehouse AGVs and their fleets", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print what a map, scenario, log or point cloud holds (dimensions, counts, extent, time span).
    Info(cmd::info::Args),
    /// Simulate a fleet headless with the real stack in the loop; writes metrics and a Rerun recording.
    Sim(cmd::sim::Args),
    /// Measure speed and quality on real data; prints JSON lines.
    Bench(cmd::bench::Args),
    /// One-shot multi-agent path finding on a MovingAI map + scenario (LaCAM + LNS, or CBS).
    Mapf(cmd::mapf::Args),
    /// Plan paths: `plan grid` answers MovingAI grid queries optimally.
    Plan(cmd::plan::Args),
    /// Lifelong warehouse operation (LoRR rules): tasks over time, assignment, per-step planning.
    Lifelong(cmd::lifelong::Args),
    /// Fastest road routes and delivery-run ordering on an OpenStreetMap graph.
    Route(cmd::route::Args),
    /// 2D SLAM (laser + odometry) over a CARMEN log: optimised poses per scan, Nav2 map.
    Slam(cmd::slam::Args),
    /// Point cloud perception: ground segmentation, obstacles and tracks.
    Perception(cmd::perception::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info(args) => cmd::info::run(args),
        Command::Sim(args) => cmd::sim::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Mapf(args) => cmd::mapf::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Lifelong(args) => cmd::lifelong::run(args),
        Command::Route(args) => cmd::route::run(args),
        Command::Slam(args) => cmd::slam::run(args),
        Command::Perception(args) => cmd::perception::run(args),
    }
}
