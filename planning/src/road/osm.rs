//! OpenStreetMap XML → [`RoadGraph`]: nodes, ways with `highway` tags, `oneway` (including the
//! implied one-way of roundabouts and motorways, and `-1` for reversed ways) and `maxspeed`
//! (km/h, or mph with a unit). Positions are projected with [`LocalEnu`].

use super::graph::{RoadEdge, RoadGraph, RoadNode};
use crate::hybrid::PlanError;
use courier_core::geo::LocalEnu;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Which roads to use and how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoadParams {
    /// Also route on footways, paths, cycleways and pedestrian areas, for sidewalk robots
    /// (default false).
    pub include_paths: bool,
    /// The vehicle's top speed (m/s); edges are capped at it (default 13.9, i.e. 50 km/h).
    pub max_vehicle_speed: f64,
    /// ENU origin (lat°, lon°); default `None`: the mean of the graph's nodes.
    pub origin: Option<[f64; 2]>,
}

impl Default for RoadParams {
    fn default() -> Self {
        Self {
            include_paths: false,
            max_vehicle_speed: 13.9,
            origin: None,
        }
    }
}

/// Default speed (km/h) of a `highway` class; `None` when the vehicle may not use it.
pub fn default_speed_kmh(highway: &str, include_paths: bool) -> Option<f64> {
    Some(match highway {
        "motorway" => 100.0,
        "trunk" => 80.0,
        "primary" => 60.0,
        "secondary" => 50.0,
        "tertiary" => 40.0,
        "motorway_link" | "trunk_link" => 50.0,
        "primary_link" | "secondary_link" | "tertiary_link" => 40.0,
        "unclassified" | "residential" | "road" => 30.0,
        "living_street" => 10.0,
        "service" | "track" => 15.0,
        "footway" | "path" | "pedestrian" | "cycleway" if include_paths => 6.0,
        _ => return None,
    })
}

/// Parses a `maxspeed` value to km/h: "50", "30 mph", "50;30" (first value); `None` for
/// symbolic values ("none", "walk", "DE:urban").
pub fn parse_maxspeed(v: &str) -> Option<f64> {
    let first = v.split(';').next()?.trim();
    let (num, factor) = if let Some(n) = first.strip_suffix("mph") {
        (n.trim(), 1.609_344)
    } else if let Some(n) = first.strip_suffix("km/h") {
        (n.trim(), 1.0)
    } else if let Some(n) = first.strip_suffix("knots") {
        (n.trim(), 1.852)
    } else {
        (first, 1.0)
    };
    num.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| s * factor)
}

/// Direction of travel allowed on a way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Oneway {
    Both,
    Forward,
    Backward,
}

fn oneway(tags: &HashMap<&str, &str>) -> Oneway {
    match tags.get("oneway").copied() {
        Some("yes" | "true" | "1") => Oneway::Forward,
        Some("-1" | "reverse") => Oneway::Backward,
        Some("no" | "false" | "0") => Oneway::Both,
        _ => {
            let roundabout = matches!(
                tags.get("junction").copied(),
                Some("roundabout" | "circular")
            );
            let motorway = matches!(tags.get("highway").copied(), Some("motorway"));
            if roundabout || motorway {
                Oneway::Forward
            } else {
                Oneway::Both
            }
        }
    }
}

fn attr_f64(n: &roxmltree::Node, name: &str, doc: &roxmltree::Document) -> Result<f64, PlanError> {
    let pos = doc.text_pos_at(n.range().start);
    let v = n.attribute(name).ok_or_else(|| PlanError::Osm {
        location: format!("line {} col {}", pos.row, pos.col),
        message: format!("<{}> lacks attribute {name}", n.tag_name().name()),
    })?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| PlanError::Osm {
            location: format!("line {} col {}", pos.row, pos.col),
            message: format!("attribute {name}={v:?} is not a finite number"),
        })
}

