//! Path following: Regulated Pure Pursuit and MPPI, both producing [`Twist2`] commands within
//! velocity and acceleration limits, and both checking the path ahead against the map and
//! obstacle points so they slow down, and stop, before a collision.

pub mod mppi;
pub mod pure_pursuit;
pub mod world;

pub use mppi::{Mppi, MppiParams};
pub use pure_pursuit::{PurePursuitParams, RegulatedPurePursuit};
pub use world::{FollowPath, Limits, Tracking, World};

use courier_core::Twist2;
use serde::{Deserialize, Serialize};

/// Which controller the [`crate::node::Controller`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowerKind {
    PurePursuit,
    Mppi,
}

/// Parameters shared by the controllers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ControlParams {
    /// Controller (default pure_pursuit).
    pub kind: FollowerKind,
    /// Velocity and acceleration limits.
    pub limits: Limits,
    /// Period assumed when no previous stamp is known (s, default 0.05).
    pub control_period: f64,
    /// Footprint checked along the path ahead.
    pub footprint: crate::hybrid::FootprintSpec,
    /// How far ahead along the path to check for collisions (m, default 2.5).
    pub collision_lookahead: f64,
    /// Gap kept to the first colliding pose when stopping (m, default 0.15).
    pub stop_margin: f64,
    /// Distance to the path end at which the goal counts as reached (m, default 0.1).
    pub goal_tolerance: f64,
    pub pure_pursuit: PurePursuitParams,
    pub mppi: MppiParams,
}

impl Default for ControlParams {
    fn default() -> Self {
        Self {
            kind: FollowerKind::PurePursuit,
            limits: Limits::default(),
            control_period: 0.05,
            footprint: Default::default(),
            collision_lookahead: 2.5,
            stop_margin: 0.15,
            goal_tolerance: 0.1,
            pure_pursuit: PurePursuitParams::default(),
            mppi: MppiParams::default(),
        }
    }
}

/// Clamps a desired twist to the limits, given the previous command and the period.
pub fn apply_limits(want: Twist2, prev: Twist2, lim: &Limits, dt: f64) -> Twist2 {
    let v = want.vx.clamp(-lim.max_reverse_speed, lim.max_speed);
    // Braking (towards zero) may use the larger deceleration.
    let braking = v.abs() < prev.vx.abs() && v * prev.vx >= 0.0;
    let a = if braking {
        lim.max_decel
    } else {
        lim.max_accel
    };
    let v = v.clamp(prev.vx - a * dt, prev.vx + a * dt);
    let w = want.wz.clamp(-lim.max_yaw_rate, lim.max_yaw_rate).clamp(
        prev.wz - lim.max_yaw_accel * dt,
        prev.wz + lim.max_yaw_accel * dt,
    );
    Twist2::new(v, 0.0, w)
}
