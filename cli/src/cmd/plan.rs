//! `courier plan …`: path planning on files. `courier plan grid` answers every query of a
//! MovingAI scenario with an optimal grid planner.

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use courier_core::GridMap;
use courier_core::formats::movingai::{self, Scenario};
use courier_core::path::Cell;
use courier_planning::grid::{AStar, ContractionHierarchy, GridPlanner, HubLabels, Jps};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Optimal 8-connected grid paths (MovingAI rules: diagonal √2, no corner cutting) for every
    /// query of a scenario; writes `length,expansions,micros` per query in scenario order.
    Grid(GridArgs),
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Grid(a) => run_grid(a),
    }
}

/// Which grid planner to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GridAlgo {
    /// Jump point search (fastest).
    Jps,
    /// A* over every cell.
    Astar,
    /// Contraction hierarchy: seconds of preprocessing per map, then the fastest queries on
    /// cluttered maps (ignores `--landmarks`).
    Ch,
    /// Hub labels over the contraction hierarchy: the hierarchy plus a label pass (a minute
    /// on a 512×512 map, hundreds of MB), then queries that merge two sorted arrays; the
    /// fastest on random-obstacle maps (ignores `--landmarks`).
    Hl,
}

impl std::fmt::Display for GridAlgo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GridAlgo::Jps => "jps",
            GridAlgo::Astar => "astar",
            GridAlgo::Ch => "ch",
            GridAlgo::Hl => "hl",
        })
    }
}

impl GridAlgo {
    /// The planner for `map`, with `landmarks` landmarks (0 = octile heuristic only).
    pub fn planner(self, map: &GridMap, landmarks: usize) -> Result<Box<dyn GridPlanner>> {
        Ok(match self {
            GridAlgo::Jps => Box::new(Jps::with_landmarks(map, landmarks)?),
            GridAlgo::Astar => Box::new(AStar::with_landmarks(map, landmarks)?),
            GridAlgo::Ch => Box::new(ContractionHierarchy::new(map)?),
            GridAlgo::Hl => Box::new(HubLabels::new(map)?),
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct GridArgs {
    /// MovingAI `.map` file.
    #[arg(long)]
    pub map: PathBuf,
    /// MovingAI `.scen` file for that map (start, goal and optimal length per line).
    #[arg(long)]
    pub scen: PathBuf,
    /// Output CSV: header `length,expansions,micros`, one row per query in scenario order
    /// (length with 8 decimals; micros = this thread's CPU time for the query).
    #[arg(long)]
    pub out: PathBuf,
    /// Optional JSON-lines file: one JSON list of [x, y] cells (start to goal) per query.
    #[arg(long)]
    pub paths: Option<PathBuf>,
    /// Planner.
    #[arg(long, value_enum, default_value_t = GridAlgo::Jps)]
    pub algo: GridAlgo,
    /// Landmarks for the differential heuristic (exact distances from this many cells,
    /// computed once per map; 0 = octile heuristic only).
    #[arg(long, default_value_t = 16)]
    pub landmarks: usize,
}

/// Reads a map and its scenario and checks they belong together.
pub fn load(map: &Path, scen: &Path) -> Result<(GridMap, Scenario)> {
    let m = movingai::read_map(map)?;
    let s = movingai::read_scen(scen)?;
    s.check_against(&m, scen)?;
    Ok((m, s))
}

/// The start and goal cells of every query.
pub fn queries(s: &Scenario) -> Vec<(Cell, Cell)> {
    s.entries
        .iter()
        .map(|e| {
            (
                Cell::new(e.start.0 as u32, e.start.1 as u32),
                Cell::new(e.goal.0 as u32, e.goal.1 as u32),
            )
        })
        .collect()
}

fn run_grid(a: GridArgs) -> Result<()> {
    let (map, scen) = load(&a.map, &a.scen)?;
    let mut planner = a.algo.planner(&map, a.landmarks)?;
    let create = |p: &Path| {
        std::fs::File::create(p)
            .map(std::io::BufWriter::new)
            .with_context(|| format!("cannot create {}", p.display()))
    };
    let mut out = create(&a.out)?;
    writeln!(out, "length,expansions,micros")?;
    let mut paths = a.paths.as_deref().map(create).transpose()?;
    let mut mismatches = 0;
    for (k, ((s, g), e)) in queries(&scen).into_iter().zip(&scen.entries).enumerate() {
        let (plan, t) = crate::cmd::bench::timed(|| planner.plan(s, g));
        let plan =
            plan.with_context(|| format!("{}: query {} (line {})", a.scen.display(), k, k + 2))?;
        if (plan.length() - e.optimal_length).abs() > 1e-6 {
            mismatches += 1;
        }
        writeln!(
            out,
            "{:.8},{},{:.3}",
            plan.length(),
            plan.expansions,
            t.cpu.as_secs_f64() * 1e6
        )?;
        if let Some(p) = paths.as_mut() {
            let cells: Vec<[u32; 2]> = plan.cells.iter().map(|c| [c.x, c.y]).collect();
            writeln!(p, "{}", serde_json::to_string(&cells)?)?;
        }
    }
    out.flush()?;
    if let Some(p) = paths.as_mut() {
        p.flush()?;
    }
    eprintln!(
        "{} queries, {} mismatches against the scenario's optimal lengths; wrote {}",
        scen.entries.len(),
        mismatches,
        a.out.display()
    );
    Ok(())
}
