//! Ground-truth motion samples, the input of the proprioceptive sensor models (IMU, wheel
//! odometry) and of GNSS.

use crate::error::{Result, SimError};
use courier_core::Stamp;
use courier_core::geometry::{Pose2, Pose3, Twist2};
use nalgebra::Vector3;

/// Where the robot truly is and how it moves at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruthSample {
    pub stamp: Stamp,
    /// `base_link` in the world frame (`map`, ENU outdoors).
    pub pose: Pose3,
    /// Linear velocity in the world frame (m/s).
    pub velocity: Vector3<f64>,
    /// Angular velocity in the body frame (rad/s).
    pub angular_velocity: Vector3<f64>,
    /// Linear acceleration in the world frame (m/s²), without gravity. `None`: the IMU model
    /// differentiates `velocity` between samples.
    pub acceleration: Option<Vector3<f64>>,
}

impl TruthSample {
    /// A planar robot at `pose` moving with the body twist `twist` (e.g. an AGV's state).
    pub fn planar(stamp: Stamp, pose: Pose2, twist: Twist2) -> Self {
        let (s, c) = pose.theta().sin_cos();
        Self {
            stamp,
            pose: pose.to_pose3(),
            velocity: Vector3::new(
                c * twist.vx - s * twist.vy,
                s * twist.vx + c * twist.vy,
                0.0,
            ),
            angular_velocity: Vector3::new(0.0, 0.0, twist.wz),
            acceleration: None,
        }
    }

    /// Velocity in the body frame.
    pub fn body_velocity(&self) -> Vector3<f64> {
        self.pose
            .0
            .rotation
            .inverse_transform_vector(&self.velocity)
    }

    pub(crate) fn check(&self, what: &str) -> Result<()> {
        let t = self.pose.0.translation.vector;
        let q = self.pose.0.rotation.quaternion().coords;
        let finite = t.iter().chain(q.iter()).all(|v| v.is_finite())
            && self.velocity.iter().all(|v| v.is_finite())
            && self.angular_velocity.iter().all(|v| v.is_finite())
            && self
                .acceleration
                .is_none_or(|a| a.iter().all(|v| v.is_finite()));
        if finite {
            Ok(())
        } else {
            Err(SimError::Invalid(format!(
                "{what}: truth sample at {} has a non-finite value",
                self.stamp
            )))
        }
    }
}

/// Checks that `next` comes strictly after `prev`; returns the step in seconds.
pub(crate) fn step(what: &str, prev: Stamp, next: Stamp) -> Result<f64> {
    if next > prev {
        Ok(next.seconds_since(prev))
    } else {
        Err(SimError::Invalid(format!(
            "{what}: samples must be in increasing time, got {next} after {prev}"
        )))
    }
}
