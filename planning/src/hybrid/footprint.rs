//! The vehicle's polygon footprint and its collision checks. parry2d gives the exact
//! polygon-vs-cell test; the search uses precomputed cell offsets per heading bin, built with
//! that same exact test on conservatively enlarged cells, so a pose the fast check accepts is
//! always free under the exact check.

use super::error::{PlanError, check_finite};
use super::grid::CollisionGrid;
use parry2d::math::{Pose as PPose, Vector as PVec};
use parry2d::query::intersection_test;
use parry2d::shape::{ConvexPolygon, Cuboid};
use serde::{Deserialize, Serialize};

/// A convex footprint polygon in the body frame (x forward, y left), vertices in metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FootprintSpec {
    pub vertices: Vec<[f64; 2]>,
}

impl FootprintSpec {
    /// A rectangle `length × width` whose rear axle (the body origin) sits `rear_overhang`
    /// metres in front of the rear edge.
    pub fn rectangle(length: f64, width: f64, rear_overhang: f64) -> Self {
        let (b, f, h) = (-rear_overhang, length - rear_overhang, width / 2.0);
        Self {
            vertices: vec![[b, -h], [f, -h], [f, h], [b, h]],
        }
    }
}

impl Default for FootprintSpec {
    /// A small delivery robot: 0.7 m × 0.5 m, origin at its centre.
    fn default() -> Self {
        Self::rectangle(0.7, 0.5, 0.35)
    }
}

/// The footprint prepared for one grid resolution and heading discretisation.
#[derive(Debug, Clone)]
pub struct Footprint {
    pub spec: FootprintSpec,
    polygon: ConvexPolygon,
    /// Largest distance from the origin to the polygon (m).
    pub circumscribed: f64,
    /// Smallest distance from the origin to an edge (m); 0 if the origin lies outside.
    pub inscribed: f64,
    resolution: f64,
    /// Cell offsets (dcol, drow) relative to the pose's cell, per heading bin.
    offsets: Vec<Vec<(i32, i32)>>,
    bins: usize,
}

fn pvec(x: f64, y: f64) -> PVec {
    PVec::new(x as f32, y as f32)
}

impl Footprint {
    pub fn new(
        spec: &FootprintSpec,
        resolution: f64,
        heading_bins: usize,
    ) -> Result<Self, PlanError> {
        for v in &spec.vertices {
            check_finite("footprint vertex", v)?;
        }
        let pts: Vec<PVec> = spec.vertices.iter().map(|v| pvec(v[0], v[1])).collect();
        let polygon =
            ConvexPolygon::from_convex_hull(&pts).ok_or_else(|| PlanError::InvalidParam {
                name: "footprint",
                reason: "needs at least three non-collinear vertices".into(),
            })?;
        let circumscribed = spec
            .vertices
            .iter()
            .map(|v| v[0].hypot(v[1]))
            .fold(0.0, f64::max);
        // Inscribed radius: distance from the origin to the nearest edge (if inside).
        let n = spec.vertices.len();
        let mut inscribed = f64::INFINITY;
        let mut inside = true;
        let area_sign = (0..n)
            .map(|i| {
                let (a, b) = (spec.vertices[i], spec.vertices[(i + 1) % n]);
                a[0] * b[1] - a[1] * b[0]
            })
            .sum::<f64>()
            .signum();
        for i in 0..n {
            let (a, b) = (spec.vertices[i], spec.vertices[(i + 1) % n]);
            let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
            let len = ex.hypot(ey).max(1e-12);
            let cross = (ex * (-a[1]) - ey * (-a[0])) / len * area_sign;
            if cross < 0.0 {
                inside = false;
            }
            inscribed = inscribed.min(cross.abs());
        }
        if !inside {
            inscribed = 0.0;
        }
        if resolution.is_nan() || resolution <= 0.0 || heading_bins == 0 {
            return Err(PlanError::InvalidParam {
                name: "resolution/heading_bins",
                reason: format!("need > 0, got {resolution} and {heading_bins}"),
            });
        }
        let mut fp = Self {
            spec: spec.clone(),
            polygon,
            circumscribed,
            inscribed,
            resolution,
            offsets: Vec::new(),
            bins: heading_bins,
        };
        fp.offsets = (0..heading_bins).map(|k| fp.offsets_for_bin(k)).collect();
        Ok(fp)
    }

    /// Cells that the footprint may touch for any pose inside the centre cell with heading
    /// within half a bin of bin `k`: the exact parry test against cells grown by half a cell
    /// (translation) plus the circumscribed radius × sin(half bin) (rotation).
    fn offsets_for_bin(&self, k: usize) -> Vec<(i32, i32)> {
        let res = self.resolution;
        let half_bin = std::f64::consts::PI / self.bins as f64;
        let grow = 0.5 * res + self.circumscribed * half_bin.sin() + 1e-6;
        let cell = Cuboid::new(pvec(0.5 * res + grow, 0.5 * res + grow));
        let theta = k as f64 * 2.0 * half_bin;
        // The footprint sits at the centre of cell (0, 0).
        let fp_pose = PPose::new(pvec(0.5 * res, 0.5 * res), theta as f32);
        let reach = ((self.circumscribed + grow) / res).ceil() as i32 + 1;
        let mut out = Vec::new();
        for dr in -reach..=reach {
            for dc in -reach..=reach {
                let cell_pose =
                    PPose::new(pvec((dc as f64 + 0.5) * res, (dr as f64 + 0.5) * res), 0.0);
                let hit = intersection_test(&fp_pose, &self.polygon, &cell_pose, &cell)
                    .map(|r| r.intersecting)
                    .unwrap_or(true);
                if hit {
                    out.push((dc, dr));
                }
            }
        }
        out
    }

