//! A MEMS IMU at `base_link`: gyro and accelerometer with white noise and random-walk biases.
//!
//! The accelerometer measures specific force, `f = Rᵀ (a − g)` with `g = (0, 0, −9.80665)`, so a
//! robot at rest reads `+9.81` on z (REP-103/145). Noise follows the usual continuous-time model
//! (as in Kalibr's IMU noise model): white noise of density `σ` (unit/√Hz) becomes `σ·√rate` per
//! sample; a bias random walk of density `σ_b` (unit·√Hz) steps by `σ_b·√dt·N(0,1)`.
//! The IMU is taken to sit at `base_link` with its axes aligned (no lever arm).

use super::noise::Noise;
use super::truth::{TruthSample, step};
use crate::error::{Result, SimError};
use courier_core::msgs::Imu;
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// Standard gravity (m/s²).
pub const GRAVITY: f64 = 9.806_65;

/// Defaults are those of an ADIS16448-class MEMS unit (the EuRoC dataset's Kalibr values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImuParams {
    /// Nominal sample rate (Hz); scales the white noise. Default 200.
    pub rate_hz: f64,
    /// Gyro white-noise density (rad/s/√Hz). Default 1.7e-4.
    pub gyro_noise_density: f64,
    /// Gyro bias random walk (rad/s²/√Hz). Default 2.0e-5.
    pub gyro_random_walk: f64,
    /// Accelerometer white-noise density (m/s²/√Hz). Default 2.0e-3.
    pub accel_noise_density: f64,
    /// Accelerometer bias random walk (m/s³/√Hz). Default 3.0e-3.
    pub accel_random_walk: f64,
    /// Standard deviation of the turn-on gyro bias, per axis (rad/s). Default 1e-3.
    pub gyro_bias_std: f64,
    /// Standard deviation of the turn-on accelerometer bias, per axis (m/s²). Default 0.02.
    pub accel_bias_std: f64,
    /// Frame of the messages. Default "imu_link".
    pub frame_id: String,
}

impl Default for ImuParams {
    fn default() -> Self {
        Self {
            rate_hz: 200.0,
            gyro_noise_density: 1.7e-4,
            gyro_random_walk: 2.0e-5,
            accel_noise_density: 2.0e-3,
            accel_random_walk: 3.0e-3,
            gyro_bias_std: 1e-3,
            accel_bias_std: 0.02,
            frame_id: "imu_link".into(),
        }
    }
}

