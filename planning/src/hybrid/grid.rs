//! The collision world of the planner and controllers: an occupancy grid read as blocked/free
//! cells, with an exact Euclidean distance field to the nearest blocked cell. Everything works
//! in the grid's own frame (origin at the lower-left corner of cell (0, 0)); callers convert
//! map-frame poses with [`CollisionGrid::to_local`] / [`CollisionGrid::to_map`].

use super::error::{PlanError, check_finite};
use courier_core::{OccupancyGrid, Pose2};

/// Blocked cells and distances on a grid.
#[derive(Debug, Clone)]
pub struct CollisionGrid {
    pub width: usize,
    pub height: usize,
    pub resolution: f64,
    /// The map-frame pose of the grid frame.
    pub origin: Pose2,
    /// Row-major (`row * width + col`), true = blocked.
    pub blocked: Vec<bool>,
    /// Distance (m) from each cell centre to the nearest blocked cell centre (∞ when none).
    pub dist: Vec<f32>,
}

impl CollisionGrid {
    /// Reads `grid` with Nav2 semantics: values ≥ `occupied_threshold` are blocked, and unknown
    /// cells (−1) are blocked when `unknown_is_blocked`.
    pub fn from_occupancy(
        grid: &OccupancyGrid,
        occupied_threshold: i8,
        unknown_is_blocked: bool,
    ) -> Result<Self, PlanError> {
        check_finite("map resolution", &[grid.resolution])?;
        check_finite(
            "map origin",
            &[grid.origin.x(), grid.origin.y(), grid.origin.theta()],
        )?;
        if grid.resolution <= 0.0 || grid.width() == 0 || grid.height() == 0 {
            return Err(PlanError::InvalidParam {
                name: "map",
                reason: format!(
                    "needs a positive resolution and size, got {} m, {}×{}",
                    grid.resolution,
                    grid.width(),
                    grid.height()
                ),
            });
        }
        let (w, h) = (grid.width(), grid.height());
        let mut blocked = vec![false; w * h];
        for ((r, c), &v) in grid.data.indexed_iter() {
            blocked[r * w + c] = v >= occupied_threshold || (v < 0 && unknown_is_blocked);
        }
        let mut g = Self {
            width: w,
            height: h,
            resolution: grid.resolution,
            origin: grid.origin,
            blocked,
            dist: Vec::new(),
        };
        g.update_distances();
        Ok(g)
    }

    /// Builds the grid from any source of blocked cells (row-major `row * width + col`), e.g.
    /// the lethal cells of a costmap, so a costmap can stand in for the occupancy grid.
    pub fn from_cells(
        width: usize,
        height: usize,
        resolution: f64,
        origin: Pose2,
        blocked: Vec<bool>,
    ) -> Result<Self, PlanError> {
        check_finite("grid resolution", &[resolution])?;
        if resolution <= 0.0 || width == 0 || height == 0 || blocked.len() != width * height {
            return Err(PlanError::InvalidParam {
                name: "grid",
                reason: format!(
                    "{width}×{height} cells at {resolution} m with {} values",
                    blocked.len()
                ),
            });
        }
        let mut g = Self {
            width,
            height,
            resolution,
            origin,
            blocked,
            dist: Vec::new(),
        };
        g.update_distances();
        Ok(g)
    }

    /// Marks map-frame points (e.g. from a scan) as blocked and refreshes the distance field.
    pub fn add_obstacle_points(&mut self, points: &[[f64; 2]]) -> Result<(), PlanError> {
        for p in points {
            check_finite("obstacle point", p)?;
            let l = self.to_local(&Pose2::new(p[0], p[1], 0.0));
            if let Some(i) = self.index_of(l[0], l[1]) {
                self.blocked[i] = true;
            }
        }
        self.update_distances();
        Ok(())
    }

