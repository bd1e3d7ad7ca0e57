//! Scan-to-grid matching: a real-time correlative search over a small window (exhaustive,
//! on the nearest-cell probabilities) and Gauss-Newton / Levenberg-Marquardt refinement on the
//! bicubic-interpolated grid with a prior that pulls towards a predicted pose.

use super::grid::{GridTables, ProbGrid};
use courier_core::Pose2;
use courier_core::geometry::normalize_angle;
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// Weights of the refinement cost
/// `Σ (occupied/√N · (1 − P(T·pᵢ)))² + (translation · |t − t̂|)² + (rotation · (θ − θ̂))²`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefineParams {
    /// Weight of the map term (dimensionless; 1 = as Cartographer's local matcher).
    pub occupied_weight: f64,
    /// Weight (1/m) of the pull towards the predicted translation.
    pub translation_weight: f64,
    /// Weight (1/rad) of the pull towards the predicted heading.
    pub rotation_weight: f64,
    /// Iteration cap of the Levenberg-Marquardt loop.
    pub max_iterations: usize,
}

impl Default for RefineParams {
    fn default() -> Self {
        Self {
            occupied_weight: 1.0,
            translation_weight: 10.0,
            rotation_weight: 40.0,
            max_iterations: 20,
        }
    }
}

/// Pose as (x, y, θ).
fn xyt(p: &Pose2) -> Vector3<f64> {
    Vector3::new(p.x(), p.y(), p.theta())
}

/// Mean nearest-cell probability of the points (robot frame) placed at `pose` (grid frame).
pub fn score(grid: &ProbGrid, tables: &GridTables, points: &[[f64; 2]], pose: &Pose2) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    let (s, c) = pose.theta().sin_cos();
    let sum: f64 = points
        .iter()
        .map(|p| {
            let x = pose.x() + c * p[0] - s * p[1];
            let y = pose.y() + s * p[0] + c * p[1];
            let (ix, iy) = grid.cell_of(x, y);
            grid.prob(tables, ix, iy) as f64
        })
        .sum();
    sum / points.len() as f64
}

/// Cost of the refinement at pose `v` (robust to nothing: the map term is bounded anyway).
fn refine_cost(
    grid: &ProbGrid,
    tables: &GridTables,
    points: &[[f64; 2]],
    v: &Vector3<f64>,
    target: &Vector3<f64>,
    w: &RefineParams,
    scale: f64,
) -> f64 {
    let (s, c) = v.z.sin_cos();
    let mut cost = 0.0;
    for p in points {
        let x = v.x + c * p[0] - s * p[1];
        let y = v.y + s * p[0] + c * p[1];
        let r = scale * (1.0 - grid.interpolate(tables, x, y).0);
        cost += r * r;
    }
    let dt = (v.x - target.x).powi(2) + (v.y - target.y).powi(2);
    let da = normalize_angle(v.z - target.z);
    cost + w.translation_weight.powi(2) * dt + (w.rotation_weight * da).powi(2)
}

