//! MPPI (model predictive path integral) control: sample a fixed number of noisy control
//! sequences around the previous plan, roll each out through the unicycle model, score it
//! (distance to the path, progress, heading, collisions, effort), and average the samples with
//! weights exp(−cost/λ). Seeded: the same inputs give the same commands.

use super::world::{FollowPath, Tracking, World};
use super::{ControlParams, apply_limits};
use crate::hybrid::Footprint;
use courier_core::Twist2;
use courier_core::geometry::normalize_angle;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// MPPI parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MppiParams {
    /// Sampled sequences per step (default 256).
    pub samples: usize,
    /// Steps per rollout (default 20).
    pub horizon: usize,
    /// Model step (s, default 0.1).
    pub step: f64,
    /// Noise standard deviation of speed (m/s, default 0.25) and yaw rate (rad/s, default 0.8).
    pub noise_v: f64,
    pub noise_w: f64,
    /// Temperature λ (default 0.5).
    pub temperature: f64,
    /// Weight of the squared distance to the path (default 20).
    pub w_path: f64,
    /// Weight of the remaining arc length at the end of the rollout (default 4).
    pub w_progress: f64,
    /// Weight of the heading error against the nearest path pose (default 1).
    pub w_heading: f64,
    /// Weight of the yaw rate (default 0.05).
    pub w_effort: f64,
    /// Cost of a rollout whose footprint collides (default 1e4).
    pub collision_cost: f64,
    /// Seed of the noise (default 0).
    pub seed: u64,
}

impl Default for MppiParams {
    fn default() -> Self {
        Self {
            samples: 256,
            horizon: 20,
            step: 0.1,
            noise_v: 0.25,
            noise_w: 0.8,
            temperature: 0.5,
            w_path: 20.0,
            w_progress: 4.0,
            w_heading: 1.0,
            w_effort: 0.05,
            collision_cost: 1e4,
            seed: 0,
        }
    }
}

