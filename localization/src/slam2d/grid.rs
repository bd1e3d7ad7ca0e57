//! Probability grids: the occupancy map a submap is made of. Cells hold the probability that
//! they are occupied, quantised to `u16` (0 = unknown), and are updated with hit/miss odds
//! through lookup tables, so one insertion costs one table read per touched cell.

use courier_core::Pose2;
use courier_core::maps::{OCCUPIED, OccupancyGrid, UNKNOWN};

/// Probabilities are kept in [MIN_PROB, MAX_PROB] so that no cell becomes certain and a later
/// change of the world can still be learnt.
pub const MIN_PROB: f32 = 0.1;
pub const MAX_PROB: f32 = 0.9;
const UNKNOWN_VALUE: u16 = 0;
const MAX_VALUE: u16 = 32767;
/// Set on a cell while one insertion is in progress, so a cell is updated at most once per scan.
const UPDATE_MARKER: u16 = 1 << 15;

fn value_to_prob(v: u16) -> f32 {
    if v == UNKNOWN_VALUE {
        MIN_PROB
    } else {
        MIN_PROB + (v - 1) as f32 * ((MAX_PROB - MIN_PROB) / (MAX_VALUE - 1) as f32)
    }
}

fn prob_to_value(p: f32) -> u16 {
    let p = p.clamp(MIN_PROB, MAX_PROB);
    1 + ((p - MIN_PROB) / (MAX_PROB - MIN_PROB) * (MAX_VALUE - 1) as f32).round() as u16
}

fn odds(p: f32) -> f32 {
    p / (1.0 - p)
}

/// Lookup tables shared by all grids of one SLAM run.
#[derive(Debug, Clone)]
pub struct GridTables {
    prob: Vec<f32>,
    hit: Vec<u16>,
    miss: Vec<u16>,
}

impl GridTables {
    /// Tables for the given hit and miss probabilities (each in (0, 1), hit > 0.5 > miss).
    pub fn new(hit_probability: f32, miss_probability: f32) -> Self {
        let n = UPDATE_MARKER as usize;
        let prob: Vec<f32> = (0..n).map(|v| value_to_prob(v as u16)).collect();
        let table = |p_upd: f32| -> Vec<u16> {
            (0..n)
                .map(|v| {
                    let p = if v == 0 {
                        p_upd
                    } else {
                        let o = odds(prob[v]) * odds(p_upd);
                        o / (1.0 + o)
                    };
                    prob_to_value(p) + UPDATE_MARKER
                })
                .collect()
        };
        Self {
            hit: table(hit_probability),
            miss: table(miss_probability),
            prob,
        }
    }
}

/// A probability grid that grows to hold whatever is inserted. Cell (ix, iy) covers
/// `[origin + ix·res, origin + (ix+1)·res) × …` in the grid's frame; index `iy * width + ix`.
#[derive(Debug, Clone)]
pub struct ProbGrid {
    pub resolution: f64,
    pub origin: [f64; 2],
    pub width: usize,
    pub height: usize,
    cells: Vec<u16>,
    /// Cells touched by the current insertion (to clear their update markers).
    touched: Vec<usize>,
}

/// Extra room (in cells) added on each side when the grid has to grow, so growth is rare.
const GROW_MARGIN: i64 = 100;

impl ProbGrid {
    /// An empty grid at `resolution` metres per cell, centred near `center`.
    pub fn new(resolution: f64, center: [f64; 2]) -> Self {
        let half = GROW_MARGIN as f64 * resolution;
        let w = 2 * GROW_MARGIN as usize;
        Self {
            resolution,
            origin: [center[0] - half, center[1] - half],
            width: w,
            height: w,
            cells: vec![UNKNOWN_VALUE; w * w],
            touched: Vec::new(),
        }
    }

    /// The (possibly off-grid) cell holding point (x, y).
    #[inline]
    pub fn cell_of(&self, x: f64, y: f64) -> (i64, i64) {
        (
            ((x - self.origin[0]) / self.resolution).floor() as i64,
            ((y - self.origin[1]) / self.resolution).floor() as i64,
        )
    }

    #[inline]
    fn index(&self, ix: i64, iy: i64) -> Option<usize> {
        (ix >= 0 && iy >= 0 && (ix as usize) < self.width && (iy as usize) < self.height)
            .then(|| iy as usize * self.width + ix as usize)
    }

