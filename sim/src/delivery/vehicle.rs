//! The delivery vehicle's kinematics: a kinematic bicycle model about the rear axle
//! (`base_link`, REP-105) with limits on speed, acceleration, braking, steering angle and
//! steering rate, and its rectangular body.

use crate::error::{Result, SimError};
use crate::sensors::{SceneObject, TruthSample};
use courier_core::Stamp;
use courier_core::geometry::{Pose2, Pose3, Twist2};
use nalgebra::Vector3;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AckermannParams {
    /// Rear axle to front axle (m). Default 1.6.
    pub wheelbase_m: f64,
    /// Body length, width, height (m). Default 2.4 × 1.2 × 1.5.
    pub size_m: [f64; 3],
    /// Body behind the rear axle (m). Default 0.4.
    pub rear_overhang_m: f64,
    /// Top forward speed (m/s). Default 5.
    pub max_speed: f64,
    /// Speed-up limit (m/s²). Default 1.5.
    pub max_accel: f64,
    /// Braking limit (m/s²). Default 3.
    pub max_decel: f64,
    /// Steering angle limit (rad). Default 0.65 (about 37°).
    pub max_steer: f64,
    /// Steering rate limit (rad/s). Default 1.0.
    pub max_steer_rate: f64,
    /// LiDAR mount in `base_link`: x forward, z up (m). Default (0.8, 1.8).
    pub lidar_mount_m: [f64; 2],
}

impl Default for AckermannParams {
    fn default() -> Self {
        Self {
            wheelbase_m: 1.6,
            size_m: [2.4, 1.2, 1.5],
            rear_overhang_m: 0.4,
            max_speed: 5.0,
            max_accel: 1.5,
            max_decel: 3.0,
            max_steer: 0.65,
            max_steer_rate: 1.0,
            lidar_mount_m: [0.8, 1.8],
        }
    }
}

impl AckermannParams {
    pub fn validate(&self) -> Result<()> {
        let pos = [
            ("wheelbase_m", self.wheelbase_m),
            ("size_m[0]", self.size_m[0]),
            ("size_m[1]", self.size_m[1]),
            ("size_m[2]", self.size_m[2]),
            ("max_speed", self.max_speed),
            ("max_accel", self.max_accel),
            ("max_decel", self.max_decel),
            ("max_steer_rate", self.max_steer_rate),
        ];
        for (name, v) in pos {
            if !(v.is_finite() && v > 0.0) {
                return Err(SimError::Invalid(format!(
                    "vehicle.{name} must be positive, got {v}"
                )));
            }
        }
        if !(self.max_steer.is_finite() && self.max_steer > 0.0 && self.max_steer < 1.4) {
            return Err(SimError::Invalid(format!(
                "vehicle.max_steer must be in (0, 1.4) rad, got {}",
                self.max_steer
            )));
        }
        if !(self.rear_overhang_m.is_finite()
            && self.rear_overhang_m >= 0.0
            && self.rear_overhang_m < self.size_m[0])
        {
            return Err(SimError::Invalid(format!(
                "vehicle.rear_overhang_m must be in [0, length), got {}",
                self.rear_overhang_m
            )));
        }
        Ok(())
    }

    /// Smallest turning radius of the rear axle (m).
    pub fn min_turn_radius(&self) -> f64 {
        self.wheelbase_m / self.max_steer.tan()
    }

    /// Offset from `base_link` to the body centre along x (m).
    pub fn body_center_x(&self) -> f64 {
        0.5 * self.size_m[0] - self.rear_overhang_m
    }
}

/// The true state of one vehicle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AckermannState {
    pub x: f64,
    pub y: f64,
    pub yaw: f64,
    /// Forward speed (m/s, ≥ 0: delivery vehicles do not reverse here).
    pub speed: f64,
    /// Front wheel angle (rad, left positive).
    pub steer: f64,
    /// Last longitudinal acceleration (m/s²).
    pub accel: f64,
}

impl AckermannState {
    pub fn at(pose: Pose2) -> Self {
        Self {
            x: pose.x(),
            y: pose.y(),
            yaw: pose.theta(),
            speed: 0.0,
            steer: 0.0,
            accel: 0.0,
        }
    }

    pub fn pose(&self) -> Pose2 {
        Pose2::new(self.x, self.y, self.yaw)
    }

    pub fn yaw_rate(&self, p: &AckermannParams) -> f64 {
        self.speed * self.steer.tan() / p.wheelbase_m
    }

