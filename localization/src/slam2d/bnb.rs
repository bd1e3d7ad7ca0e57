//! Loop-closure search: branch-and-bound correlative matching of a scan against a finished
//! submap over a large window (after Olson's multi-resolution correlative matching). Level `k`
//! of the precomputed stack holds, at cell x, the maximum of the base grid over
//! `[x, x + 2ᵏ)²`, so a level-k score bounds the scores of all 4ᵏ finer offsets it covers.

use super::grid::{GridTables, ProbGrid};
use courier_core::Pose2;

#[derive(Debug, Clone)]
struct Level {
    /// Cells covered: x in [-(2ᵏ − 1), width), likewise y.
    offset: i64,
    width: i64,
    height: i64,
    data: Vec<u8>,
}

impl Level {
    #[inline]
    fn get(&self, x: i64, y: i64) -> u8 {
        let (ux, uy) = (x + self.offset, y + self.offset);
        if ux < 0 || uy < 0 || ux >= self.width || uy >= self.height {
            0
        } else {
            self.data[(uy * self.width + ux) as usize]
        }
    }
}

/// The multi-resolution max-grids of one finished submap.
#[derive(Debug, Clone)]
pub struct Precomputed {
    levels: Vec<Level>,
    resolution: f64,
    origin: [f64; 2],
}

impl Precomputed {
    /// Builds `depth` levels (level 0 is the grid itself) from a finished submap's grid.
    pub fn new(grid: &ProbGrid, tables: &GridTables, depth: usize) -> Self {
        let base = grid.to_u8(tables);
        let (w, h) = (grid.width as i64, grid.height as i64);
        let mut levels = vec![Level {
            offset: 0,
            width: w,
            height: h,
            data: base,
        }];
        for k in 1..depth.max(1) {
            let prev = &levels[k - 1];
            let half = 1i64 << (k - 1);
            let offset = (1i64 << k) - 1;
            let (lw, lh) = (w + offset, h + offset);
            let mut data = vec![0u8; (lw * lh) as usize];
            for uy in 0..lh {
                let y = uy - offset;
                for ux in 0..lw {
                    let x = ux - offset;
                    data[(uy * lw + ux) as usize] = prev
                        .get(x, y)
                        .max(prev.get(x + half, y))
                        .max(prev.get(x, y + half))
                        .max(prev.get(x + half, y + half));
                }
            }
            levels.push(Level {
                offset,
                width: lw,
                height: lh,
                data,
            });
        }
        Self {
            levels,
            resolution: grid.resolution,
            origin: grid.origin,
        }
    }

    /// Bytes held (for memory accounting).
    pub fn bytes(&self) -> usize {
        self.levels.iter().map(|l| l.data.len()).sum()
    }
}

/// The window and acceptance threshold of a branch-and-bound search.
#[derive(Debug, Clone, Copy)]
pub struct BnbWindow {
    pub linear: f64,
    /// Coarsest level used (capped by the precomputed depth); a small window needs few.
    pub max_level: usize,
    pub angular: f64,
    pub angular_step: f64,
    pub min_score: f64,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    angle: usize,
    dx: i64,
    dy: i64,
    score: u32,
}