    /// Occupancy probability of a cell; unknown and off-grid cells read as [`MIN_PROB`].
    #[inline]
    pub fn prob(&self, tables: &GridTables, ix: i64, iy: i64) -> f32 {
        match self.index(ix, iy) {
            Some(i) => tables.prob[self.cells[i] as usize],
            None => MIN_PROB,
        }
    }

    /// True when the cell has been observed.
    pub fn is_known(&self, ix: i64, iy: i64) -> bool {
        self.index(ix, iy)
            .is_some_and(|i| self.cells[i] != UNKNOWN_VALUE)
    }

    /// Grows the grid (keeping cell alignment) so that the box [lo, hi] lies inside.
    pub fn ensure_contains(&mut self, lo: [f64; 2], hi: [f64; 2]) {
        let (x0, y0) = self.cell_of(lo[0], lo[1]);
        let (x1, y1) = self.cell_of(hi[0], hi[1]);
        let (w, h) = (self.width as i64, self.height as i64);
        if x0 >= 0 && y0 >= 0 && x1 < w && y1 < h {
            return;
        }
        let nx0 = if x0 < 0 { x0 - GROW_MARGIN } else { 0 };
        let ny0 = if y0 < 0 { y0 - GROW_MARGIN } else { 0 };
        let nx1 = if x1 >= w { x1 + GROW_MARGIN } else { w - 1 };
        let ny1 = if y1 >= h { y1 + GROW_MARGIN } else { h - 1 };
        let (nw, nh) = ((nx1 - nx0 + 1) as usize, (ny1 - ny0 + 1) as usize);
        let mut cells = vec![UNKNOWN_VALUE; nw * nh];
        let (sx, sy) = ((-nx0) as usize, (-ny0) as usize);
        for row in 0..self.height {
            let src = &self.cells[row * self.width..(row + 1) * self.width];
            let dst = (row + sy) * nw + sx;
            cells[dst..dst + self.width].copy_from_slice(src);
        }
        self.origin = [
            self.origin[0] + nx0 as f64 * self.resolution,
            self.origin[1] + ny0 as f64 * self.resolution,
        ];
        self.width = nw;
        self.height = nh;
        self.cells = cells;
    }

    #[inline]
    fn apply(&mut self, i: usize, table: &[u16]) {
        let v = self.cells[i];
        if v < UPDATE_MARKER {
            self.cells[i] = table[v as usize];
            self.touched.push(i);
        }
    }

    /// Inserts one scan taken from `sensor` (grid frame): `hits` are beam end points (cells
    /// become more likely occupied), every beam's ray to its end point, and the rays to
    /// `free_ends` (no-return beams, cut short), become more likely free.
    pub fn insert(
        &mut self,
        tables: &GridTables,
        sensor: [f64; 2],
        hits: &[[f64; 2]],
        free_ends: &[[f64; 2]],
    ) {
        let mut lo = sensor;
        let mut hi = sensor;
        for p in hits.iter().chain(free_ends) {
            lo = [lo[0].min(p[0]), lo[1].min(p[1])];
            hi = [hi[0].max(p[0]), hi[1].max(p[1])];
        }
        self.ensure_contains(lo, hi);
        for p in hits {
            let (ix, iy) = self.cell_of(p[0], p[1]);
            if let Some(i) = self.index(ix, iy) {
                self.apply(i, &tables.hit);
            }
        }
        let inv = 1.0 / self.resolution;
        let s = [
            (sensor[0] - self.origin[0]) * inv,
            (sensor[1] - self.origin[1]) * inv,
        ];
        for (k, p) in hits.iter().chain(free_ends).enumerate() {
            let e = [(p[0] - self.origin[0]) * inv, (p[1] - self.origin[1]) * inv];
            let include_end = k >= hits.len();
            let mut cells = std::mem::take(&mut self.touched);
            traverse(s, e, include_end, |ix, iy| {
                if let Some(i) = self.index(ix, iy) {
                    let v = self.cells[i];
                    if v < UPDATE_MARKER {
                        self.cells[i] = tables.miss[v as usize];
                        cells.push(i);
                    }
                }
            });
            self.touched = cells;
        }
        for k in 0..self.touched.len() {
            let i = self.touched[k];
            self.cells[i] -= UPDATE_MARKER;
        }
        self.touched.clear();
    }

