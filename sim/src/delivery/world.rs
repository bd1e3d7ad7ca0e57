//! The delivery world: the generated district of [`crate::sensors::campus`] (buildings, parked
//! cars, poles and trees in a parry3d scene), its street grid as a directed
//! [`RoadGraph`] for routing (junctions plus kerbside address nodes along every block side), and
//! the right-hand lane geometry that turns a route into a path to follow.

use crate::error::{Result, SimError};
use crate::sensors::{CampusParams, Scene3d, campus};
use courier_core::Pose2;
use courier_core::geo::LocalEnu;
use courier_planning::road::{RoadEdge, RoadGraph, RoadNode};
use nalgebra::Vector3;
use std::collections::HashMap;

/// The district, its road graph and its delivery addresses.
#[derive(Debug)]
pub struct District {
    pub params: CampusParams,
    pub scene: Scene3d,
    pub graph: RoadGraph,
    /// Road-graph nodes of kerbside addresses (parcel destinations), each on a straight street
    /// segment with exactly two neighbours.
    pub addresses: Vec<usize>,
    /// Distance from a street's centre line to the centre of its right-hand lane (m).
    pub lane_offset_m: f64,
    /// Whether each node is a junction (else an address along a street).
    pub junction: Vec<bool>,
}

/// Spacing of the poses of a path to follow (m).
pub const PATH_STEP_M: f64 = 0.5;

impl District {
    /// Generates the district (`seed` places buildings and parked cars) and its road graph with
    /// `addresses_per_side` address nodes along each block side, every edge at `speed_mps`.
    /// `origin`: the geodetic anchor of the map frame (lat °, lon °, h m) for the nodes' WGS84.
    pub fn generate(
        params: &CampusParams,
        seed: u64,
        addresses_per_side: u32,
        speed_mps: f64,
        lane_offset_m: f64,
        origin: [f64; 3],
    ) -> Result<Self> {
        if !(speed_mps.is_finite() && speed_mps > 0.0) {
            return Err(SimError::Invalid(format!(
                "district: road speed must be positive, got {speed_mps}"
            )));
        }
        if !(lane_offset_m.is_finite()
            && lane_offset_m > 0.0
            && lane_offset_m < 0.5 * params.street_width_m)
        {
            return Err(SimError::Invalid(format!(
                "district: lane offset must be in (0, street width / 2), got {lane_offset_m}"
            )));
        }
        if !(1..=20).contains(&addresses_per_side) {
            return Err(SimError::Invalid(format!(
                "district: addresses_per_side must be in 1..=20, got {addresses_per_side}"
            )));
        }
        let scene = campus(params, seed)?;
        let enu = LocalEnu::new(origin[0], origin[1], origin[2]);
        let mut graph = RoadGraph {
            max_speed_mps: speed_mps,
            ..Default::default()
        };
        let add_node = |g: &mut RoadGraph, x: f64, y: f64| -> usize {
            let id = g.nodes.len();
            let (lat, lon, _) = enu.to_geodetic(&Vector3::new(x, y, 0.0));
            g.nodes.push(RoadNode {
                osm_id: id as i64,
                lat,
                lon,
                pos: [x, y],
            });
            g.out.push(Vec::new());
            g.index.insert(id as i64, id);
            id
        };
        let [bx, by] = params.blocks;
        let mut junction = HashMap::new();
        for j in 0..=by {
            for i in 0..=bx {
                let n = add_node(&mut graph, params.street_center(i), params.street_center(j));
                junction.insert((i, j), n);
            }
        }
        let mut addresses = Vec::new();
        let k = addresses_per_side;
        let link = |g: &mut RoadGraph, a: usize, b: usize| {
            let (pa, pb) = (g.nodes[a].pos, g.nodes[b].pos);
            let length_m = (pb[0] - pa[0]).hypot(pb[1] - pa[1]);
            for (u, v) in [(a, b), (b, a)] {
                g.out[u].push(RoadEdge {
                    to: v,
                    length_m,
                    speed_mps,
                    time_s: length_m / speed_mps,
                    way: 0,
                });
            }
        };
        // Street segments between neighbouring junctions, with address nodes spread along them.
        for j in 0..=by {
            for i in 0..=bx {
                let a = junction[&(i, j)];
                for (di, dj) in [(1, 0), (0, 1)] {
                    let Some(&b) = junction.get(&(i + di, j + dj)) else {
                        continue;
                    };
                    let (pa, pb) = (graph.nodes[a].pos, graph.nodes[b].pos);
                    let mut prev = a;
                    for m in 1..=k {
                        let f = m as f64 / (k + 1) as f64;
                        let n = add_node(
                            &mut graph,
                            pa[0] + f * (pb[0] - pa[0]),
                            pa[1] + f * (pb[1] - pa[1]),
                        );
                        addresses.push(n);
                        link(&mut graph, prev, n);
                        prev = n;
                    }
                    link(&mut graph, prev, b);
                }
            }
        }
        let mut is_junction = vec![true; graph.nodes.len()];
        for &a in &addresses {
            is_junction[a] = false;
        }
        Ok(Self {
            junction: is_junction,
            params: params.clone(),
            scene,
            graph,
            addresses,
            lane_offset_m,
        })
    }

    /// The neighbour of address node `at` that is not `from` (the node ahead when arriving at
    /// `at` from `from`); `None` if `at` has no other neighbour.
    pub fn ahead(&self, from: usize, at: usize) -> Option<usize> {
        self.graph
            .out
            .get(at)?
            .iter()
            .map(|e| e.to)
            .find(|&n| n != from)
    }