fn attr_i64(n: &roxmltree::Node, name: &str, doc: &roxmltree::Document) -> Result<i64, PlanError> {
    let pos = doc.text_pos_at(n.range().start);
    n.attribute(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .ok_or_else(|| PlanError::Osm {
            location: format!("line {} col {}", pos.row, pos.col),
            message: format!(
                "<{}> attribute {name} missing or not an integer",
                n.tag_name().name()
            ),
        })
}

/// Builds the road graph from OSM XML text. Way references to nodes missing from the file (as
/// in clipped extracts) are skipped; malformed numbers are errors with their line.
pub fn parse_osm(xml: &str, params: &RoadParams) -> Result<RoadGraph, PlanError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| PlanError::Osm {
        location: format!("line {} col {}", e.pos().row, e.pos().col),
        message: e.to_string(),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "osm" {
        return Err(PlanError::Osm {
            location: "root".into(),
            message: format!("expected <osm>, found <{}>", root.tag_name().name()),
        });
    }
    let mut coords: HashMap<i64, (f64, f64)> = HashMap::new();
    for n in root.children().filter(|n| n.has_tag_name("node")) {
        let id = attr_i64(&n, "id", &doc)?;
        let lat = attr_f64(&n, "lat", &doc)?;
        let lon = attr_f64(&n, "lon", &doc)?;
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
            let pos = doc.text_pos_at(n.range().start);
            return Err(PlanError::Osm {
                location: format!("line {} col {}", pos.row, pos.col),
                message: format!("node {id} has lat/lon out of range: {lat}, {lon}"),
            });
        }
        coords.insert(id, (lat, lon));
    }
    // Routable ways: (way id, node refs present in the file, direction, speed m/s).
    let mut ways = Vec::new();
    for w in root.children().filter(|n| n.has_tag_name("way")) {
        let id = attr_i64(&w, "id", &doc)?;
        let tags: HashMap<&str, &str> = w
            .children()
            .filter(|c| c.has_tag_name("tag"))
            .filter_map(|c| Some((c.attribute("k")?, c.attribute("v")?)))
            .collect();
        let Some(highway) = tags.get("highway") else {
            continue;
        };
        let Some(default_kmh) = default_speed_kmh(highway, params.include_paths) else {
            continue;
        };
        if matches!(tags.get("access").copied(), Some("no" | "private")) {
            continue;
        }
        let kmh = tags
            .get("maxspeed")
            .and_then(|v| parse_maxspeed(v))
            .unwrap_or(default_kmh);
        let speed = (kmh / 3.6).min(params.max_vehicle_speed);
        let mut refs = Vec::new();
        for nd in w.children().filter(|c| c.has_tag_name("nd")) {
            let r = attr_i64(&nd, "ref", &doc)?;
            if coords.contains_key(&r) {
                refs.push(r);
            }
        }
        if refs.len() >= 2 {
            ways.push((id, refs, oneway(&tags), speed));
        }
    }
    let mut g = RoadGraph::default();
    let used: Vec<i64> = {
        let mut v: Vec<i64> = ways.iter().flat_map(|w| w.1.iter().copied()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let origin = match params.origin {
        Some([lat, lon]) => LocalEnu::new(lat, lon, 0.0),
        None => {
            let n = used.len().max(1) as f64;
            let (sl, so) = used.iter().fold((0.0, 0.0), |(a, b), id| {
                let (la, lo) = coords[id];
                (a + la, b + lo)
            });
            LocalEnu::new(sl / n, so / n, 0.0)
        }
    };
    for &id in &used {
        let (lat, lon) = coords[&id];
        let p = origin.to_enu(lat, lon, 0.0);
        g.index.insert(id, g.nodes.len());
        g.nodes.push(RoadNode {
            osm_id: id,
            lat,
            lon,
            pos: [p.x, p.y],
        });
    }
    g.out = vec![Vec::new(); g.nodes.len()];
    for (way, refs, dir, speed) in ways {
        for pair in refs.windows(2) {
            let (a, b) = (g.index[&pair[0]], g.index[&pair[1]]);
            if a == b {
                continue;
            }
            let (pa, pb) = (g.nodes[a].pos, g.nodes[b].pos);
            let length_m = (pa[0] - pb[0]).hypot(pa[1] - pb[1]);
            let edge = |to| RoadEdge {
                to,
                length_m,
                speed_mps: speed,
                time_s: length_m / speed,
                way,
            };
            if dir != Oneway::Backward {
                g.out[a].push(edge(b));
            }
            if dir != Oneway::Forward {
                g.out[b].push(edge(a));
            }
            g.max_speed_mps = g.max_speed_mps.max(speed);
        }
    }
    Ok(g)
}