    /// One step of `dt` s toward `speed_cmd` and `steer_cmd`, both clamped to the limits; the
    /// speed and steering angle change no faster than the limits allow. Returns the distance
    /// driven (m).
    pub fn step(&mut self, p: &AckermannParams, speed_cmd: f64, steer_cmd: f64, dt: f64) -> f64 {
        let target = if speed_cmd.is_finite() {
            speed_cmd.clamp(0.0, p.max_speed)
        } else {
            0.0
        };
        let dv = (target - self.speed).clamp(-p.max_decel * dt, p.max_accel * dt);
        let steer_target = if steer_cmd.is_finite() {
            steer_cmd.clamp(-p.max_steer, p.max_steer)
        } else {
            self.steer
        };
        let ds = (steer_target - self.steer).clamp(-p.max_steer_rate * dt, p.max_steer_rate * dt);
        let v0 = self.speed;
        self.speed = (v0 + dv).max(0.0);
        self.accel = (self.speed - v0) / dt;
        self.steer += ds;
        // Midpoint integration of the bicycle model.
        let v = 0.5 * (v0 + self.speed);
        let w = v * self.steer.tan() / p.wheelbase_m;
        let mid = self.yaw + 0.5 * w * dt;
        self.x += v * mid.cos() * dt;
        self.y += v * mid.sin() * dt;
        self.yaw = courier_core::geometry::normalize_angle(self.yaw + w * dt);
        v * dt
    }

    /// The steering angle that drives the curvature of a twist (`wz / vx`); at a near stop the
    /// current angle is kept.
    pub fn steer_for(&self, p: &AckermannParams, cmd: &Twist2) -> f64 {
        if cmd.vx.abs() < 0.05 {
            return self.steer;
        }
        (cmd.wz * p.wheelbase_m / cmd.vx).atan()
    }

    /// Ground truth for the proprioceptive sensors (planar motion, world acceleration).
    pub fn truth(&self, p: &AckermannParams, stamp: Stamp) -> TruthSample {
        let w = self.yaw_rate(p);
        let (s, c) = self.yaw.sin_cos();
        // Tangential acceleration along the heading plus centripetal v·ω to the left.
        let (at, an) = (self.accel, self.speed * w);
        TruthSample {
            stamp,
            pose: self.pose().to_pose3(),
            velocity: Vector3::new(c * self.speed, s * self.speed, 0.0),
            angular_velocity: Vector3::new(0.0, 0.0, w),
            acceleration: Some(Vector3::new(c * at - s * an, s * at + c * an, 0.0)),
        }
    }

    /// The LiDAR's pose in the world.
    pub fn lidar_pose(&self, p: &AckermannParams) -> Pose3 {
        let [mx, mz] = p.lidar_mount_m;
        let (s, c) = self.yaw.sin_cos();
        Pose3::from_xyz_rpy(self.x + c * mx, self.y + s * mx, mz, 0.0, 0.0, self.yaw)
    }

    /// The body as a scene object (seen by other vehicles' LiDAR, checked for contacts).
    pub fn body(&self, p: &AckermannParams, tag: u32) -> SceneObject {
        let cx = p.body_center_x();
        let (s, c) = self.yaw.sin_cos();
        SceneObject::cuboid(
            [self.x + c * cx, self.y + s * cx, 0.5 * p.size_m[2]],
            p.size_m,
            self.yaw,
        )
        .with_reflectivity(0.6)
        .with_tag(tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinematics_respect_the_limits() {
        let p = AckermannParams::default();
        let mut s = AckermannState::at(Pose2::identity());
        let dt = 0.01;
        let mut prev = s;
        for k in 0..2000 {
            // Bang-bang commands far outside the limits.
            let (v, d) = if (k / 300) % 2 == 0 {
                (50.0, 3.0)
            } else {
                (0.0, -3.0)
            };
            s.step(&p, v, d, dt);
            assert!(s.speed >= 0.0 && s.speed <= p.max_speed + 1e-12);
            assert!(s.steer.abs() <= p.max_steer + 1e-12);
            assert!((s.steer - prev.steer).abs() <= p.max_steer_rate * dt + 1e-12);
            let dv = s.speed - prev.speed;
            assert!(dv <= p.max_accel * dt + 1e-12 && dv >= -p.max_decel * dt - 1e-12);
            // Never tighter than the minimum turning radius.
            if s.speed > 0.1 {
                let r = s.speed / s.yaw_rate(&p).abs().max(1e-12);
                assert!(r >= p.min_turn_radius() - 1e-9, "{r}");
            }
            prev = s;
        }
        // Full lock at a crawl drives a circle of the minimum radius.
        let mut s = AckermannState::at(Pose2::identity());
        s.steer = p.max_steer;
        for _ in 0..20_000 {
            s.step(&p, 1.0, p.max_steer, 0.001);
        }
        let r = p.min_turn_radius();
        let (cx, cy) = (0.0, r);
        assert!(((s.x - cx).hypot(s.y - cy) - r).abs() < 0.01);
        assert!(s.step(&p, f64::NAN, f64::NAN, 0.1) >= 0.0);
    }
}