impl ImuParams {
    fn validate(&self) -> Result<()> {
        if !(self.rate_hz.is_finite() && self.rate_hz > 0.0) {
            return Err(SimError::Invalid(format!(
                "imu: rate_hz must be positive, got {}",
                self.rate_hz
            )));
        }
        for (name, v) in [
            ("gyro_noise_density", self.gyro_noise_density),
            ("gyro_random_walk", self.gyro_random_walk),
            ("accel_noise_density", self.accel_noise_density),
            ("accel_random_walk", self.accel_random_walk),
            ("gyro_bias_std", self.gyro_bias_std),
            ("accel_bias_std", self.accel_bias_std),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(SimError::Invalid(format!(
                    "imu: {name} must be finite and ≥ 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ImuModel {
    params: ImuParams,
    noise: Noise,
    gyro_bias: Vector3<f64>,
    accel_bias: Vector3<f64>,
    prev: Option<TruthSample>,
}

impl ImuModel {
    pub fn new(params: ImuParams, seed: u64) -> Result<Self> {
        params.validate()?;
        let mut noise = Noise::new(seed);
        let gyro_bias = params.gyro_bias_std * gauss3(&mut noise);
        let accel_bias = params.accel_bias_std * gauss3(&mut noise);
        Ok(Self {
            params,
            noise,
            gyro_bias,
            accel_bias,
            prev: None,
        })
    }

    /// The current biases (gyro, accelerometer), for checking estimators against the truth.
    pub fn biases(&self) -> (Vector3<f64>, Vector3<f64>) {
        (self.gyro_bias, self.accel_bias)
    }

    /// The measurement at `truth.stamp`. Samples must come in increasing time.
    pub fn measure(&mut self, truth: &TruthSample) -> Result<Imu> {
        truth.check("imu")?;
        let accel_world = match (truth.acceleration, &self.prev) {
            (Some(a), _) => a,
            (None, Some(prev)) => {
                (truth.velocity - prev.velocity) / step("imu", prev.stamp, truth.stamp)?
            }
            (None, None) => Vector3::zeros(),
        };
        if let Some(prev) = &self.prev {
            let dt = step("imu", prev.stamp, truth.stamp)?;
            let sq = dt.sqrt();
            self.gyro_bias += self.params.gyro_random_walk * sq * gauss3(&mut self.noise);
            self.accel_bias += self.params.accel_random_walk * sq * gauss3(&mut self.noise);
        }
        let p = &self.params;
        let sr = p.rate_hz.sqrt();
        let (sg, sa) = (p.gyro_noise_density * sr, p.accel_noise_density * sr);
        let gravity = Vector3::new(0.0, 0.0, -GRAVITY);
        let specific = truth
            .pose
            .0
            .rotation
            .inverse_transform_vector(&(accel_world - gravity));
        let gyro = truth.angular_velocity + self.gyro_bias + sg * gauss3(&mut self.noise);
        let accel = specific + self.accel_bias + sa * gauss3(&mut self.noise);
        self.prev = Some(*truth);
        Ok(Imu {
            stamp: truth.stamp,
            frame_id: p.frame_id.clone(),
            orientation: None,
            angular_velocity: gyro,
            linear_acceleration: accel,
            angular_velocity_covariance: Matrix3::identity() * (sg * sg),
            linear_acceleration_covariance: Matrix3::identity() * (sa * sa),
        })
    }
}

fn gauss3(n: &mut Noise) -> Vector3<f64> {
    Vector3::new(n.normal(), n.normal(), n.normal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::Stamp;
    use courier_core::geometry::{Pose2, Twist2};

    fn at_rest(k: i64) -> TruthSample {
        TruthSample::planar(
            Stamp(k * 5_000_000),
            Pose2::new(1.0, 2.0, 0.4),
            Twist2::default(),
        )
    }

    #[test]
    fn at_rest_reads_gravity_up_and_no_rotation() {
        let mut imu = ImuModel::new(ImuParams::default(), 3).unwrap();
        let n = 2000;
        let (mut g, mut a) = (Vector3::zeros(), Vector3::zeros());
        for k in 0..n {
            let m = imu.measure(&at_rest(k)).unwrap();
            assert!(m.is_finite());
            g += m.angular_velocity;
            a += m.linear_acceleration;
        }
        let (g, a) = (g / n as f64, a / n as f64);
        // Means within the turn-on bias (3σ) plus the averaged noise.
        assert!(g.norm() < 6e-3, "gyro mean {g:?}");
        assert!(
            (a.z - GRAVITY).abs() < 0.1 && a.x.abs() < 0.1 && a.y.abs() < 0.1,
            "accel mean {a:?}"
        );
        // Noise-free: exact.
        let quiet = ImuParams {
            gyro_noise_density: 0.0,
            gyro_random_walk: 0.0,
            accel_noise_density: 0.0,
            accel_random_walk: 0.0,
            gyro_bias_std: 0.0,
            accel_bias_std: 0.0,
            ..Default::default()
        };
        let mut imu = ImuModel::new(quiet, 0).unwrap();
        for k in 0..3 {
            let m = imu.measure(&at_rest(k)).unwrap();
            assert_eq!(m.angular_velocity, Vector3::zeros());
            assert!((m.linear_acceleration - Vector3::new(0.0, 0.0, GRAVITY)).norm() < 1e-12);
        }
    }

    #[test]
    fn turning_robot_reads_yaw_rate_and_centripetal_acceleration() {
        let quiet = ImuParams {
            gyro_noise_density: 0.0,
            gyro_random_walk: 0.0,
            accel_noise_density: 0.0,
            accel_random_walk: 0.0,
            gyro_bias_std: 0.0,
            accel_bias_std: 0.0,
            ..Default::default()
        };
        let mut imu = ImuModel::new(quiet, 0).unwrap();
        // A circle: v = 2 m/s, ω = 0.5 rad/s → a = v ω = 1 m/s² toward the centre (body +y).
        let (v, w, dt) = (2.0, 0.5, 0.001);
        let mut last = None;
        for k in 0..100 {
            let t = k as f64 * dt;
            let pose = Pose2::new(0.0, 0.0, 0.0) * Twist2::new(v, 0.0, w).integrate(t);
            let s = TruthSample::planar(
                Stamp((t * 1e9).round() as i64),
                pose,
                Twist2::new(v, 0.0, w),
            );
            last = Some(imu.measure(&s).unwrap());
        }
        let m = last.unwrap();
        assert!((m.angular_velocity.z - w).abs() < 1e-12);
        assert!(
            (m.linear_acceleration.y - v * w).abs() < 1e-3,
            "{:?}",
            m.linear_acceleration
        );
        assert!(m.linear_acceleration.x.abs() < 1e-3);
    }

    #[test]
    fn seeded_and_checked() {
        let run = |seed| {
            let mut imu = ImuModel::new(ImuParams::default(), seed).unwrap();
            (0..10)
                .map(|k| imu.measure(&at_rest(k)).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        assert!(
            ImuModel::new(
                ImuParams {
                    rate_hz: 0.0,
                    ..Default::default()
                },
                0
            )
            .is_err()
        );
        assert!(
            ImuModel::new(
                ImuParams {
                    gyro_noise_density: f64::NAN,
                    ..Default::default()
                },
                0
            )
            .is_err()
        );
        let mut imu = ImuModel::new(ImuParams::default(), 0).unwrap();
        imu.measure(&at_rest(2)).unwrap();
        assert!(imu.measure(&at_rest(2)).is_err(), "repeated stamp");
        let mut bad = at_rest(3);
        bad.velocity.x = f64::NAN;
        assert!(imu.measure(&bad).is_err());
    }
}
