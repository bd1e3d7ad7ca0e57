//! Differential-drive AGV kinematics: a round robot that turns in place and drives straight, with
//! speed and acceleration limits, tracking the cell targets the fleet coordinator hands out.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgvParams {
    /// Footprint radius (m).
    pub radius_m: f64,
    /// Top speed (m/s).
    pub max_speed_mps: f64,
    /// Acceleration and braking limit (m/s²).
    pub max_accel_mps2: f64,
    /// Wheel odometry noise: standard deviation of the distance error per metre driven.
    pub odom_noise_per_m: f64,
    /// Standard deviation (m) of the position fix from a floor fiducial at a cell centre.
    pub fiducial_noise_m: f64,
}

impl Default for AgvParams {
    fn default() -> Self {
        Self {
            radius_m: 0.35,
            max_speed_mps: 2.0,
            max_accel_mps2: 4.5,
            odom_noise_per_m: 0.02,
            fiducial_noise_m: 0.005,
        }
    }
}

impl AgvParams {
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("radius_m", self.radius_m),
            ("max_speed_mps", self.max_speed_mps),
            ("max_accel_mps2", self.max_accel_mps2),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("agv.{name} must be positive, got {v}"));
            }
        }
        if !(self.odom_noise_per_m >= 0.0 && self.fiducial_noise_m >= 0.0) {
            return Err("agv noise levels must be non-negative".into());
        }
        Ok(())
    }
}

/// The true state of one AGV.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AgvState {
    pub pos: [f64; 2],
    /// Velocity (m/s) in the world frame; a diff-drive robot only moves along its heading.
    pub vel: [f64; 2],
    pub heading: f64,
}

impl AgvState {
    pub fn at(pos: [f64; 2]) -> Self {
        Self {
            pos,
            ..Default::default()
        }
    }

    pub fn speed(&self) -> f64 {
        self.vel[0].hypot(self.vel[1])
    }

    /// Advances `dt` seconds toward `target` and returns the distance driven. The robot drives
    /// along the line to the target (a differential drive turns in place; the heading turns to
    /// face the target) at the highest speed from which it can still brake to a stop exactly at
    /// the target, within the speed and acceleration limits: the speed `s'` at the end of the
    /// step must satisfy `(s + s')/2·dt + s'²/(2a) ≤ d`.
    pub fn step_toward(&mut self, target: [f64; 2], p: &AgvParams, dt: f64) -> f64 {
        let d = [target[0] - self.pos[0], target[1] - self.pos[1]];
        let dist = d[0].hypot(d[1]);
        if dist < 1e-9 {
            self.vel = [0.0, 0.0];
            return 0.0;
        }
        let dir = [d[0] / dist, d[1] / dist];
        // Only the speed along the new direction carries over (a turn in place stops sideways motion).
        let s = (self.vel[0] * dir[0] + self.vel[1] * dir[1]).max(0.0);
        let a = p.max_accel_mps2;
        let disc = a * a * dt * dt - 4.0 * (a * s * dt - 2.0 * a * dist);
        let s_stop = if disc >= 0.0 {
            (-a * dt + disc.sqrt()) / 2.0
        } else {
            0.0
        };
        let s_new = s_stop
            .min(p.max_speed_mps)
            .min(s + a * dt)
            .max((s - a * dt).max(0.0));
        let step = ((s + s_new) * 0.5 * dt).min(dist);
        self.pos = [self.pos[0] + dir[0] * step, self.pos[1] + dir[1] * step];
        self.vel = if step >= dist {
            [0.0, 0.0]
        } else {
            [dir[0] * s_new, dir[1] * s_new]
        };
        self.heading = d[1].atan2(d[0]);
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaches_a_target_within_limits_without_overshoot() {
        let p = AgvParams::default();
        let mut s = AgvState::at([0.0, 0.0]);
        let dt = 0.1;
        let mut prev_speed = 0.0;
        let mut max_x: f64 = 0.0;
        for _ in 0..50 {
            s.step_toward([3.0, 0.0], &p, dt);
            assert!(s.speed() <= p.max_speed_mps + 1e-9);
            assert!((s.speed() - prev_speed).abs() <= p.max_accel_mps2 * dt + 1e-9);
            prev_speed = s.speed();
            max_x = max_x.max(s.pos[0]);
        }
        assert!(
            (s.pos[0] - 3.0).abs() < 1e-3 && s.pos[1].abs() < 1e-12,
            "{s:?}"
        );
        assert!(max_x <= 3.0 + 0.05, "overshoot {max_x}");
        assert!(s.speed() < 1e-3);
    }

    #[test]
    fn one_cell_per_second_is_feasible() {
        // The coordinator moves robots one 1 m cell per 1 s step; the default limits keep up.
        let p = AgvParams::default();
        let mut s = AgvState::at([0.0, 0.0]);
        for step in 1..=5 {
            for _ in 0..10 {
                s.step_toward([step as f64, 0.0], &p, 0.1);
            }
            assert!(
                (s.pos[0] - step as f64).abs() < 0.05,
                "lag at step {step}: {s:?}"
            );
        }
    }
}