/// The MPPI controller with its warm-started mean sequence and its random stream.
#[derive(Debug, Clone)]
pub struct Mppi {
    mean: Vec<(f64, f64)>,
    rng: ChaCha8Rng,
    pub progress: usize,
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Mppi {
    pub fn new(params: &MppiParams) -> Self {
        Self {
            mean: vec![(0.0, 0.0); params.horizon.max(1)],
            rng: ChaCha8Rng::seed_from_u64(params.seed),
            progress: 0,
        }
    }

    /// The next command (twist, end of path reached).
    #[allow(clippy::too_many_arguments)]
    pub fn command(
        &mut self,
        params: &ControlParams,
        fp: &Footprint,
        path: &FollowPath,
        world: &World,
        pose: [f64; 3],
        prev: Twist2,
        dt: f64,
    ) -> (Twist2, bool) {
        let mp = &params.mppi;
        let lim = &params.limits;
        let (i, seg_end, forward, end) =
            match path.track(pose, &mut self.progress, prev.vx, params.goal_tolerance) {
                Tracking::Stop { done } => {
                    if done {
                        self.mean.iter_mut().for_each(|m| *m = (0.0, 0.0));
                    }
                    return (apply_limits(Twist2::default(), prev, lim, dt), done);
                }
                Tracking::Follow {
                    i,
                    seg_end,
                    forward,
                    end,
                    ..
                } => (i, seg_end, forward, end),
            };
        let (vlo, vhi) = if forward {
            (0.0, lim.max_speed)
        } else {
            (-lim.max_reverse_speed, 0.0)
        };
        // Reference: the stretch ahead, up to what the horizon can cover.
        let reach = lim.max_speed.max(lim.max_reverse_speed) * mp.step * mp.horizon as f64 + 0.5;
        let mut j_end = i;
        while j_end < seg_end && path.s[j_end] - path.s[i] < reach {
            j_end += 1;
        }
        let refs = &path.poses[i..=j_end];
        let s_ref = &path.s[i..=j_end];
        let total = path.s[seg_end];
        let h = self.mean.len();
        let k = mp.samples.max(1);
        let mut costs = vec![0.0; k];
        let mut seqs = vec![(0.0, 0.0); k * h];
        for (si, cost) in costs.iter_mut().enumerate() {
            let mut p = pose;
            let (mut v_prev, mut w_prev) = (prev.vx, prev.wz);
            let mut c = 0.0;
            let mut last_ref = 0usize;
            for t in 0..h {
                // Sample 0 is the noise-free mean, so the previous plan is always a candidate.
                let (nv, nw) = if si == 0 {
                    (0.0, 0.0)
                } else {
                    (
                        gauss(&mut self.rng) * mp.noise_v,
                        gauss(&mut self.rng) * mp.noise_w,
                    )
                };
                let mut v = (self.mean[t].0 + nv).clamp(vlo, vhi);
                let mut w = (self.mean[t].1 + nw).clamp(-lim.max_yaw_rate, lim.max_yaw_rate);
                v = v.clamp(
                    v_prev - lim.max_decel.max(lim.max_accel) * mp.step,
                    v_prev + lim.max_accel.max(lim.max_decel) * mp.step,
                );
                w = w.clamp(
                    w_prev - lim.max_yaw_accel * mp.step,
                    w_prev + lim.max_yaw_accel * mp.step,
                );
                seqs[si * h + t] = (v, w);
                v_prev = v;
                w_prev = w;
                let d = Twist2::new(v, 0.0, w).integrate(mp.step);
                let (s, co) = p[2].sin_cos();
                p = [
                    p[0] + co * d.x() - s * d.y(),
                    p[1] + s * d.x() + co * d.y(),
                    normalize_angle(p[2] + d.theta()),
                ];
                // Nearest reference pose, searched forward from the last match.
                let mut best = (f64::INFINITY, last_ref);
                for (r, q) in refs.iter().enumerate().skip(last_ref) {
                    let dd = (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
                    if dd < best.0 {
                        best = (dd, r);
                    }
                }
                last_ref = best.1;
                let q = refs[last_ref];
                c += mp.w_path * best.0;
                c += mp.w_heading * normalize_angle(q[2] - p[2]).abs();
                c += mp.w_effort * w * w;
                if !world.pose_free(fp, p) {
                    c += mp.collision_cost;
                }
            }
            let end_gap = (end[0] - p[0]).hypot(end[1] - p[1]);
            c += mp.w_progress * (total - s_ref[last_ref]).max(0.0).min(end_gap + 1.0);
            *cost = c;
        }
        let min = costs.iter().copied().fold(f64::INFINITY, f64::min);
        let lambda = mp.temperature.max(1e-6);
        let weights: Vec<f64> = costs.iter().map(|c| (-(c - min) / lambda).exp()).collect();
        let wsum: f64 = weights.iter().sum();
        for t in 0..h {
            let (mut v, mut w) = (0.0, 0.0);
            for (si, wt) in weights.iter().enumerate() {
                v += wt * seqs[si * h + t].0;
                w += wt * seqs[si * h + t].1;
            }
            self.mean[t] = (v / wsum, w / wsum);
        }
        let (mut v, w) = self.mean[0];
        // Warm start: shift the plan by one step.
        self.mean.rotate_left(1);
        if h >= 2 {
            self.mean[h - 1] = self.mean[h - 2];
        }
        // The same path-ahead check as pure pursuit caps the speed.
        let free = world.free_distance(fp, path, pose, i, params.collision_lookahead);
        let stop_v = (2.0 * lim.max_decel * (free - params.stop_margin).max(0.0)).sqrt();
        if v.abs() > stop_v {
            v = v.signum() * stop_v;
        }
        (apply_limits(Twist2::new(v, 0.0, w), prev, lim, dt), false)
    }
}