    /// Recomputes the exact Euclidean distance transform (Felzenszwalb & Huttenlocher: two
    /// passes of the 1D lower envelope of parabolas).
    pub fn update_distances(&mut self) {
        let (w, h) = (self.width, self.height);
        let inf = 1e20f64;
        let mut f: Vec<f64> = self
            .blocked
            .iter()
            .map(|&b| if b { 0.0 } else { inf })
            .collect();
        let mut buf_in = vec![0.0; w.max(h)];
        let mut buf_out = vec![0.0; w.max(h)];
        let mut v = vec![0usize; w.max(h)];
        let mut z = vec![0.0; w.max(h) + 1];
        for r in 0..h {
            buf_in[..w].copy_from_slice(&f[r * w..(r + 1) * w]);
            edt_1d(&buf_in[..w], &mut buf_out[..w], &mut v, &mut z);
            f[r * w..(r + 1) * w].copy_from_slice(&buf_out[..w]);
        }
        for c in 0..w {
            for r in 0..h {
                buf_in[r] = f[r * w + c];
            }
            edt_1d(&buf_in[..h], &mut buf_out[..h], &mut v, &mut z);
            for r in 0..h {
                f[r * w + c] = buf_out[r];
            }
        }
        let res = self.resolution;
        self.dist = f
            .into_iter()
            .map(|d2| {
                if d2 >= inf * 0.5 {
                    f32::INFINITY
                } else {
                    (d2.sqrt() * res) as f32
                }
            })
            .collect();
    }

    /// Cell index of grid-frame point (x, y), `None` off the grid.
    #[inline]
    pub fn index_of(&self, x: f64, y: f64) -> Option<usize> {
        let c = (x / self.resolution).floor();
        let r = (y / self.resolution).floor();
        if c < 0.0 || r < 0.0 || c >= self.width as f64 || r >= self.height as f64 {
            None
        } else {
            Some(r as usize * self.width + c as usize)
        }
    }

    /// Distance (m) from grid-frame point to the nearest blocked cell centre, 0 off the grid.
    #[inline]
    pub fn distance_at(&self, x: f64, y: f64) -> f64 {
        self.index_of(x, y).map_or(0.0, |i| self.dist[i] as f64)
    }

    /// Whether cell (col, row) is blocked; off-grid counts as blocked.
    #[inline]
    pub fn is_blocked(&self, col: i64, row: i64) -> bool {
        if col < 0 || row < 0 || col >= self.width as i64 || row >= self.height as i64 {
            return true;
        }
        self.blocked[row as usize * self.width + col as usize]
    }

    /// Map-frame pose → grid-frame (x, y, θ).
    pub fn to_local(&self, p: &Pose2) -> [f64; 3] {
        let l = self.origin.between(p);
        [l.x(), l.y(), l.theta()]
    }

    /// Grid-frame (x, y, θ) → map-frame pose.
    pub fn to_map(&self, l: [f64; 3]) -> Pose2 {
        self.origin * Pose2::new(l[0], l[1], l[2])
    }

    /// Grid size in metres (width, height).
    pub fn extent(&self) -> (f64, f64) {
        (
            self.width as f64 * self.resolution,
            self.height as f64 * self.resolution,
        )
    }
}

/// Squared distance transform of one line: `d[q] = min_p (q − p)² + f[p]`.
fn edt_1d(f: &[f64], d: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        loop {
            let p = v[k];
            let s =
                ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * (q as f64 - p as f64));
            if s <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            if s <= z[k] {
                // k == 0: replace the only parabola.
                v[0] = q;
                z[0] = f64::NEG_INFINITY;
                z[1] = f64::INFINITY;
                break;
            }
            k += 1;
            v[k] = q;
            z[k] = s;
            z[k + 1] = f64::INFINITY;
            break;
        }
    }
    k = 0;
    for (q, dq) in d.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        let dx = q as f64 - p as f64;
        *dq = dx * dx + f[p];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::maps::{FREE, OCCUPIED};

    #[test]
    fn distance_field_matches_brute_force() {
        let mut g = OccupancyGrid::filled(23, 17, 0.1, Pose2::identity(), FREE);
        for (c, r) in [(3, 4), (20, 1), (11, 15), (12, 15)] {
            g.data[[r, c]] = OCCUPIED;
        }
        let cg = CollisionGrid::from_occupancy(&g, 65, true).expect("valid grid");
        for r in 0..17i64 {
            for c in 0..23i64 {
                let want = [(3i64, 4i64), (20, 1), (11, 15), (12, 15)]
                    .iter()
                    .map(|&(oc, or)| (((oc - c).pow(2) + (or - r).pow(2)) as f64).sqrt() * 0.1)
                    .fold(f64::INFINITY, f64::min);
                let got = cg.dist[r as usize * 23 + c as usize] as f64;
                assert!((got - want).abs() < 1e-5, "({c},{r}): {got} vs {want}");
            }
        }
    }
}