    /// The heading bin of θ (radians).
    #[inline]
    pub fn bin_of(&self, theta: f64) -> usize {
        let b = (theta / (2.0 * std::f64::consts::PI) * self.bins as f64).round() as i64;
        b.rem_euclid(self.bins as i64) as usize
    }

    /// Fast conservative check in the grid frame: true when the pose is certainly free.
    #[inline]
    pub fn is_free(&self, grid: &CollisionGrid, p: [f64; 3]) -> bool {
        let Some(i) = grid.index_of(p[0], p[1]) else {
            return false;
        };
        let d = grid.dist[i] as f64;
        // Nearest blocked cell is farther than the footprint can reach (cell centres are up to
        // half a diagonal from the point, and blocked cells extend half a diagonal around theirs).
        let (w, h) = grid.extent();
        let m = self.circumscribed + grid.resolution;
        let inside = p[0] >= m && p[1] >= m && p[0] <= w - m && p[1] <= h - m;
        if inside && d - grid.resolution * std::f64::consts::SQRT_2 > self.circumscribed {
            return true;
        }
        if d + 1e-9 < self.inscribed - grid.resolution * std::f64::consts::SQRT_2 {
            return false;
        }
        let c = (p[0] / grid.resolution).floor() as i64;
        let r = (p[1] / grid.resolution).floor() as i64;
        let offs = &self.offsets[self.bin_of(p[2])];
        offs.iter()
            .all(|&(dc, dr)| !grid.is_blocked(c + dc as i64, r + dr as i64))
    }

    /// Exact check with parry: the polygon at pose `p` (grid frame) against every blocked cell
    /// it could reach. Off-grid cells count as blocked.
    pub fn is_free_exact(&self, grid: &CollisionGrid, p: [f64; 3]) -> bool {
        let res = grid.resolution;
        let pose = PPose::new(pvec(p[0], p[1]), p[2] as f32);
        let cell = Cuboid::new(pvec(0.5 * res, 0.5 * res));
        let reach = (self.circumscribed / res).ceil() as i64 + 1;
        let (c0, r0) = ((p[0] / res).floor() as i64, (p[1] / res).floor() as i64);
        for r in r0 - reach..=r0 + reach {
            for c in c0 - reach..=c0 + reach {
                if !grid.is_blocked(c, r) {
                    continue;
                }
                let cp = PPose::new(pvec((c as f64 + 0.5) * res, (r as f64 + 0.5) * res), 0.0);
                let hit = intersection_test(&pose, &self.polygon, &cp, &cell)
                    .map(|x| x.intersecting)
                    .unwrap_or(true);
                if hit {
                    return false;
                }
            }
        }
        true
    }

    /// Whether a body-frame point lies inside the footprint grown by `margin` metres.
    pub fn contains_body_point(&self, x: f64, y: f64, margin: f64) -> bool {
        let n = self.spec.vertices.len();
        let v = &self.spec.vertices;
        let sign = (0..n)
            .map(|i| v[i][0] * v[(i + 1) % n][1] - v[i][1] * v[(i + 1) % n][0])
            .sum::<f64>()
            .signum();
        (0..n).all(|i| {
            let (a, b) = (v[i], v[(i + 1) % n]);
            let (ex, ey) = (b[0] - a[0], b[1] - a[1]);
            let len = ex.hypot(ey).max(1e-12);
            let cross = (ex * (y - a[1]) - ey * (x - a[0])) / len * sign;
            cross >= -margin
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::maps::{FREE, OCCUPIED};
    use courier_core::{OccupancyGrid, Pose2};
    use rand::{Rng, SeedableRng};

    #[test]
    fn fast_check_never_accepts_an_exact_collision() {
        let mut g = OccupancyGrid::filled(60, 60, 0.05, Pose2::identity(), FREE);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..15 {
            let (c, r) = (rng.random_range(0..60), rng.random_range(0..60));
            g.data[[r, c]] = OCCUPIED;
        }
        let cg = CollisionGrid::from_occupancy(&g, 65, true).expect("grid");
        let fp = Footprint::new(&FootprintSpec::rectangle(0.6, 0.4, 0.2), 0.05, 72).expect("fp");
        assert!(
            (fp.inscribed - 0.2).abs() < 1e-9
                && (fp.circumscribed - 0.2f64.hypot(0.4)).abs() < 1e-9
        );
        let (mut free, mut exact_free) = (0, 0);
        for _ in 0..3000 {
            let p = [
                rng.random_range(0.0..3.0),
                rng.random_range(0.4..2.6),
                rng.random_range(-3.2..3.2),
            ];
            let fast = fp.is_free(&cg, p);
            let exact = fp.is_free_exact(&cg, p);
            assert!(!fast || exact, "fast check accepted a colliding pose {p:?}");
            free += fast as usize;
            exact_free += exact as usize;
        }
        // Conservative, but not uselessly so.
        assert!(
            free > 0 && free as f64 >= 0.5 * exact_free as f64,
            "{free} vs {exact_free}"
        );
    }
}
