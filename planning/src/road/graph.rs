//! The directed road graph and its fastest-route searches (Dijkstra, A* by travel time).

use crate::hybrid::PlanError;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// A junction or shape point, with its OSM id and ENU position (m, x east, y north).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadNode {
    pub osm_id: i64,
    pub lat: f64,
    pub lon: f64,
    pub pos: [f64; 2],
}

/// A directed road segment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoadEdge {
    pub to: usize,
    pub length_m: f64,
    pub speed_mps: f64,
    /// Travel time (s) = length / speed.
    pub time_s: f64,
    /// OSM id of the way it belongs to.
    pub way: i64,
}

/// Directed road graph: nodes and outgoing edges per node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoadGraph {
    pub nodes: Vec<RoadNode>,
    pub out: Vec<Vec<RoadEdge>>,
    pub index: HashMap<i64, usize>,
    /// Fastest speed on any edge (m/s), for A*'s admissible heuristic.
    pub max_speed_mps: f64,
}

/// A fastest route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Node indices from start to goal.
    pub nodes: Vec<usize>,
    pub time_s: f64,
    pub length_m: f64,
}

#[derive(Debug, PartialEq)]
struct Item(f64, usize);
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl RoadGraph {
    pub fn edge_count(&self) -> usize {
        self.out.iter().map(Vec::len).sum()
    }

    /// Node index of an OSM node id.
    pub fn node(&self, osm_id: i64) -> Result<usize, PlanError> {
        self.index
            .get(&osm_id)
            .copied()
            .ok_or(PlanError::UnknownNode(osm_id))
    }

    /// The node nearest to ENU point (x, y).
    pub fn nearest(&self, x: f64, y: f64) -> Option<usize> {
        (0..self.nodes.len()).min_by(|&a, &b| {
            let da = (self.nodes[a].pos[0] - x).hypot(self.nodes[a].pos[1] - y);
            let db = (self.nodes[b].pos[0] - x).hypot(self.nodes[b].pos[1] - y);
            da.total_cmp(&db)
        })
    }

    fn check(&self, i: usize) -> Result<(), PlanError> {
        if i < self.nodes.len() {
            Ok(())
        } else {
            Err(PlanError::UnknownNode(i as i64))
        }
    }

    /// Fastest route from node index `from` to `to` by A* (heuristic: straight-line distance at
    /// the graph's top speed). `Ok(None)` when `to` cannot be reached.
    pub fn route(&self, from: usize, to: usize) -> Result<Option<Route>, PlanError> {
        self.check(from)?;
        self.check(to)?;
        let n = self.nodes.len();
        let goal = self.nodes[to].pos;
        let vmax = self.max_speed_mps.max(1e-6);
        let h = |i: usize| {
            (self.nodes[i].pos[0] - goal[0]).hypot(self.nodes[i].pos[1] - goal[1]) / vmax
        };
        let mut dist = vec![f64::INFINITY; n];
        let mut prev = vec![usize::MAX; n];
        let mut heap = BinaryHeap::new();
        dist[from] = 0.0;
        heap.push(Item(h(from), from));
        while let Some(Item(f, u)) = heap.pop() {
            if f > dist[u] + h(u) + 1e-9 {
                continue;
            }
            if u == to {
                break;
            }
            for e in &self.out[u] {
                let nd = dist[u] + e.time_s;
                if nd < dist[e.to] {
                    dist[e.to] = nd;
                    prev[e.to] = u;
                    heap.push(Item(nd + h(e.to), e.to));
                }
            }
        }
        if !dist[to].is_finite() {
            return Ok(None);
        }
        let mut nodes = vec![to];
        let mut length_m = 0.0;
        let mut v = to;
        while v != from {
            let u = prev[v];
            length_m += self.out[u]
                .iter()
                .filter(|e| e.to == v)
                .map(|e| e.length_m)
                .fold(f64::INFINITY, f64::min);
            nodes.push(u);
            v = u;
        }
        nodes.reverse();
        Ok(Some(Route {
            nodes,
            time_s: dist[to],
            length_m,
        }))
    }

    /// Travel times (s) from `from` to every node (Dijkstra); ∞ where unreachable.
    pub fn times_from(&self, from: usize) -> Result<Vec<f64>, PlanError> {
        self.check(from)?;
        let mut dist = vec![f64::INFINITY; self.nodes.len()];
        let mut heap = BinaryHeap::new();
        dist[from] = 0.0;
        heap.push(Item(0.0, from));
        while let Some(Item(d, u)) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            for e in &self.out[u] {
                let nd = d + e.time_s;
                if nd < dist[e.to] {
                    dist[e.to] = nd;
                    heap.push(Item(nd, e.to));
                }
            }
        }
        Ok(dist)
    }

    /// Travel-time matrix between the given nodes (one Dijkstra per node).
    pub fn time_matrix(&self, nodes: &[usize]) -> Result<Vec<Vec<f64>>, PlanError> {
        nodes
            .iter()
            .map(|&a| {
                let d = self.times_from(a)?;
                Ok(nodes.iter().map(|&b| d[b]).collect())
            })
            .collect()
    }
}