/// Searches the best pose of `points` (robot frame) around `center` (submap frame) within
/// the window; returns it with its score (mean probability) if the score reaches
/// `min_score`.
pub fn search(
    pre: &Precomputed,
    points: &[[f64; 2]],
    center: &Pose2,
    win: &BnbWindow,
) -> Option<(Pose2, f64)> {
    if points.is_empty() {
        return None;
    }
    let res = pre.resolution;
    let nl = (win.linear / res).ceil() as i64;
    let na = (win.angular / win.angular_step).ceil() as i64;
    let angles: Vec<f64> = (-na..=na)
        .map(|k| center.theta() + k as f64 * win.angular_step)
        .collect();
    // Discretised rotated scans, one per angle.
    let scans: Vec<Vec<(i64, i64)>> = angles
        .iter()
        .map(|&th| {
            let (s, c) = th.sin_cos();
            points
                .iter()
                .map(|p| {
                    let x = center.x() + c * p[0] - s * p[1];
                    let y = center.y() + s * p[0] + c * p[1];
                    (
                        ((x - pre.origin[0]) / res).floor() as i64,
                        ((y - pre.origin[1]) / res).floor() as i64,
                    )
                })
                .collect()
        })
        .collect();
    let top = (pre.levels.len() - 1).min(win.max_level);
    let score_at = |level: usize, angle: usize, dx: i64, dy: i64| -> u32 {
        let l = &pre.levels[level];
        scans[angle]
            .iter()
            .map(|&(x, y)| l.get(x + dx, y + dy) as u32)
            .sum()
    };
    let n = points.len() as f64;
    let min_sum = (win.min_score * 255.0 * n).ceil() as u32;
    let step = 1i64 << top;
    let mut cands = Vec::new();
    for a in 0..angles.len() {
        let mut dy = -nl;
        while dy <= nl {
            let mut dx = -nl;
            while dx <= nl {
                let score = score_at(top, a, dx, dy);
                if score >= min_sum {
                    cands.push(Candidate {
                        angle: a,
                        dx,
                        dy,
                        score,
                    });
                }
                dx += step;
            }
            dy += step;
        }
    }
    cands.sort_unstable_by_key(|c| std::cmp::Reverse(c.score));
    let mut best: Option<Candidate> = None;
    let mut best_score = min_sum.saturating_sub(1);
    branch(&cands, top, nl, &score_at, &mut best, &mut best_score);
    best.map(|b| {
        (
            Pose2::new(
                center.x() + b.dx as f64 * res,
                center.y() + b.dy as f64 * res,
                angles[b.angle],
            ),
            b.score as f64 / (255.0 * n),
        )
    })
}

/// Depth-first branch and bound over candidates sorted by descending bound.
fn branch(
    cands: &[Candidate],
    level: usize,
    nl: i64,
    score_at: &impl Fn(usize, usize, i64, i64) -> u32,
    best: &mut Option<Candidate>,
    best_score: &mut u32,
) {
    for c in cands {
        if c.score <= *best_score {
            break;
        }
        if level == 0 {
            *best = Some(*c);
            *best_score = c.score;
            continue;
        }
        let half = 1i64 << (level - 1);
        let mut children = Vec::with_capacity(4);
        for (ox, oy) in [(0, 0), (half, 0), (0, half), (half, half)] {
            let (dx, dy) = (c.dx + ox, c.dy + oy);
            if dx > nl || dy > nl {
                continue;
            }
            let score = score_at(level - 1, c.angle, dx, dy);
            if score > *best_score {
                children.push(Candidate {
                    angle: c.angle,
                    dx,
                    dy,
                    score,
                });
            }
        }
        children.sort_unstable_by_key(|c| std::cmp::Reverse(c.score));
        branch(&children, level - 1, nl, score_at, best, best_score);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_bounds_dominate_finer_levels() {
        let t = GridTables::new(0.55, 0.49);
        let mut g = ProbGrid::new(0.05, [0.0, 0.0]);
        for k in 0..60 {
            let a = k as f64 * 0.1;
            g.insert(&t, [0.0, 0.0], &[[2.0 * a.cos(), 1.3 * a.sin()]], &[]);
        }
        let pre = Precomputed::new(&g, &t, 5);
        for (x, y) in [(10, 10), (150, 190), (-3, 7), (199, 0)] {
            for k in 1..5 {
                let half = 1 << (k - 1);
                let lo = &pre.levels[k - 1];
                let hi = pre.levels[k].get(x, y);
                for (ox, oy) in [(0, 0), (half, 0), (0, half), (half, half)] {
                    assert!(hi >= lo.get(x + ox, y + oy));
                }
            }
        }
    }
}
