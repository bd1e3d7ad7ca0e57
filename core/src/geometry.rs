//! Rigid-body poses and velocities (REP-103: metres, radians, x forward, y left, z up).

use nalgebra::{
    Isometry2, Isometry3, Matrix3, Matrix6, Point2, Translation3, UnitQuaternion, Vector2, Vector3,
};
use serde::{Deserialize, Serialize};
use std::ops::Mul;

/// 3×3 covariance of an SE(2) quantity, ordered (x, y, θ).
pub type Covariance3 = Matrix3<f64>;
/// 6×6 covariance of an SE(3) quantity, ordered (x, y, z, roll, pitch, yaw) as in ROS.
pub type Covariance6 = Matrix6<f64>;

/// Wraps an angle to [-π, π).
pub fn normalize_angle(a: f64) -> f64 {
    let two_pi = std::f64::consts::TAU;
    let mut r = (a + std::f64::consts::PI).rem_euclid(two_pi) - std::f64::consts::PI;
    if r >= std::f64::consts::PI {
        r -= two_pi;
    }
    r
}

/// A planar pose: an element of SE(2) on a nalgebra isometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose2(pub Isometry2<f64>);

impl Default for Pose2 {
    fn default() -> Self {
        Pose2::identity()
    }
}

impl Pose2 {
    pub fn new(x: f64, y: f64, theta: f64) -> Self {
        Pose2(Isometry2::new(Vector2::new(x, y), theta))
    }
    pub fn identity() -> Self {
        Pose2(Isometry2::identity())
    }
    pub fn x(&self) -> f64 {
        self.0.translation.x
    }
    pub fn y(&self) -> f64 {
        self.0.translation.y
    }
    /// Heading in [-π, π].
    pub fn theta(&self) -> f64 {
        self.0.rotation.angle()
    }
    pub fn translation(&self) -> Vector2<f64> {
        self.0.translation.vector
    }
    pub fn inverse(&self) -> Pose2 {
        Pose2(self.0.inverse())
    }
    /// The pose of `other` expressed in the frame of `self`: `self⁻¹ · other`.
    pub fn between(&self, other: &Pose2) -> Pose2 {
        Pose2(self.0.inv_mul(&other.0))
    }
    /// Maps a point from this pose's frame to the parent frame.
    pub fn transform_point(&self, p: &Point2<f64>) -> Point2<f64> {
        self.0 * p
    }
    /// True when every component is finite.
    pub fn is_finite(&self) -> bool {
        self.x().is_finite() && self.y().is_finite() && self.0.rotation.re.is_finite()
    }
    /// Lifts the pose into SE(3) at z = 0.
    pub fn to_pose3(&self) -> Pose3 {
        Pose3(Isometry3::from_parts(
            Translation3::new(self.x(), self.y(), 0.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, self.theta()),
        ))
    }
}

impl Mul for Pose2 {
    type Output = Pose2;
    fn mul(self, rhs: Pose2) -> Pose2 {
        Pose2(self.0 * rhs.0)
    }
}

/// A spatial pose: an element of SE(3) on a nalgebra isometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose3(pub Isometry3<f64>);

impl Default for Pose3 {
    fn default() -> Self {
        Pose3(Isometry3::identity())
    }
}

impl Pose3 {
    pub fn from_xyz_rpy(x: f64, y: f64, z: f64, roll: f64, pitch: f64, yaw: f64) -> Self {
        Pose3(Isometry3::from_parts(
            Translation3::new(x, y, z),
            UnitQuaternion::from_euler_angles(roll, pitch, yaw),
        ))
    }
    pub fn translation(&self) -> Vector3<f64> {
        self.0.translation.vector
    }
    /// (roll, pitch, yaw) in radians.
    pub fn rpy(&self) -> (f64, f64, f64) {
        self.0.rotation.euler_angles()
    }
    pub fn inverse(&self) -> Pose3 {
        Pose3(self.0.inverse())
    }
    pub fn between(&self, other: &Pose3) -> Pose3 {
        Pose3(self.0.inv_mul(&other.0))
    }
    /// Projects onto the plane: (x, y, yaw).
    pub fn to_pose2(&self) -> Pose2 {
        let t = self.translation();
        Pose2::new(t.x, t.y, self.rpy().2)
    }
}

