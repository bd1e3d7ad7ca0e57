//! Wheel odometry: the body twist as wheel encoders see it (a scale error from worn or
//! mis-measured wheels, white noise) integrated into a drifting pose in `odom`.
//!
//! Wheels cannot sense sideways slip, so the lateral speed reads 0. The pose starts at the
//! identity and integrates the previous measured twist exactly over each step (SE(2)
//! exponential), so all drift comes from the modelled errors.

use super::noise::Noise;
use super::truth::{TruthSample, step};
use crate::error::{Result, SimError};
use courier_core::geometry::{Covariance3, Pose2, Twist2};
use courier_core::msgs::WheelOdometry;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WheelOdometryParams {
    /// Relative error of the measured forward speed (0.01 = reads 1 % fast). Default 0.01.
    pub linear_scale_error: f64,
    /// Relative error of the measured yaw rate (a wrong wheel base). Default 0.02.
    pub angular_scale_error: f64,
    /// White noise on the forward speed (m/s). Default 0.02.
    pub linear_noise_std: f64,
    /// White noise on the yaw rate (rad/s). Default 0.01.
    pub angular_noise_std: f64,
}

impl Default for WheelOdometryParams {
    fn default() -> Self {
        Self {
            linear_scale_error: 0.01,
            angular_scale_error: 0.02,
            linear_noise_std: 0.02,
            angular_noise_std: 0.01,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WheelOdometryModel {
    params: WheelOdometryParams,
    noise: Noise,
    pose: Pose2,
    pose_cov: Covariance3,
    prev: Option<(courier_core::Stamp, Twist2)>,
}

impl WheelOdometryModel {
    pub fn new(params: WheelOdometryParams, seed: u64) -> Result<Self> {
        for (name, v, lo) in [
            ("linear_scale_error", params.linear_scale_error, -1.0),
            ("angular_scale_error", params.angular_scale_error, -1.0),
            ("linear_noise_std", params.linear_noise_std, 0.0),
            ("angular_noise_std", params.angular_noise_std, 0.0),
        ] {
            if !(v.is_finite() && v >= lo) {
                return Err(SimError::Invalid(format!(
                    "wheel odometry: {name} must be finite and ≥ {lo}, got {v}"
                )));
            }
        }
        Ok(Self {
            params,
            noise: Noise::new(seed),
            pose: Pose2::identity(),
            pose_cov: Covariance3::zeros(),
            prev: None,
        })
    }

    /// The odometry message at `truth.stamp`. Samples must come in increasing time.
    pub fn measure(&mut self, truth: &TruthSample) -> Result<WheelOdometry> {
        truth.check("wheel odometry")?;
        let p = &self.params;
        if let Some((t0, twist)) = self.prev {
            let dt = step("wheel odometry", t0, truth.stamp)?;
            self.pose = self.pose * twist.integrate(dt);
            // Variance grows with the integrated speed noise (rotated into odom for x, y).
            let (s, c) = self.pose.theta().sin_cos();
            let vl = (p.linear_noise_std * dt).powi(2);
            self.pose_cov[(0, 0)] += c * c * vl;
            self.pose_cov[(1, 1)] += s * s * vl;
            self.pose_cov[(0, 1)] += c * s * vl;
            self.pose_cov[(1, 0)] += c * s * vl;
            self.pose_cov[(2, 2)] += (p.angular_noise_std * dt).powi(2);
        }
        let v = truth.body_velocity().x;
        let w = truth.angular_velocity.z;
        let twist = Twist2::new(
            v * (1.0 + p.linear_scale_error) + p.linear_noise_std * self.noise.normal(),
            0.0,
            w * (1.0 + p.angular_scale_error) + p.angular_noise_std * self.noise.normal(),
        );
        self.prev = Some((truth.stamp, twist));
        let mut twist_cov = Covariance3::zeros();
        twist_cov[(0, 0)] = p.linear_noise_std.powi(2);
        twist_cov[(2, 2)] = p.angular_noise_std.powi(2);
        Ok(WheelOdometry {
            stamp: truth.stamp,
            pose: self.pose,
            twist,
            pose_covariance: self.pose_cov,
            twist_covariance: twist_cov,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::Stamp;

    fn straight(k: i64, v: f64) -> TruthSample {
        let t = k as f64 * 0.01;
        TruthSample::planar(
            Stamp(k * 10_000_000),
            Pose2::new(v * t, 0.0, 0.0),
            Twist2::new(v, 0.0, 0.0),
        )
    }

    #[test]
    fn scale_error_stretches_the_path() {
        let p = WheelOdometryParams {
            linear_scale_error: 0.05,
            angular_scale_error: 0.0,
            linear_noise_std: 0.0,
            angular_noise_std: 0.0,
        };
        let mut odo = WheelOdometryModel::new(p, 0).unwrap();
        let mut last = None;
        for k in 0..=100 {
            last = Some(odo.measure(&straight(k, 2.0)).unwrap());
        }
        let m = last.unwrap();
        // 2 m/s for 1 s reads 2.1 m.
        assert!((m.pose.x() - 2.1).abs() < 1e-9, "{:?}", m.pose);
        assert!(m.pose.y().abs() < 1e-12 && m.pose.theta().abs() < 1e-12);
        assert!((m.twist.vx - 2.1).abs() < 1e-12);
    }

    #[test]
    fn noise_is_seeded_and_bad_input_fails() {
        let run = |seed| {
            let mut odo = WheelOdometryModel::new(WheelOdometryParams::default(), seed).unwrap();
            (0..50)
                .map(|k| odo.measure(&straight(k, 1.0)).unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b, c) = (run(4), run(4), run(5));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a[49].pose_covariance[(0, 0)] > 0.0);
        assert!(
            WheelOdometryModel::new(
                WheelOdometryParams {
                    linear_noise_std: -0.1,
                    ..Default::default()
                },
                0
            )
            .is_err()
        );
        assert!(
            WheelOdometryModel::new(
                WheelOdometryParams {
                    linear_scale_error: f64::NAN,
                    ..Default::default()
                },
                0
            )
            .is_err()
        );
        let mut odo = WheelOdometryModel::new(WheelOdometryParams::default(), 0).unwrap();
        odo.measure(&straight(5, 1.0)).unwrap();
        assert!(odo.measure(&straight(4, 1.0)).is_err(), "time going back");
    }
}