    /// Bicubic (Catmull-Rom) interpolation of the probability at grid-frame point (x, y), with
    /// its gradient (per metre). Smooth enough for Gauss-Newton refinement.
    pub fn interpolate(&self, tables: &GridTables, x: f64, y: f64) -> (f64, [f64; 2]) {
        let u = (x - self.origin[0]) / self.resolution - 0.5;
        let v = (y - self.origin[1]) / self.resolution - 0.5;
        let (iu, iv) = (u.floor(), v.floor());
        let (tu, tv) = (u - iu, v - iv);
        let (iu, iv) = (iu as i64, iv as i64);
        let (wu, du) = catmull_rom(tu);
        let (wv, dv) = catmull_rom(tv);
        let (mut val, mut gu, mut gv) = (0.0, 0.0, 0.0);
        // The 4×4 patch around the point; read without bounds checks per cell when inside.
        let mut patch = [[0.0f64; 4]; 4];
        let (w, h) = (self.width as i64, self.height as i64);
        if iu >= 1 && iv >= 1 && iu + 2 < w && iv + 2 < h {
            for (j, row) in patch.iter_mut().enumerate() {
                let start = (iv - 1 + j as i64) as usize * self.width + (iu - 1) as usize;
                for (i, v) in row.iter_mut().enumerate() {
                    *v = tables.prob[self.cells[start + i] as usize] as f64;
                }
            }
        } else {
            for (j, row) in patch.iter_mut().enumerate() {
                for (i, v) in row.iter_mut().enumerate() {
                    *v = self.prob(tables, iu - 1 + i as i64, iv - 1 + j as i64) as f64;
                }
            }
        }
        for j in 0..4 {
            let mut row = 0.0;
            let mut drow = 0.0;
            for i in 0..4 {
                let p = patch[j][i];
                row += wu[i] * p;
                drow += du[i] * p;
            }
            val += wv[j] * row;
            gu += wv[j] * drow;
            gv += dv[j] * row;
        }
        let inv = 1.0 / self.resolution;
        (val, [gu * inv, gv * inv])
    }

    /// The bounding box (in cells, inclusive) of the observed cells, if any.
    pub fn known_bounds(&self) -> Option<(usize, usize, usize, usize)> {
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for iy in 0..self.height {
            let row = &self.cells[iy * self.width..(iy + 1) * self.width];
            if let Some(first) = row.iter().position(|&v| v != UNKNOWN_VALUE) {
                let last = row
                    .iter()
                    .rposition(|&v| v != UNKNOWN_VALUE)
                    .unwrap_or(first);
                x0 = x0.min(first);
                x1 = x1.max(last);
                y0 = y0.min(iy);
                y1 = y1.max(iy);
            }
        }
        (x0 != usize::MAX).then_some((x0, y0, x1, y1))
    }

    /// The observed part of the grid as a Nav2-style [`OccupancyGrid`] (0 free … 100 occupied,
    /// -1 unknown) whose origin is in the same frame as this grid.
    pub fn to_occupancy(&self, tables: &GridTables) -> OccupancyGrid {
        let Some((x0, y0, x1, y1)) = self.known_bounds() else {
            return OccupancyGrid::filled(
                1,
                1,
                self.resolution,
                Pose2::new(self.origin[0], self.origin[1], 0.0),
                UNKNOWN,
            );
        };
        let origin = Pose2::new(
            self.origin[0] + x0 as f64 * self.resolution,
            self.origin[1] + y0 as f64 * self.resolution,
            0.0,
        );
        let mut g =
            OccupancyGrid::filled(x1 - x0 + 1, y1 - y0 + 1, self.resolution, origin, UNKNOWN);
        for iy in y0..=y1 {
            for ix in x0..=x1 {
                let v = self.cells[iy * self.width + ix];
                if v != UNKNOWN_VALUE {
                    let p = tables.prob[v as usize];
                    g.data[[iy - y0, ix - x0]] =
                        ((p * OCCUPIED as f32).round() as i8).min(OCCUPIED);
                }
            }
        }
        g
    }

    /// Occupancy of every cell quantised to 0..=255 (unknown → the value of [`MIN_PROB`]),
    /// row-major: the input of the branch-and-bound precomputation.
    pub fn to_u8(&self, tables: &GridTables) -> Vec<u8> {
        self.cells
            .iter()
            .map(|&v| (tables.prob[v as usize] * 255.0).round() as u8)
            .collect()
    }
}

