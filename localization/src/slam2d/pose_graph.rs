//! An SE(2) pose graph and its back-end: sparse Levenberg-Marquardt over all poses, with robust
//! kernels (Huber, Cauchy) applied per constraint by iteratively reweighted least squares.

use super::sparse::{BlockMatrix, Symbolic, pattern};
use crate::error::{LocalizationError, Result};
use courier_core::Pose2;
use courier_core::geometry::normalize_angle;
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// A robust loss ρ(s) of the squared weighted residual s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RobustKernel {
    /// ρ(s) = s.
    None,
    /// Quadratic up to |r| = δ, linear beyond.
    Huber(f64),
    /// ρ(s) = δ² ln(1 + s/δ²): outliers lose almost all influence.
    Cauchy(f64),
}

impl RobustKernel {
    /// (ρ(s), ρ'(s)).
    fn eval(&self, s: f64) -> (f64, f64) {
        match *self {
            RobustKernel::None => (s, 1.0),
            RobustKernel::Huber(d) => {
                if s <= d * d {
                    (s, 1.0)
                } else {
                    let r = s.sqrt();
                    (2.0 * d * r - d * d, d / r)
                }
            }
            RobustKernel::Cauchy(d) => {
                let d2 = d * d;
                (d2 * (1.0 + s / d2).ln(), 1.0 / (1.0 + s / d2))
            }
        }
    }
}

/// A measurement of pose `b` in the frame of pose `a`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    pub a: usize,
    pub b: usize,
    pub z: Pose2,
    /// Square roots of the information: residuals are scaled by these (1/m, 1/rad).
    pub translation_weight: f64,
    pub rotation_weight: f64,
    pub kernel: RobustKernel,
}

impl Constraint {
    /// Weighted residual and its Jacobians with respect to (x, y, θ) of a and b.
    fn linearize(&self, pa: &Pose2, pb: &Pose2) -> (Vector3<f64>, Matrix3<f64>, Matrix3<f64>) {
        let (s, c) = pa.theta().sin_cos();
        let d = pb.translation() - pa.translation();
        let (wt, wr) = (self.translation_weight, self.rotation_weight);
        let r = Vector3::new(
            wt * (c * d.x + s * d.y - self.z.x()),
            wt * (-s * d.x + c * d.y - self.z.y()),
            wr * normalize_angle(pb.theta() - pa.theta() - self.z.theta()),
        );
        let ja = Matrix3::new(
            -wt * c,
            -wt * s,
            wt * (-s * d.x + c * d.y),
            wt * s,
            -wt * c,
            wt * (-c * d.x - s * d.y),
            0.0,
            0.0,
            -wr,
        );
        let jb = Matrix3::new(wt * c, wt * s, 0.0, -wt * s, wt * c, 0.0, 0.0, 0.0, wr);
        (r, ja, jb)
    }

    /// Squared weighted residual norm at the given poses.
    pub fn squared_error(&self, pa: &Pose2, pb: &Pose2) -> f64 {
        self.linearize(pa, pb).0.norm_squared()
    }
}

/// Options of one optimisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolverParams {
    pub max_iterations: usize,
    /// Stop when the cost falls by less than this fraction in an iteration.
    pub relative_tolerance: f64,
}

impl Default for SolverParams {
    fn default() -> Self {
        Self {
            max_iterations: 20,
            relative_tolerance: 1e-6,
        }
    }
}

/// What an optimisation did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizeReport {
    pub iterations: usize,
    pub initial_cost: f64,
    pub final_cost: f64,
}

/// Poses (some of them fixed, at least one to fix the gauge) and constraints between them.
#[derive(Debug, Clone, Default)]
pub struct PoseGraph {
    pub poses: Vec<Pose2>,
    pub fixed: Vec<bool>,
    pub constraints: Vec<Constraint>,
}

impl PoseGraph {
    pub fn add_pose(&mut self, p: Pose2, fixed: bool) -> usize {
        self.poses.push(p);
        self.fixed.push(fixed);
        self.poses.len() - 1
    }

    pub fn add_constraint(&mut self, c: Constraint) -> Result<()> {
        let n = self.poses.len();
        if c.a >= n || c.b >= n || c.a == c.b {
            return Err(LocalizationError::InvalidInput(format!(
                "constraint between poses {} and {} of {n}",
                c.a, c.b
            )));
        }
        if !(c.z.is_finite() && c.translation_weight.is_finite() && c.rotation_weight.is_finite()) {
            return Err(LocalizationError::InvalidInput(format!(
                "constraint between poses {} and {} is not finite",
                c.a, c.b
            )));
        }
        self.constraints.push(c);
        Ok(())
    }

    /// Total robust cost.
    pub fn cost(&self) -> f64 {
        self.constraints
            .iter()
            .map(|c| {
                c.kernel
                    .eval(c.squared_error(&self.poses[c.a], &self.poses[c.b]))
                    .0
            })
            .sum()
    }

