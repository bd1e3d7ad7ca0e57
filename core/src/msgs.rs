//! Sensor messages, mirroring the standard ROS 2 types (sensor_msgs, nav_msgs) in plain Rust.

use crate::geometry::{Covariance3, Pose2, Twist2};
use crate::time::Stamp;
use nalgebra::{Matrix3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};

/// A planar laser scan, as sensor_msgs/LaserScan. Beam `i` points at
/// `angle_min + i * angle_increment` (counter-clockwise, radians) in `frame_id`.
/// Ranges outside `[range_min, range_max]` or not finite mean "no return".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaserScan {
    pub stamp: Stamp,
    pub frame_id: String,
    pub angle_min: f32,
    pub angle_increment: f32,
    pub range_min: f32,
    pub range_max: f32,
    pub ranges: Vec<f32>,
    /// Empty when the sensor gives none.
    pub intensities: Vec<f32>,
}

impl LaserScan {
    pub fn angle(&self, i: usize) -> f32 {
        self.angle_min + i as f32 * self.angle_increment
    }
    /// True if beam `i` holds a usable return.
    pub fn is_valid(&self, i: usize) -> bool {
        let r = self.ranges[i];
        r.is_finite() && r >= self.range_min && r < self.range_max
    }
    /// The end points of valid beams in the scan frame (x forward, y left).
    pub fn points(&self) -> impl Iterator<Item = [f32; 2]> + '_ {
        (0..self.ranges.len())
            .filter(|&i| self.is_valid(i))
            .map(|i| {
                let (s, c) = self.angle(i).sin_cos();
                [self.ranges[i] * c, self.ranges[i] * s]
            })
    }
}

/// A 3D point cloud in structure-of-arrays layout (one contiguous `Vec` per field), so that
/// per-point loops stream through memory and vectorise. All present fields have `len()` entries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PointCloud {
    pub stamp: Stamp,
    pub frame_id: String,
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    pub z: Vec<f32>,
    pub intensity: Vec<f32>,
    /// Laser ring (beam) index, when the sensor reports it.
    pub ring: Option<Vec<u16>>,
    /// Per-point time offset in seconds from `stamp`, when the sensor reports it (for deskewing).
    pub time: Option<Vec<f32>>,
}

impl PointCloud {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            x: Vec::with_capacity(n),
            y: Vec::with_capacity(n),
            z: Vec::with_capacity(n),
            intensity: Vec::with_capacity(n),
            ..Default::default()
        }
    }
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
    pub fn push(&mut self, x: f32, y: f32, z: f32, intensity: f32) {
        self.x.push(x);
        self.y.push(y);
        self.z.push(z);
        self.intensity.push(intensity);
    }
    pub fn point(&self, i: usize) -> [f32; 3] {
        [self.x[i], self.y[i], self.z[i]]
    }
    /// Removes every point, keeping the allocations (for reuse frame after frame).
    pub fn clear(&mut self) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.intensity.clear();
        if let Some(r) = &mut self.ring {
            r.clear();
        }
        if let Some(t) = &mut self.time {
            t.clear();
        }
    }
    /// Checks that all present fields have the same length.
    pub fn is_consistent(&self) -> bool {
        let n = self.len();
        self.y.len() == n
            && self.z.len() == n
            && self.intensity.len() == n
            && self.ring.as_ref().is_none_or(|r| r.len() == n)
            && self.time.as_ref().is_none_or(|t| t.len() == n)
    }
    /// Axis-aligned bounds ([min x,y,z], [max x,y,z]) of the finite points; `None` if there are none.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        let mut any = false;
        for i in 0..self.len() {
            let p = self.point(i);
            if p.iter().all(|v| v.is_finite()) {
                any = true;
                for k in 0..3 {
                    lo[k] = lo[k].min(p[k]);
                    hi[k] = hi[k].max(p[k]);
                }
            }
        }
        any.then_some((lo, hi))
    }
}

/// An inertial measurement, as sensor_msgs/Imu (body frame, rad/s and m/s²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imu {
    pub stamp: Stamp,
    pub frame_id: String,
    /// `None` when the IMU gives no orientation estimate.
    pub orientation: Option<UnitQuaternion<f64>>,
    pub angular_velocity: Vector3<f64>,
    pub linear_acceleration: Vector3<f64>,
    pub angular_velocity_covariance: Matrix3<f64>,
    pub linear_acceleration_covariance: Matrix3<f64>,
}

impl Imu {
    pub fn is_finite(&self) -> bool {
        self.angular_velocity.iter().all(|v| v.is_finite())
            && self.linear_acceleration.iter().all(|v| v.is_finite())
    }
}

/// Wheel odometry: the integrated pose in `odom` and the body twist, as nav_msgs/Odometry in 2D.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WheelOdometry {
    pub stamp: Stamp,
    pub pose: Pose2,
    pub twist: Twist2,
    pub pose_covariance: Covariance3,
    pub twist_covariance: Covariance3,
}

/// GNSS fix quality, as sensor_msgs/NavSatStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FixStatus {
    NoFix,
    Fix,
    SbasFix,
    GbasFix,
}

/// A GNSS fix on WGS84, as sensor_msgs/NavSatFix. Degrees, metres above the ellipsoid, and the
/// position covariance in the local ENU frame (m²).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GnssFix {
    pub stamp: Stamp,
    pub frame_id: String,
    pub status: FixStatus,
    pub latitude: f64,
    pub longitude: f64,
    pub altitude: f64,
    pub position_covariance: Matrix3<f64>,
}

impl GnssFix {
    pub fn is_valid(&self) -> bool {
        self.status != FixStatus::NoFix
            && self.latitude.is_finite()
            && self.longitude.is_finite()
            && self.altitude.is_finite()
            && self.latitude.abs() <= 90.0
            && self.longitude.abs() <= 180.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_points_skip_invalid_beams() {
        let scan = LaserScan {
            stamp: Stamp(0),
            frame_id: "laser".into(),
            angle_min: -std::f32::consts::FRAC_PI_2,
            angle_increment: std::f32::consts::FRAC_PI_2,
            range_min: 0.1,
            range_max: 10.0,
            ranges: vec![1.0, f32::NAN, 2.0, 50.0, 0.01],
            intensities: vec![],
        };
        let pts: Vec<_> = scan.points().collect();
        assert_eq!(pts.len(), 2);
        assert!((pts[0][1] + 1.0).abs() < 1e-6 && pts[0][0].abs() < 1e-6);
        assert!((pts[1][1] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn cloud_bounds_ignore_nan_and_clear_keeps_capacity() {
        let mut c = PointCloud::with_capacity(4);
        c.push(1.0, -2.0, 0.5, 0.0);
        c.push(f32::NAN, 100.0, 0.0, 0.0);
        c.push(-1.0, 3.0, -0.5, 0.0);
        assert!(c.is_consistent());
        assert_eq!(c.bounds(), Some(([-1.0, -2.0, -0.5], [1.0, 3.0, 0.5])));
        c.clear();
        assert!(c.is_empty() && c.x.capacity() >= 4);
        assert_eq!(c.bounds(), None);
    }
}