/// Catmull-Rom weights of the four samples around fraction `t`, and their derivatives.
#[inline]
fn catmull_rom(t: f64) -> ([f64; 4], [f64; 4]) {
    let (t2, t3) = (t * t, t * t * t);
    (
        [
            0.5 * (-t3 + 2.0 * t2 - t),
            0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
            0.5 * (-3.0 * t3 + 4.0 * t2 + t),
            0.5 * (t3 - t2),
        ],
        [
            0.5 * (-3.0 * t2 + 4.0 * t - 1.0),
            0.5 * (9.0 * t2 - 10.0 * t),
            0.5 * (-9.0 * t2 + 8.0 * t + 1.0),
            0.5 * (3.0 * t2 - 2.0 * t),
        ],
    )
}

/// Visits the cells a ray crosses from `s` to `e` (both in cell units), in order
/// (Amanatides–Woo). The end cell is visited only if `include_end`.
fn traverse(s: [f64; 2], e: [f64; 2], include_end: bool, mut visit: impl FnMut(i64, i64)) {
    let (mut ix, mut iy) = (s[0].floor() as i64, s[1].floor() as i64);
    let (ex, ey) = (e[0].floor() as i64, e[1].floor() as i64);
    let d = [e[0] - s[0], e[1] - s[1]];
    let axis = |d: f64, s: f64, i: i64| -> (i64, f64, f64) {
        if d > 0.0 {
            (1, (i as f64 + 1.0 - s) / d, 1.0 / d)
        } else if d < 0.0 {
            (-1, (s - i as f64) / -d, -1.0 / d)
        } else {
            (0, f64::INFINITY, f64::INFINITY)
        }
    };
    let (stx, mut tx, dtx) = axis(d[0], s[0], ix);
    let (sty, mut ty, dty) = axis(d[1], s[1], iy);
    let steps = (ex - ix).abs() + (ey - iy).abs();
    for _ in 0..steps {
        visit(ix, iy);
        if tx < ty {
            ix += stx;
            tx += dtx;
        } else {
            iy += sty;
            ty += dty;
        }
    }
    if include_end {
        visit(ix, iy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_raise_and_misses_lower_probability() {
        let t = GridTables::new(0.55, 0.49);
        let mut g = ProbGrid::new(0.05, [0.0, 0.0]);
        for _ in 0..10 {
            g.insert(&t, [0.0, 0.0], &[[2.0, 0.01]], &[]);
        }
        let (hx, hy) = g.cell_of(2.0, 0.01);
        assert!(g.prob(&t, hx, hy) > 0.8);
        let (mx, my) = g.cell_of(1.0, 0.01);
        assert!(g.is_known(mx, my) && g.prob(&t, mx, my) < 0.45);
        // Growing keeps what was learnt.
        g.insert(&t, [0.0, 0.0], &[[30.0, -20.0]], &[]);
        let (hx, hy) = g.cell_of(2.0, 0.01);
        assert!(g.prob(&t, hx, hy) > 0.8);
        let occ = g.to_occupancy(&t);
        assert_eq!(occ.census().1, 1, "only the cell hit ten times is occupied");
    }

    #[test]
    fn ray_traversal_visits_connected_cells() {
        let mut cells = Vec::new();
        traverse([0.5, 0.5], [3.5, 2.2], false, |x, y| cells.push((x, y)));
        assert_eq!(cells.first(), Some(&(0, 0)));
        assert_eq!(cells.len(), 5);
        for w in cells.windows(2) {
            assert_eq!((w[1].0 - w[0].0).abs() + (w[1].1 - w[0].1).abs(), 1);
        }
    }

    #[test]
    fn interpolation_gradient_matches_finite_differences() {
        let t = GridTables::new(0.55, 0.49);
        let mut g = ProbGrid::new(0.05, [0.0, 0.0]);
        for k in 0..40 {
            let y = -1.0 + k as f64 * 0.05;
            g.insert(&t, [0.0, 0.0], &[[1.5, y]], &[]);
        }
        let (x, y) = (1.47, 0.13);
        let (_, grad) = g.interpolate(&t, x, y);
        let h = 1e-5;
        let dx = (g.interpolate(&t, x + h, y).0 - g.interpolate(&t, x - h, y).0) / (2.0 * h);
        let dy = (g.interpolate(&t, x, y + h).0 - g.interpolate(&t, x, y - h).0) / (2.0 * h);
        assert!((dx - grad[0]).abs() < 1e-4 && (dy - grad[1]).abs() < 1e-4);
        assert!(grad[0] > 0.0, "probability rises towards the wall");
    }
}