/// Refines `init` (grid frame) by Levenberg-Marquardt, with the prior centred on `target`.
/// Returns the refined pose.
pub fn refine(
    grid: &ProbGrid,
    tables: &GridTables,
    points: &[[f64; 2]],
    init: &Pose2,
    target: &Pose2,
    w: &RefineParams,
) -> Pose2 {
    if points.is_empty() {
        return *init;
    }
    let scale = w.occupied_weight / (points.len() as f64).sqrt();
    let target = xyt(target);
    let mut v = xyt(init);
    let mut cost = refine_cost(grid, tables, points, &v, &target, w, scale);
    let mut lambda = 1e-4;
    for _ in 0..w.max_iterations {
        let (s, c) = v.z.sin_cos();
        let mut h = Matrix3::zeros();
        let mut g = Vector3::zeros();
        for p in points {
            let x = v.x + c * p[0] - s * p[1];
            let y = v.y + s * p[0] + c * p[1];
            let (val, grad) = grid.interpolate(tables, x, y);
            let r = scale * (1.0 - val);
            // d(x, y)/dθ of the transformed point.
            let dxt = -s * p[0] - c * p[1];
            let dyt = c * p[0] - s * p[1];
            let j = -scale * Vector3::new(grad[0], grad[1], grad[0] * dxt + grad[1] * dyt);
            h += j * j.transpose();
            g += j * r;
        }
        let (wt2, wr2) = (w.translation_weight.powi(2), w.rotation_weight.powi(2));
        h[(0, 0)] += wt2;
        h[(1, 1)] += wt2;
        h[(2, 2)] += wr2;
        g.x += wt2 * (v.x - target.x);
        g.y += wt2 * (v.y - target.y);
        g.z += wr2 * normalize_angle(v.z - target.z);
        let mut improved = false;
        for _ in 0..6 {
            let mut hd = h;
            for k in 0..3 {
                hd[(k, k)] *= 1.0 + lambda;
            }
            let Some(ch) = hd.cholesky() else {
                lambda *= 10.0;
                continue;
            };
            let step = -ch.solve(&g);
            let cand = Vector3::new(v.x + step.x, v.y + step.y, normalize_angle(v.z + step.z));
            let c2 = refine_cost(grid, tables, points, &cand, &target, w, scale);
            if c2 < cost {
                let done = step.xy().norm() < 1e-5 && step.z.abs() < 1e-5;
                v = cand;
                cost = c2;
                lambda = (lambda * 0.3).max(1e-7);
                improved = !done;
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Pose2::new(v.x, v.y, v.z)
}

/// The window of a correlative search.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorrelativeParams {
    /// Half-width of the translation window (m).
    pub linear_window: f64,
    /// Half-width of the rotation window (degrees).
    pub angular_window_deg: f64,
    /// Rotation step (degrees); the translation step is one grid cell.
    pub angular_step_deg: f64,
    /// Candidates are scored `mean P · exp(−(wₜ·|Δt|)² − (w_θ·|Δθ|)²)` with these weights
    /// (1/m, 1/rad), which prefer the prediction among equally good fits.
    pub translation_delta_cost_weight: f64,
    pub rotation_delta_cost_weight: f64,
}

impl Default for CorrelativeParams {
    fn default() -> Self {
        Self {
            linear_window: 0.1,
            angular_window_deg: 6.0,
            angular_step_deg: 0.5,
            translation_delta_cost_weight: 0.1,
            rotation_delta_cost_weight: 0.1,
        }
    }
}

/// Exhaustive correlative search around `center` (grid frame). `buf` is scratch space reused
/// from call to call. Returns the best pose and its (unweighted) mean probability.
pub fn correlative(
    grid: &ProbGrid,
    tables: &GridTables,
    points: &[[f64; 2]],
    center: &Pose2,
    p: &CorrelativeParams,
    buf: &mut Vec<(i64, i64)>,
) -> (Pose2, f64) {
    if points.is_empty() {
        return (*center, 0.0);
    }
    let res = grid.resolution;
    let nl = (p.linear_window / res).round().max(0.0) as i64;
    let step = p.angular_step_deg.to_radians().max(1e-4);
    let na = (p.angular_window_deg.to_radians() / step).round().max(0.0) as i64;
    let n = points.len() as f64;
    let mut best = (*center, f64::NEG_INFINITY, 0.0);
    for ka in -na..=na {
        let da = ka as f64 * step;
        let th = center.theta() + da;
        let (s, c) = th.sin_cos();
        buf.clear();
        buf.extend(points.iter().map(|q| {
            grid.cell_of(
                center.x() + c * q[0] - s * q[1],
                center.y() + s * q[0] + c * q[1],
            )
        }));
        let rot_pen = (p.rotation_delta_cost_weight * da).powi(2);
        for dy in -nl..=nl {
            for dx in -nl..=nl {
                let sum: f32 = buf
                    .iter()
                    .map(|&(ix, iy)| grid.prob(tables, ix + dx, iy + dy))
                    .sum();
                let mean = sum as f64 / n;
                let dist2 = ((dx * dx + dy * dy) as f64) * res * res;
                let pen = (p.translation_delta_cost_weight.powi(2) * dist2 + rot_pen).min(50.0);
                let weighted = mean * (-pen).exp();
                if weighted > best.1 {
                    best = (
                        Pose2::new(
                            center.x() + dx as f64 * res,
                            center.y() + dy as f64 * res,
                            th,
                        ),
                        weighted,
                        mean,
                    );
                }
            }
        }
    }
    (best.0, best.2)
}