    /// Sparse Levenberg-Marquardt over the free poses.
    pub fn optimize(&mut self, params: &SolverParams) -> Result<OptimizeReport> {
        // Variable index of each free pose.
        let mut var = vec![usize::MAX; self.poses.len()];
        let mut nvar = 0;
        for (i, &f) in self.fixed.iter().enumerate() {
            if !f {
                var[i] = nvar;
                nvar += 1;
            }
        }
        let initial_cost = self.cost();
        let mut report = OptimizeReport {
            iterations: 0,
            initial_cost,
            final_cost: initial_cost,
        };
        if nvar == 0 || self.constraints.is_empty() {
            return Ok(report);
        }
        let mut cost = initial_cost;
        let mut lambda = 1e-5;
        // The block pattern (and so the ordering) is fixed for the whole optimisation.
        let links: Vec<(usize, usize)> = self
            .constraints
            .iter()
            .filter(|c| var[c.a] != usize::MAX && var[c.b] != usize::MAX)
            .map(|c| (var[c.a], var[c.b]))
            .collect();
        let (pairs, slots) = pattern(&links);
        let mut h = BlockMatrix::new(nvar, pairs);
        let sym = Symbolic::analyse(&h);
        let mut g = vec![Vector3::zeros(); nvar];
        for it in 0..params.max_iterations {
            self.normal_equations(&var, &slots, &mut h, &mut g);
            let neg_g: Vec<Vector3<f64>> = g.iter().map(|v| -v).collect();
            let mut accepted = false;
            for _ in 0..10 {
                let damping: Vec<Vector3<f64>> = h
                    .diag
                    .iter()
                    .map(|m| m.diagonal() * lambda + Vector3::repeat(1e-9))
                    .collect();
                let Some(step) = sym.solve(&h, &damping, &neg_g) else {
                    lambda *= 10.0;
                    continue;
                };
                let old = self.poses.clone();
                for (i, p) in self.poses.iter_mut().enumerate() {
                    if var[i] != usize::MAX {
                        let d = step[var[i]];
                        *p = Pose2::new(p.x() + d.x, p.y() + d.y, normalize_angle(p.theta() + d.z));
                    }
                }
                let new_cost = self.cost();
                if new_cost.is_finite() && new_cost <= cost {
                    let rel = (cost - new_cost) / cost.max(1e-300);
                    cost = new_cost;
                    lambda = (lambda * 0.2).max(1e-12);
                    accepted = rel >= params.relative_tolerance;
                    break;
                }
                self.poses = old;
                lambda *= 10.0;
            }
            report.iterations = it + 1;
            if !accepted {
                break;
            }
        }
        if !cost.is_finite() {
            return Err(LocalizationError::Optimization(
                "cost is not finite".to_string(),
            ));
        }
        report.final_cost = cost;
        Ok(report)
    }

    /// Gauss-Newton normal equations JᵀρJ, Jᵀρr at the current poses (IRLS weights ρ'), into
    /// `h` and `g`; `slots` gives the off-diagonal block of each constraint linking free poses.
    fn normal_equations(
        &self,
        var: &[usize],
        slots: &[(usize, bool)],
        h: &mut BlockMatrix,
        g: &mut [Vector3<f64>],
    ) {
        h.clear();
        g.iter_mut().for_each(|v| *v = Vector3::zeros());
        let mut link = 0;
        for c in &self.constraints {
            let (r, ja, jb) = c.linearize(&self.poses[c.a], &self.poses[c.b]);
            let w = c.kernel.eval(r.norm_squared()).1;
            let (va, vb) = (var[c.a], var[c.b]);
            let free_a = va != usize::MAX;
            let free_b = vb != usize::MAX;
            if free_a {
                h.diag[va] += w * ja.transpose() * ja;
                g[va] += w * ja.transpose() * r;
            }
            if free_b {
                h.diag[vb] += w * jb.transpose() * jb;
                g[vb] += w * jb.transpose() * r;
            }
            if free_a && free_b {
                // Block (va, vb) = Jaᵀ Jb; stored as (row > column).
                let (slot, transposed) = slots[link];
                link += 1;
                let m = w * ja.transpose() * jb;
                h.off[slot] += if transposed { m.transpose() } else { m };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_are_continuous_and_downweight() {
        for k in [RobustKernel::Huber(1.0), RobustKernel::Cauchy(1.0)] {
            let (a, _) = k.eval(1.0 - 1e-9);
            let (b, _) = k.eval(1.0 + 1e-9);
            assert!((a - b).abs() < 1e-6);
            assert!(k.eval(100.0).1 < 0.2);
        }
    }

    #[test]
    fn jacobians_match_finite_differences() {
        let c = Constraint {
            a: 0,
            b: 1,
            z: Pose2::new(0.3, -0.2, 0.4),
            translation_weight: 3.0,
            rotation_weight: 5.0,
            kernel: RobustKernel::None,
        };
        let pa = Pose2::new(1.0, 2.0, 0.7);
        let pb = Pose2::new(1.5, 1.0, -0.3);
        let (r0, ja, jb) = c.linearize(&pa, &pb);
        let h = 1e-6;
        for k in 0..3 {
            let mut d = [0.0; 3];
            d[k] = h;
            let pa2 = Pose2::new(pa.x() + d[0], pa.y() + d[1], pa.theta() + d[2]);
            let pb2 = Pose2::new(pb.x() + d[0], pb.y() + d[1], pb.theta() + d[2]);
            let na = (c.linearize(&pa2, &pb).0 - r0) / h;
            let nb = (c.linearize(&pa, &pb2).0 - r0) / h;
            for row in 0..3 {
                assert!((na[row] - ja[(row, k)]).abs() < 1e-4);
                assert!((nb[row] - jb[(row, k)]).abs() < 1e-4);
            }
        }
    }
}
