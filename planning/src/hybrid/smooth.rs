//! Path smoothing: gradient steps that pull each pose towards the midpoint of its neighbours
//! and away from nearby obstacles. A step is kept only if the footprint stays free and the
//! discrete curvature stays within the vehicle's limit, so smoothing never breaks a path.
//! Cusps (direction changes) and the end points stay fixed.

use super::footprint::Footprint;
use super::grid::CollisionGrid;
use super::search::LocalPath;
use courier_core::geometry::normalize_angle;

/// Menger curvature of three points (1 / radius of the circle through them).
pub fn menger_curvature(a: [f64; 3], b: [f64; 3], c: [f64; 3]) -> f64 {
    let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
    let (acx, acy) = (c[0] - a[0], c[1] - a[1]);
    let cross = (abx * acy - aby * acx).abs();
    let (la, lb, lc) = (
        abx.hypot(aby),
        (c[0] - b[0]).hypot(c[1] - b[1]),
        acx.hypot(acy),
    );
    let d = la * lb * lc;
    if d < 1e-12 { 0.0 } else { 2.0 * cross / d }
}

fn heading_at(poses: &[[f64; 3]], i: usize, forward: bool) -> f64 {
    let (a, b) = (poses[i - 1], poses[i + 1]);
    let t = (b[1] - a[1]).atan2(b[0] - a[0]);
    if forward {
        t
    } else {
        normalize_angle(t + std::f64::consts::PI)
    }
}

/// Smooths `path` in place.
pub fn smooth(
    path: &mut LocalPath,
    grid: &CollisionGrid,
    footprint: &Footprint,
    max_curvature: f64,
    iterations: usize,
) {
    let n = path.poses.len();
    if n < 5 {
        return;
    }
    // Fixed: ends, cusps and turns in place (where consecutive positions coincide).
    let mut fixed = vec![false; n];
    fixed[0] = true;
    fixed[n - 1] = true;
    for i in 1..n - 1 {
        let moved = |a: [f64; 3], b: [f64; 3]| (a[0] - b[0]).hypot(a[1] - b[1]) > 1e-6;
        if path.forward[i] != path.forward[i + 1]
            || !moved(path.poses[i - 1], path.poses[i])
            || !moved(path.poses[i], path.poses[i + 1])
        {
            fixed[i - 1] = true;
            fixed[i] = true;
            fixed[i + 1] = true;
        }
    }
    let (w_smooth, w_obs, alpha) = (0.4, 0.2, 0.5);
    let clearance = footprint.circumscribed + 0.2;
    let res = grid.resolution;
    let curv_ok = |p: &[[f64; 3]], i: usize| {
        (i.saturating_sub(1)..=(i + 1).min(n - 2))
            .filter(|&j| j >= 1)
            .all(|j| menger_curvature(p[j - 1], p[j], p[j + 1]) <= max_curvature * 1.02 + 1e-9)
    };
    for _ in 0..iterations {
        let mut changed = false;
        #[allow(clippy::needless_range_loop)] // neighbours i±1 are read and i is written
        for i in 1..n - 1 {
            if fixed[i] {
                continue;
            }
            let (a, b, c) = (path.poses[i - 1], path.poses[i], path.poses[i + 1]);
            let mut dx = w_smooth * (a[0] + c[0] - 2.0 * b[0]);
            let mut dy = w_smooth * (a[1] + c[1] - 2.0 * b[1]);
            let d = grid.distance_at(b[0], b[1]);
            if d < clearance {
                // Push down the distance field's gradient (central differences).
                let gx = grid.distance_at(b[0] + res, b[1]) - grid.distance_at(b[0] - res, b[1]);
                let gy = grid.distance_at(b[0], b[1] + res) - grid.distance_at(b[0], b[1] - res);
                let gn = gx.hypot(gy);
                if gn > 1e-9 {
                    let push = w_obs * (clearance - d) / clearance;
                    dx += push * gx / gn * res;
                    dy += push * gy / gn * res;
                }
            }
            if dx.hypot(dy) < 1e-5 {
                continue;
            }
            let old = path.poses[i];
            path.poses[i][0] += alpha * dx;
            path.poses[i][1] += alpha * dy;
            path.poses[i][2] = heading_at(&path.poses, i, path.forward[i]);
            let ok = curv_ok(&path.poses, i) && footprint.is_free(grid, path.poses[i]);
            if ok {
                changed = true;
            } else {
                path.poses[i] = old;
            }
        }
        if !changed {
            break;
        }
    }
    // Headings of unchanged interior poses keep their primitive headings.
}