impl Mul for Pose3 {
    type Output = Pose3;
    fn mul(self, rhs: Pose3) -> Pose3 {
        Pose3(self.0 * rhs.0)
    }
}

/// Planar velocity in the body frame (m/s, m/s, rad/s), as geometry_msgs/Twist restricted to 2D.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Twist2 {
    pub vx: f64,
    pub vy: f64,
    pub wz: f64,
}

impl Twist2 {
    pub fn new(vx: f64, vy: f64, wz: f64) -> Self {
        Self { vx, vy, wz }
    }
    pub fn is_finite(&self) -> bool {
        self.vx.is_finite() && self.vy.is_finite() && self.wz.is_finite()
    }
    /// The pose change after moving with this twist for `dt` seconds (exact SE(2) exponential).
    pub fn integrate(&self, dt: f64) -> Pose2 {
        let th = self.wz * dt;
        let (dx, dy) = (self.vx * dt, self.vy * dt);
        if th.abs() < 1e-9 {
            return Pose2::new(dx, dy, th);
        }
        let (s, c) = th.sin_cos();
        let a = s / th;
        let b = (1.0 - c) / th;
        Pose2::new(a * dx - b * dy, b * dx + a * dy, th)
    }
}

/// A planar pose with its (x, y, θ) covariance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoseWithCovariance2 {
    pub pose: Pose2,
    pub covariance: Covariance3,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, PI};

    #[test]
    fn compose_and_between_are_inverse() {
        let a = Pose2::new(1.0, 2.0, 0.3);
        let b = Pose2::new(-4.0, 0.5, -2.9);
        let d = a.between(&b);
        let b2 = a * d;
        assert!((b2.x() - b.x()).abs() < 1e-12 && (b2.y() - b.y()).abs() < 1e-12);
        assert!((normalize_angle(b2.theta() - b.theta())).abs() < 1e-12);
        let p = Pose2::new(1.0, 0.0, FRAC_PI_2).transform_point(&Point2::new(1.0, 0.0));
        assert!((p.x - 1.0).abs() < 1e-12 && (p.y - 1.0).abs() < 1e-12);
    }

    #[test]
    fn normalize_angle_range() {
        assert_eq!(normalize_angle(PI), -PI);
        assert!((normalize_angle(3.0 * PI + 0.1) - (-PI + 0.1)).abs() < 1e-12);
        assert!((normalize_angle(-0.2) + 0.2).abs() < 1e-15);
    }

    #[test]
    fn twist_integration_follows_an_arc() {
        // Quarter circle of radius 1: v = 1, w = 1 for π/2 s ends at (1, 1, π/2).
        let p = Twist2::new(1.0, 0.0, 1.0).integrate(FRAC_PI_2);
        assert!((p.x() - 1.0).abs() < 1e-12 && (p.y() - 1.0).abs() < 1e-12);
        assert!((p.theta() - FRAC_PI_2).abs() < 1e-12);
        let s = Twist2::new(2.0, 0.0, 0.0).integrate(0.5);
        assert_eq!((s.x(), s.y()), (1.0, 0.0));
    }

    #[test]
    fn pose3_projects_to_pose2() {
        let p = Pose3::from_xyz_rpy(1.0, 2.0, 3.0, 0.0, 0.0, 0.7);
        let q = p.to_pose2();
        assert!((q.theta() - 0.7).abs() < 1e-12 && q.x() == 1.0 && q.y() == 2.0);
        let back = q.to_pose3().to_pose2();
        assert!((back.theta() - 0.7).abs() < 1e-12);
        assert!(!Pose2::new(f64::NAN, 0.0, 0.0).is_finite());
    }
}
