//! Regulated Pure Pursuit (Macenski et al., 2023): steer towards a carrot point a lookahead
//! distance along the path, with the speed regulated down on tight curves, near obstacles and
//! when approaching the goal, and capped so the vehicle can brake before the first colliding
//! pose on the path ahead.

use super::world::{FollowPath, Tracking, World};
use super::{ControlParams, apply_limits};
use crate::hybrid::Footprint;
use courier_core::Twist2;
use courier_core::geometry::normalize_angle;
use serde::{Deserialize, Serialize};

/// Regulated Pure Pursuit parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PurePursuitParams {
    /// Lookahead = speed × this (s, default 0.8), clamped to the next two.
    pub lookahead_time: f64,
    /// Minimum lookahead (m, default 0.3).
    pub min_lookahead: f64,
    /// Maximum lookahead (m, default 0.9).
    pub max_lookahead: f64,
    /// Below this turning radius the speed is scaled down (m, default 0.9).
    pub regulated_min_radius: f64,
    /// Within this clearance to obstacles the speed is scaled down (m, default 0.5 beyond the
    /// footprint).
    pub proximity_distance: f64,
    /// Speed scale floor for the regulations (default 0.25).
    pub min_speed_scale: f64,
    /// Start slowing this far from the end of a stretch (m, default 0.6).
    pub approach_distance: f64,
    /// Slowest approach speed (m/s, default 0.05).
    pub min_approach_speed: f64,
    /// Turn in place when the carrot is further off than this (rad, default 0.9; diff drive).
    pub rotate_in_place_angle: f64,
    /// Whether the vehicle may turn in place (default true).
    pub allow_rotate_in_place: bool,
}

impl Default for PurePursuitParams {
    fn default() -> Self {
        Self {
            lookahead_time: 0.8,
            min_lookahead: 0.3,
            max_lookahead: 0.9,
            regulated_min_radius: 0.9,
            proximity_distance: 0.5,
            min_speed_scale: 0.25,
            approach_distance: 0.6,
            min_approach_speed: 0.05,
            rotate_in_place_angle: 0.9,
            allow_rotate_in_place: true,
        }
    }
}

/// Regulated Pure Pursuit with its progress along the path.
#[derive(Debug, Clone)]
pub struct RegulatedPurePursuit {
    pub progress: usize,
}

impl Default for RegulatedPurePursuit {
    fn default() -> Self {
        Self::new()
    }
}

impl RegulatedPurePursuit {
    pub fn new() -> Self {
        Self { progress: 0 }
    }

    /// The next command for the robot at `pose` (x, y, θ) moving with `prev`, after `dt` s.
    /// Returns the twist and whether the end of the path is reached.
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
        let pp = &params.pure_pursuit;
        let lim = &params.limits;
        let (i, seg_end, forward, end, dist_end) =
            match path.track(pose, &mut self.progress, prev.vx, params.goal_tolerance) {
                Tracking::Stop { done } => {
                    return (apply_limits(Twist2::default(), prev, lim, dt), done);
                }
                Tracking::Follow {
                    i,
                    seg_end,
                    forward,
                    end,
                    dist_end,
                } => (i, seg_end, forward, end, dist_end),
            };
        let look = (prev.vx.abs() * pp.lookahead_time).clamp(pp.min_lookahead, pp.max_lookahead);
        // Carrot: the first pose of this stretch at least `look` from the robot, else its end.
        let carrot = (i..=seg_end)
            .map(|j| path.poses[j])
            .find(|q| (q[0] - pose[0]).hypot(q[1] - pose[1]) >= look)
            .unwrap_or(end);
        let (s, c) = pose[2].sin_cos();
        let (dx, dy) = (carrot[0] - pose[0], carrot[1] - pose[1]);
        let (xc, yc) = (c * dx + s * dy, -s * dx + c * dy);
        let l2 = (xc * xc + yc * yc).max(1e-9);
        let curvature = 2.0 * yc / l2;
        let sign = if forward { 1.0 } else { -1.0 };
        // Turn in place towards a carrot far off to the side (driving direction considered).
        let bearing =
            normalize_angle(yc.atan2(xc) + if forward { 0.0 } else { std::f64::consts::PI });
        if pp.allow_rotate_in_place && bearing.abs() > pp.rotate_in_place_angle {
            let w = bearing.signum() * lim.max_yaw_rate;
            return (apply_limits(Twist2::new(0.0, 0.0, w), prev, lim, dt), false);
        }
        let vmax = if forward {
            lim.max_speed
        } else {
            lim.max_reverse_speed
        };
        let mut v = vmax;
        // Curvature regulation.
        let radius = 1.0 / curvature.abs().max(1e-9);
        if radius < pp.regulated_min_radius {
            v *= (radius / pp.regulated_min_radius).max(pp.min_speed_scale);
        }
        // Proximity regulation.
        let clearance = world.clearance(pose[0], pose[1]) - fp.circumscribed;
        if clearance < pp.proximity_distance {
            v *= (clearance / pp.proximity_distance).clamp(pp.min_speed_scale, 1.0);
        }
        // Approach: slow down towards the end of the stretch.
        let remaining = (path.s[seg_end] - path.s[i]).max(dist_end);
        if remaining < pp.approach_distance {
            v = v.min((vmax * remaining / pp.approach_distance).max(pp.min_approach_speed));
        }
        // Collision ahead: brake to stop `stop_margin` short of the first colliding pose.
        let free = world
            .free_distance(fp, path, pose, i, params.collision_lookahead)
            .min(world.arc_free_distance(fp, pose, forward, curvature, params.collision_lookahead));
        let stop_v = (2.0 * lim.max_decel * (free - params.stop_margin).max(0.0)).sqrt();
        v = v.min(stop_v);
        let mut w = sign * v * curvature;
        if w.abs() > lim.max_yaw_rate {
            // Keep the curvature: slow down rather than cut the turn.
            let k = lim.max_yaw_rate / w.abs();
            w *= k;
            v *= k;
        }
        (
            apply_limits(Twist2::new(sign * v, 0.0, w), prev, lim, dt),
            false,
        )
    }
}
