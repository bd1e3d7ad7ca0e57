//! Obstacle clustering: Euclidean clustering (connected components of points closer than a
//! tolerance) or DBSCAN, both over a hashed 3D grid of cells one tolerance wide, so each point
//! is compared only with the points of its own and the neighbouring cells.

use crate::preprocess::voxel_key;
use serde::{Deserialize, Serialize};

/// Which clustering rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterMethod {
    /// Connected components under the distance `tolerance`.
    Euclidean,
    /// DBSCAN with radius `tolerance` and `min_neighbors` (the point itself included).
    Dbscan,
}

/// Parameters of [`Clusterer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterParams {
    /// Default Euclidean.
    pub method: ClusterMethod,
    /// Neighbour distance (m). Default 0.5.
    pub tolerance: f32,
    /// Smaller clusters are dropped as noise. Default 5.
    pub min_points: usize,
    /// Larger clusters (walls, hedges) are kept but flagged. Default 20000.
    pub max_points: usize,
    /// DBSCAN core-point neighbour count. Default 4.
    pub min_neighbors: usize,
}

impl Default for ClusterParams {
    fn default() -> Self {
        Self {
            method: ClusterMethod::Euclidean,
            tolerance: 0.5,
            min_points: 5,
            max_points: 20000,
            min_neighbors: 4,
        }
    }
}

/// Label of a point in no cluster.
pub const NOISE: u32 = u32::MAX;

/// Clusters point sets; keeps its buffers between calls.
#[derive(Debug, Clone, Default)]
pub struct Clusterer {
    cells: Vec<(u64, u32)>,
    parent: Vec<u32>,
    neighbors: Vec<u32>,
    root_label: Vec<u32>,
    sizes: Vec<u32>,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let g = parent[parent[i as usize] as usize];
        parent[i as usize] = g;
        i = g;
    }
    i
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // Smaller index as root keeps labels deterministic.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

