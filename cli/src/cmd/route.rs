//! `courier route`: fastest routes and delivery-run ordering on an OpenStreetMap road graph, or
//! ordering of a seeded synthetic instance (`--synthetic N`) to measure the solvers.

use crate::cmd::bench::{emit, timed};
use anyhow::{Context, Result, bail};
use courier_planning::road::tour::{held_karp, solve_heuristic, synthetic_matrix};
use courier_planning::road::{RoadGraph, RoadParams, TourParams, order_stops, parse_osm};
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// OpenStreetMap XML file (.osm) with the road network.
    #[arg(long)]
    pub osm: Option<std::path::PathBuf>,
    /// Start (or depot) as "lat,lon"; the nearest road node is used.
    #[arg(long)]
    pub from: Option<String>,
    /// Goal as "lat,lon": prints the fastest route from --from.
    #[arg(long)]
    pub to: Option<String>,
    /// Delivery stops as "lat,lon;lat,lon;…": prints the fastest visit order from --from.
    #[arg(long)]
    pub stops: Option<String>,
    /// Do not return to the depot after the last stop.
    #[arg(long)]
    pub no_return: bool,
    /// Also use footways, paths and cycleways (sidewalk robots).
    #[arg(long)]
    pub include_paths: bool,
    /// Vehicle top speed in m/s.
    #[arg(long, default_value_t = 13.9)]
    pub max_speed: f64,
    /// Instead of a map: order N seeded synthetic stops with the heuristic (and with Held-Karp
    /// too when N ≤ 14) and report times and the optimality gap.
    #[arg(long)]
    pub synthetic: Option<usize>,
    /// Seed of the synthetic instance and of the heuristic's kicks.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn latlon(s: &str) -> Result<(f64, f64)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("want \"lat,lon\", got {s:?}"))?;
    Ok((a.trim().parse()?, b.trim().parse()?))
}

fn nearest(g: &RoadGraph, lat: f64, lon: f64) -> Result<usize> {
    // Nearest by great-circle-ish distance in degrees scaled by latitude.
    let k = lat.to_radians().cos();
    (0..g.nodes.len())
        .min_by(|&a, &b| {
            let d = |i: usize| {
                let n = &g.nodes[i];
                ((n.lat - lat).powi(2) + ((n.lon - lon) * k).powi(2)).sqrt()
            };
            d(a).total_cmp(&d(b))
        })
        .context("the road graph is empty")
}

pub fn run(a: Args) -> Result<()> {
    let tp = TourParams {
        return_to_depot: !a.no_return,
        seed: a.seed,
        ..Default::default()
    };
    if let Some(n) = a.synthetic {
        let m = synthetic_matrix(n, a.seed);
        let (h, th) = timed(|| solve_heuristic(&m, tp.return_to_depot, tp.kicks, tp.seed));
        let h = h?;
        let mut out = json!({"route": "synthetic", "stops": n, "seed": a.seed,
            "heuristic_cost_s": h.cost, "heuristic_cpu_ms": th.cpu.as_secs_f64() * 1e3,
            "heuristic_wall_ms": th.wall.as_secs_f64() * 1e3});
        if n <= 14 {
            let (e, te) = timed(|| held_karp(&m, tp.return_to_depot));
            let e = e?;
            out["exact_cost_s"] = json!(e.cost);
            out["exact_cpu_ms"] = json!(te.cpu.as_secs_f64() * 1e3);
            out["gap"] = json!(h.cost / e.cost - 1.0);
        }
        emit(&out);
        return Ok(());
    }
    let path = a.osm.context("give --osm FILE (or --synthetic N)")?;
    let xml =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let params = RoadParams {
        include_paths: a.include_paths,
        max_vehicle_speed: a.max_speed,
        origin: None,
    };
    let g = parse_osm(&xml, &params).with_context(|| format!("parsing {}", path.display()))?;
    let from = a.from.as_deref().context("give --from lat,lon")?;
    let (la, lo) = latlon(from)?;
    let start = nearest(&g, la, lo)?;
    if let Some(to) = a.to.as_deref() {
        let (lb, lob) = latlon(to)?;
        let goal = nearest(&g, lb, lob)?;
        match g.route(start, goal)? {
            Some(r) => emit(
                &json!({"route": "fastest", "time_s": r.time_s, "length_m": r.length_m,
                "nodes": r.nodes.iter().map(|&i| g.nodes[i].osm_id).collect::<Vec<_>>()}),
            ),
            None => bail!(
                "no route from node {} to node {}",
                g.nodes[start].osm_id,
                g.nodes[goal].osm_id
            ),
        }
    } else if let Some(stops) = a.stops.as_deref() {
        let idx = stops
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|s| latlon(s).and_then(|(la, lo)| nearest(&g, la, lo)))
            .collect::<Result<Vec<_>>>()?;
        let (t, tm) = timed(|| order_stops(&g, start, &idx, &tp));
        let t = t?;
        emit(
            &json!({"route": "delivery", "stops": idx.len(), "time_s": t.cost,
            "order": t.order, "cpu_ms": tm.cpu.as_secs_f64() * 1e3,
            "solver": if idx.len() <= tp.exact_limit { "held-karp" } else { "heuristic" }}),
        );
    } else {
        bail!("give --to lat,lon or --stops \"lat,lon;…\"");
    }
    Ok(())
}
