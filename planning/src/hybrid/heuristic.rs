//! The two heuristics of Hybrid-A*: an obstacle-aware holonomic one (8-connected Dijkstra from
//! the goal on a coarse grid, computed once per goal) and an obstacle-free non-holonomic one
//! (Reeds-Shepp or Dubins length, from a table precomputed once per vehicle).

use super::grid::CollisionGrid;
use super::{dubins, reeds_shepp};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Shortest obstacle-avoiding 2D distances to the goal on a grid of `cell`-metre cells.
#[derive(Debug, Clone)]
pub struct HolonomicHeuristic {
    pub cell: f64,
    pub width: usize,
    pub height: usize,
    /// Metres to the goal per coarse cell (∞ where unreachable).
    pub cost: Vec<f32>,
    pub goal_cell: (usize, usize),
}

impl HolonomicHeuristic {
    /// Dijkstra from the goal. A coarse cell is passable when any of its fine cells keeps at
    /// least `clearance` metres from obstacles (optimistic, so the heuristic stays a lower bound
    /// for the footprint's origin). Steps through cells closer than `comfort` metres to
    /// obstacles cost up to `1 + penalty` times more, steering the search away from gaps the
    /// footprint may not fit (this trades admissibility for far fewer expansions).
    pub fn compute(
        grid: &CollisionGrid,
        factor: usize,
        clearance: f64,
        goal: [f64; 2],
        comfort: f64,
        penalty: f64,
    ) -> Self {
        let f = factor.max(1);
        let (w, h) = (grid.width.div_ceil(f), grid.height.div_ceil(f));
        let mut best = vec![0f32; w * h];
        for r in 0..grid.height {
            for c in 0..grid.width {
                let i = (r / f) * w + c / f;
                best[i] = best[i].max(grid.dist[r * grid.width + c]);
            }
        }
        let mut passable: Vec<bool> = best.iter().map(|&d| d as f64 >= clearance).collect();
        let factor_of = |i: usize| -> f32 {
            let d = best[i] as f64;
            if penalty > 0.0 && comfort > 0.0 && d < comfort {
                (1.0 + penalty * (1.0 - d / comfort)) as f32
            } else {
                1.0
            }
        };
        let cell = grid.resolution * f as f64;
        let gc = (
            ((goal[0] / cell).floor().max(0.0) as usize).min(w - 1),
            ((goal[1] / cell).floor().max(0.0) as usize).min(h - 1),
        );
        let mut cost = vec![f32::INFINITY; w * h];
        let mut heap = BinaryHeap::new();
        let start = gc.1 * w + gc.0;
        cost[start] = 0.0;
        passable[start] = true;
        heap.push(Reverse((0u32, start as u32)));
        // Costs are kept as integer micrometres in the heap for a total order.
        let diag = (cell * std::f64::consts::SQRT_2) as f32;
        let straight = cell as f32;
        while let Some(Reverse((key, i))) = heap.pop() {
            let i = i as usize;
            let ci = cost[i];
            if key > (ci * 1e6) as u32 {
                continue; // stale entry
            }
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            for (dx, dy) in [
                (1, 0),
                (-1, 0),
                (0, 1),
                (0, -1),
                (1, 1),
                (1, -1),
                (-1, 1),
                (-1, -1),
            ] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if !passable[j] {
                    continue;
                }
                let nc = ci + factor_of(j) * if dx != 0 && dy != 0 { diag } else { straight };
                if nc < cost[j] {
                    cost[j] = nc;
                    heap.push(Reverse(((nc * 1e6) as u32, j as u32)));
                }
            }
        }
        Self {
            cell,
            width: w,
            height: h,
            cost,
            goal_cell: gc,
        }
    }

    /// Heuristic at grid-frame point (x, y): ∞ when unreachable or off the grid. Subtracts one
    /// coarse-cell diagonal so that sub-cell offsets never make it overestimate.
    #[inline]
    pub fn at(&self, x: f64, y: f64) -> f64 {
        let (c, r) = ((x / self.cell).floor(), (y / self.cell).floor());
        if c < 0.0 || r < 0.0 || c >= self.width as f64 || r >= self.height as f64 {
            return f64::INFINITY;
        }
        let v = self.cost[r as usize * self.width + c as usize] as f64;
        (v - self.cell * std::f64::consts::SQRT_2).max(0.0)
    }
}

/// Precomputed shortest Reeds-Shepp (or Dubins) lengths for goals within `extent` metres,
/// indexed by the goal's pose in the vehicle's frame.
#[derive(Debug, Clone)]
pub struct CurveTable {
    pub extent: f64,
    pub step: f64,
    pub bins: usize,
    n: usize,
    /// [x][y ≥ 0][φ] (the y < 0 half follows by reflection).
    table: Vec<f32>,
    pub reverse: bool,
    pub radius: f64,
}

impl CurveTable {
    pub fn new(radius: f64, reverse: bool, extent: f64, step: f64, bins: usize) -> Self {
        let n = (extent / step).round() as usize;
        let nx = 2 * n + 1;
        let ny = n + 1;
        let mut table = vec![0f32; nx * ny * bins];
        for ix in 0..nx {
            for iy in 0..ny {
                for k in 0..bins {
                    let x = (ix as f64 - n as f64) * step;
                    let y = iy as f64 * step;
                    let phi = k as f64 * std::f64::consts::TAU / bins as f64;
                    let d = curve_length([0.0, 0.0, 0.0], [x, y, phi], radius, reverse);
                    table[(ix * ny + iy) * bins + k] = d as f32;
                }
            }
        }
        Self {
            extent,
            step,
            bins,
            n,
            table,
            reverse,
            radius,
        }
    }

    /// Length from pose `from` to pose `to` (both x, y, θ), `None` outside the table.
    #[inline]
    pub fn lookup(&self, from: [f64; 3], to: [f64; 3]) -> Option<f64> {
        let (s, c) = from[2].sin_cos();
        self.lookup_sc(from, s, c, to)
    }

    /// [`CurveTable::lookup`] with the sine and cosine of `from[2]` given.
    #[inline]
    pub fn lookup_sc(&self, from: [f64; 3], s: f64, c: f64, to: [f64; 3]) -> Option<f64> {
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        let x = c * dx + s * dy;
        let mut y = -s * dx + c * dy;
        let mut phi = to[2] - from[2];
        if y < 0.0 {
            y = -y;
            phi = -phi;
        }
        let ix = (x / self.step).round() as i64 + self.n as i64;
        let iy = (y / self.step).round() as i64;
        if ix < 0 || ix > 2 * self.n as i64 || iy > self.n as i64 {
            return None;
        }
        let k = ((phi / std::f64::consts::TAU * self.bins as f64).round() as i64)
            .rem_euclid(self.bins as i64) as usize;
        let ny = self.n + 1;
        Some(self.table[(ix as usize * ny + iy as usize) * self.bins + k] as f64)
    }
}

/// Shortest curve length (Reeds-Shepp when reversing is allowed, else Dubins).
pub fn curve_length(from: [f64; 3], to: [f64; 3], radius: f64, reverse: bool) -> f64 {
    if reverse {
        reeds_shepp::distance(from, to, radius)
    } else {
        dubins::shortest_path(from, to, radius).map_or(f64::INFINITY, |p| p.length())
    }
}