impl Clusterer {
    /// Labels each point with its cluster (0..k, numbered by first point) or [`NOISE`];
    /// returns k. Non-finite points are noise.
    pub fn cluster(
        &mut self,
        pts: &[[f32; 3]],
        params: &ClusterParams,
        labels: &mut Vec<u32>,
    ) -> crate::Result<usize> {
        let tol = params.tolerance;
        if !(tol > 0.0 && tol.is_finite()) {
            return Err(crate::PerceptionError::BadParameter {
                name: "tolerance",
                value: tol.to_string(),
                why: "must be positive and finite",
            });
        }
        let n = pts.len();
        labels.clear();
        labels.resize(n, NOISE);
        let inv = 1.0 / tol;
        self.cells.clear();
        for (i, p) in pts.iter().enumerate() {
            if let Some(k) = voxel_key(*p, inv) {
                self.cells.push((k, i as u32));
            }
        }
        self.cells.sort_unstable();
        self.parent.clear();
        self.parent.extend(0..n as u32);
        self.neighbors.clear();
        self.neighbors.resize(n, 0);
        let tol2 = tol * tol;
        let dbscan = params.method == ClusterMethod::Dbscan;
        // Visit each pair of neighbouring cells once: the cell itself and its 13 "forward"
        // neighbours (offsets whose first non-zero component is positive).
        let mut offsets = Vec::with_capacity(14);
        for dx in -1i64..=1 {
            for dy in -1i64..=1 {
                for dz in -1i64..=1 {
                    let o = (dx, dy, dz);
                    if o >= (0, 0, 0) {
                        offsets.push(o);
                    }
                }
            }
        }
        let cells = std::mem::take(&mut self.cells);
        let mut core_pairs: Vec<(u32, u32)> = Vec::new();
        let mut s = 0;
        while s < cells.len() {
            let key = cells[s].0;
            let mut e = s;
            while e < cells.len() && cells[e].0 == key {
                e += 1;
            }
            let mask = (1u64 << 21) - 1;
            let (cx, cy, cz) = (
                (key >> 42) as i64,
                ((key >> 21) & mask) as i64,
                (key & mask) as i64,
            );
            for &(dx, dy, dz) in &offsets {
                let (nx, ny, nz) = (cx + dx, cy + dy, cz + dz);
                if !(0..=mask as i64).contains(&nx)
                    || !(0..=mask as i64).contains(&ny)
                    || !(0..=mask as i64).contains(&nz)
                {
                    continue;
                }
                let nkey = ((nx as u64) << 42) | ((ny as u64) << 21) | nz as u64;
                let (ns, ne) = if nkey == key {
                    (s, e)
                } else {
                    let ns = cells.partition_point(|c| c.0 < nkey);
                    let mut ne = ns;
                    while ne < cells.len() && cells[ne].0 == nkey {
                        ne += 1;
                    }
                    (ns, ne)
                };
                for a in s..e {
                    let ia = cells[a].1;
                    let pa = pts[ia as usize];
                    let from = if nkey == key { a + 1 } else { ns };
                    for c in &cells[from..ne] {
                        let ib = c.1;
                        if !dbscan && find(&mut self.parent, ia) == find(&mut self.parent, ib) {
                            continue;
                        }
                        let pb = pts[ib as usize];
                        let d2 = (pa[0] - pb[0]).powi(2)
                            + (pa[1] - pb[1]).powi(2)
                            + (pa[2] - pb[2]).powi(2);
                        if d2 <= tol2 {
                            if dbscan {
                                self.neighbors[ia as usize] += 1;
                                self.neighbors[ib as usize] += 1;
                                core_pairs.push((ia, ib));
                            } else {
                                union(&mut self.parent, ia, ib);
                            }
                        }
                    }
                }
            }
            s = e;
        }
        self.cells = cells;
        if dbscan {
            // Core points (with the point itself counted) join each other; border points join
            // the first core neighbour; the rest is noise.
            let core = |nb: &[u32], i: u32| nb[i as usize] as usize + 1 >= params.min_neighbors;
            for &(a, b) in &core_pairs {
                if core(&self.neighbors, a) && core(&self.neighbors, b) {
                    union(&mut self.parent, a, b);
                }
            }
            for &(a, b) in &core_pairs {
                let (ca, cb) = (core(&self.neighbors, a), core(&self.neighbors, b));
                if ca && !cb && self.parent[b as usize] == b {
                    self.parent[b as usize] = find(&mut self.parent, a);
                } else if cb && !ca && self.parent[a as usize] == a {
                    self.parent[a as usize] = find(&mut self.parent, b);
                }
            }
        }
        // Number clusters by their first point, dropping small ones.
        self.sizes.clear();
        self.sizes.resize(n, 0);
        for i in 0..n as u32 {
            let r = find(&mut self.parent, i);
            self.sizes[r as usize] += 1;
        }
        self.root_label.clear();
        self.root_label.resize(n, NOISE);
        let mut k = 0;
        for i in 0..n {
            let r = self.parent[i] as usize;
            let isolated_noise = dbscan
                && (self.neighbors[i] as usize + 1) < params.min_neighbors
                && r == i
                && self.sizes[r] == 1;
            if self.sizes[r] as usize >= params.min_points.max(1)
                && !isolated_noise
                && pts[i].iter().all(|v| v.is_finite())
            {
                if self.root_label[r] == NOISE {
                    self.root_label[r] = k;
                    k += 1;
                }
                labels[i] = self.root_label[r];
            }
        }
        Ok(k as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(c: [f32; 3], n: usize, step: f32) -> Vec<[f32; 3]> {
        let mut v = Vec::new();
        for i in 0..n {
            for j in 0..n {
                for k in 0..n {
                    v.push([
                        c[0] + i as f32 * step,
                        c[1] + j as f32 * step,
                        c[2] + k as f32 * step,
                    ]);
                }
            }
        }
        v
    }

    #[test]
    fn separates_two_boxes_and_drops_strays() {
        let mut pts = block([0.0, 0.0, 0.0], 6, 0.2);
        pts.extend(block([3.0, 0.5, 0.0], 5, 0.2));
        pts.push([10.0, 10.0, 0.0]);
        pts.push([f32::NAN, 0.0, 0.0]);
        let mut c = Clusterer::default();
        let mut labels = Vec::new();
        for method in [ClusterMethod::Euclidean, ClusterMethod::Dbscan] {
            let p = ClusterParams {
                method,
                ..ClusterParams::default()
            };
            let k = c.cluster(&pts, &p, &mut labels).unwrap();
            assert_eq!(k, 2, "{method:?}");
            assert!(labels[..216].iter().all(|&l| l == 0));
            assert!(labels[216..216 + 125].iter().all(|&l| l == 1));
            assert_eq!(labels[341], NOISE);
            assert_eq!(labels[342], NOISE);
        }
        // Tolerance bigger than the gap merges them.
        let p = ClusterParams {
            tolerance: 2.5,
            ..ClusterParams::default()
        };
        assert_eq!(c.cluster(&pts, &p, &mut labels).unwrap(), 1);
        assert!(c.cluster(&[], &p, &mut labels).unwrap() == 0);
    }

    #[test]
    fn dbscan_leaves_a_sparse_line_as_noise() {
        // Points 0.45 m apart: each has at most 2 neighbours within 0.5 m besides itself.
        let pts: Vec<[f32; 3]> = (0..20).map(|i| [i as f32 * 0.45, 0.0, 0.0]).collect();
        let mut c = Clusterer::default();
        let mut labels = Vec::new();
        let p = ClusterParams {
            method: ClusterMethod::Dbscan,
            min_points: 1,
            ..ClusterParams::default()
        };
        assert_eq!(c.cluster(&pts, &p, &mut labels).unwrap(), 0);
        let e = ClusterParams {
            min_points: 1,
            ..ClusterParams::default()
        };
        assert_eq!(c.cluster(&pts, &e, &mut labels).unwrap(), 1);
    }
}