    /// The nodes from address `at` (reached from `from`) straight on to the next junction,
    /// both included: where a vehicle can go without turning back, since it turns back only at
    /// junctions (a U-turn mid-block would sweep over the parked cars).
    pub fn forward_chain(&self, from: usize, at: usize) -> Vec<usize> {
        let mut chain = vec![at];
        let (mut prev, mut cur) = (from, at);
        while !self.junction.get(cur).copied().unwrap_or(true) {
            let Some(next) = self.ahead(prev, cur) else {
                break;
            };
            chain.push(next);
            (prev, cur) = (cur, next);
        }
        chain
    }

    /// The path to follow along a route (node indices) in the right-hand lane: each street
    /// segment offset to the right, corners where two offset segments meet, a left U-turn
    /// around the node where the route turns back. Poses every [`PATH_STEP_M`].
    pub fn lane_path(&self, nodes: &[usize]) -> Vec<Pose2> {
        let o = self.lane_offset_m;
        let pos = |n: usize| {
            let p = self.graph.nodes[n].pos;
            Vector3::new(p[0], p[1], 0.0)
        };
        let mut corners: Vec<[f64; 2]> = Vec::new();
        let dirs: Vec<(Vector3<f64>, Vector3<f64>)> = nodes
            .windows(2)
            .filter_map(|w| {
                let d = pos(w[1]) - pos(w[0]);
                let len = d.norm();
                (len > 1e-6).then(|| {
                    let u = d / len;
                    (u, Vector3::new(u.y, -u.x, 0.0))
                })
            })
            .collect();
        if dirs.is_empty() {
            return Vec::new();
        }
        let first = pos(nodes[0]) + dirs[0].1 * o;
        corners.push([first.x, first.y]);
        let mut seg = 0;
        for w in nodes.windows(3) {
            if (pos(w[1]) - pos(w[0])).norm() <= 1e-6 || seg + 1 >= dirs.len() {
                continue;
            }
            let ((_, n1), (_, n2)) = (dirs[seg], dirs[seg + 1]);
            seg += 1;
            let c = pos(w[1]);
            let dot = n1.dot(&n2);
            if dot < -0.99 {
                // U-turn to the left around the node: a half circle of radius `o` from the
                // right-hand side of the way in, passing ahead of the node.
                let a0 = n1.y.atan2(n1.x);
                let steps = ((std::f64::consts::PI * o) / PATH_STEP_M).ceil().max(4.0) as usize;
                for s in 0..=steps {
                    let a = a0 + std::f64::consts::PI * s as f64 / steps as f64;
                    corners.push([c.x + o * a.cos(), c.y + o * a.sin()]);
                }
            } else if dot > 0.999 {
                // Straight on: no corner.
            } else {
                // The point offset by `o` from both segments' lines.
                let p = c + (n1 + n2) * (o / (1.0 + dot));
                corners.push([p.x, p.y]);
            }
        }
        let last_n = dirs[dirs.len() - 1].1;
        let last = pos(nodes[nodes.len() - 1]) + last_n * o;
        corners.push([last.x, last.y]);
        densify(&corners, PATH_STEP_M)
    }
}

/// Poses every `step` m along a polyline, each heading along its segment.
pub fn densify(pts: &[[f64; 2]], step: f64) -> Vec<Pose2> {
    let mut out: Vec<Pose2> = Vec::new();
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let len = dx.hypot(dy);
        if len < 1e-6 {
            continue;
        }
        let th = dy.atan2(dx);
        let n = (len / step).ceil() as usize;
        for k in 0..n {
            let f = k as f64 / n as f64;
            out.push(Pose2::new(a[0] + f * dx, a[1] + f * dy, th));
        }
    }
    if let (Some(&b), Some(last)) = (pts.last(), out.last()) {
        let th = last.theta();
        out.push(Pose2::new(b[0], b[1], th));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn district() -> District {
        let p = CampusParams {
            blocks: [2, 2],
            ..Default::default()
        };
        District::generate(&p, 1, 2, 5.0, 2.5, [47.0, 8.0, 400.0]).unwrap()
    }

    #[test]
    fn road_graph_connects_every_address() {
        let d = district();
        // 3 × 3 junctions + 12 street segments × 2 addresses.
        assert_eq!(d.graph.nodes.len(), 9 + 24);
        assert_eq!(d.addresses.len(), 24);
        for &a in &d.addresses {
            assert_eq!(d.graph.out[a].len(), 2);
            let r = d.graph.route(0, a).unwrap().expect("connected");
            assert!(r.length_m > 0.0);
        }
    }

    #[test]
    fn lane_path_keeps_right_and_turns_back_around_the_node() {
        let d = district();
        let a = d.addresses[0];
        let (n0, n1) = (d.graph.out[a][0].to, d.graph.out[a][1].to);
        // There and back: ends in the opposite lane, 2 × offset from the start.
        let chain = d.forward_chain(n0, a);
        assert!(chain.len() >= 2 && d.junction[*chain.last().unwrap()]);
        assert!(chain[..chain.len() - 1].iter().all(|&n| !d.junction[n]));
        let path = d.lane_path(&[n0, a, n1, a]);
        let (s, e) = (path[0], path[path.len() - 1]);
        let pa = d.graph.nodes[a].pos;
        assert!(
            (((s.x() - pa[0]).hypot(s.y() - pa[1]))
                - ((pa[0] - d.graph.nodes[n0].pos[0]).hypot(pa[1] - d.graph.nodes[n0].pos[1]))
                    .hypot(2.5))
            .abs()
                < 1e-6
        );
        assert!(((e.x() - pa[0]).hypot(e.y() - pa[1]) - 2.5).abs() < 1e-6);
        for w in path.windows(2) {
            let step = (w[1].x() - w[0].x()).hypot(w[1].y() - w[0].y());
            assert!(step <= PATH_STEP_M + 1e-9, "{step}");
        }
    }
}
