//! A delivery vehicle at constant speed on a curving road: IMU (bias + white noise), wheel
//! odometry (scale error + noise), GNSS (noise, an outage, a jump), with ground truth.

use super::gaussian;
use courier_core::geo::LocalEnu;
use courier_core::geometry::{Covariance3, Pose2, Twist2};
use courier_core::msgs::{FixStatus, GnssFix, Imu, WheelOdometry};
use courier_core::time::Stamp;
use nalgebra::{Matrix3, Vector3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The scenario. Noise figures are 1σ; densities per √Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionScenario {
    pub seed: u64,
    pub duration: f64,
    pub speed: f64,
    pub imu_rate: f64,
    pub odom_rate: f64,
    pub gnss_rate: f64,
    /// Gyro white noise density (rad/s/√Hz) and constant bias (rad/s).
    pub gyro_noise: f64,
    pub gyro_bias: Vector3<f64>,
    /// Accelerometer white noise density (m/s²/√Hz) and constant bias (m/s²).
    pub accel_noise: f64,
    pub accel_bias: Vector3<f64>,
    /// Reported speed = (1 + scale_error) × true speed + noise.
    pub odom_scale_error: f64,
    pub odom_speed_noise: f64,
    pub gnss_sigma_horizontal: f64,
    pub gnss_sigma_vertical: f64,
    /// No GNSS fixes in [start, end) seconds.
    pub outage: Option<(f64, f64)>,
    /// GNSS fixes in [start, end) are offset by this ENU vector (spoofing / multipath).
    pub jump: Option<(f64, f64, Vector3<f64>)>,
    /// Geodetic origin of the ENU frame (°, °, m).
    pub origin: (f64, f64, f64),
}

impl Default for FusionScenario {
    /// 300 s at 5 m/s; 10 Hz GNSS with 0.7 m noise, a 20 m jump for 5 s at t = 100 s and a 60 s
    /// outage from t = 180 s; 100 Hz IMU with an industrial-grade MEMS gyro (noise density
    /// 5e-5 rad/s/√Hz ≈ 0.17 °/√h, biases of a few mrad/s) and accelerometer; 50 Hz odometry with
    /// a +2 % scale error. (With a consumer-grade gyro, 2e-4 rad/s/√Hz, the heading random walk
    /// alone is ≈ 0.3 m 1σ across the outage: see the README.)
    fn default() -> Self {
        Self {
            seed: 7,
            duration: 300.0,
            speed: 5.0,
            imu_rate: 100.0,
            odom_rate: 50.0,
            gnss_rate: 10.0,
            gyro_noise: 5e-5,
            gyro_bias: Vector3::new(0.002, -0.003, 0.004),
            accel_noise: 2e-3,
            accel_bias: Vector3::new(0.05, -0.04, 0.03),
            odom_scale_error: 0.02,
            odom_speed_noise: 0.05,
            gnss_sigma_horizontal: 0.7,
            gnss_sigma_vertical: 1.2,
            outage: Some((180.0, 240.0)),
            jump: Some((100.0, 105.0, Vector3::new(20.0, 0.0, 0.0))),
            origin: (47.3769, 8.5417, 408.0),
        }
    }
}

/// One sensor message, in time order.
#[derive(Debug, Clone, PartialEq)]
pub enum SensorEvent {
    Imu(Imu),
    Odometry(WheelOdometry),
    /// The fix and whether it carries the injected jump.
    Gnss(GnssFix, bool),
}

impl SensorEvent {
    pub fn stamp(&self) -> Stamp {
        match self {
            SensorEvent::Imu(m) => m.stamp,
            SensorEvent::Odometry(m) => m.stamp,
            SensorEvent::Gnss(m, _) => m.stamp,
        }
    }
}

/// Ground truth at one instant (map = ENU frame, flat ground).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Truth {
    pub t: f64,
    pub position: Vector3<f64>,
    pub yaw: f64,
}

/// A generated sequence: events in time order and truth every `1 / truth_rate` seconds.
#[derive(Debug, Clone)]
pub struct FusionSequence {
    pub scenario: FusionScenario,
    pub events: Vec<SensorEvent>,
    pub truth: Vec<Truth>,
    pub truth_rate: f64,
}

impl FusionSequence {
    /// Truth nearest to time `t` seconds.
    pub fn truth_at(&self, t: f64) -> Truth {
        let i = (t * self.truth_rate).round().max(0.0) as usize;
        self.truth[i.min(self.truth.len() - 1)]
    }
}

/// Yaw rate of the road at time t (rad/s): two superposed slow sinusoids (radius ≥ ~50 m).
fn yaw_rate(t: f64) -> f64 {
    use std::f64::consts::TAU;
    0.06 * (TAU * t / 40.0).sin() + 0.04 * (TAU * t / 97.0 + 0.5).sin()
}

/// Generates the sequence.
pub fn generate(sc: &FusionScenario) -> FusionSequence {
    let mut rng = ChaCha8Rng::seed_from_u64(sc.seed);
    let truth_rate = sc.imu_rate;
    // Integrate the road finely (1 ms, midpoint rule) and keep a sample at every IMU tick.
    let sub = 10usize;
    let h = 1.0 / (truth_rate * sub as f64);
    let n = (sc.duration * truth_rate).round() as usize;
    let mut truth = Vec::with_capacity(n + 1);
    let (mut x, mut y, mut yaw) = (0.0f64, 0.0f64, 0.3f64);
    for i in 0..=n {
        let t = i as f64 / truth_rate;
        truth.push(Truth {
            t,
            position: Vector3::new(x, y, 0.0),
            yaw,
        });
        for j in 0..sub {
            let tm = t + (j as f64 + 0.5) * h;
            let yaw_mid = yaw + 0.5 * h * yaw_rate(tm - 0.5 * h);
            x += sc.speed * yaw_mid.cos() * h;
            y += sc.speed * yaw_mid.sin() * h;
            yaw += h * yaw_rate(tm);
        }
    }
    let enu = LocalEnu::new(sc.origin.0, sc.origin.1, sc.origin.2);
    let mut events = Vec::new();
    let g = 9.80665;
    // IMU: flat ground, constant speed, so the body acceleration is centripetal (+y).
    let imu_dt = 1.0 / sc.imu_rate;
    let (sg, sa) = (
        sc.gyro_noise / imu_dt.sqrt(),
        sc.accel_noise / imu_dt.sqrt(),
    );
    for tr in &truth {
        let w = yaw_rate(tr.t);
        let gyro = Vector3::new(0.0, 0.0, w)
            + sc.gyro_bias
            + Vector3::new(gaussian(&mut rng), gaussian(&mut rng), gaussian(&mut rng)) * sg;
        let acc = Vector3::new(0.0, sc.speed * w, g)
            + sc.accel_bias
            + Vector3::new(gaussian(&mut rng), gaussian(&mut rng), gaussian(&mut rng)) * sa;
        events.push(SensorEvent::Imu(Imu {
            stamp: Stamp::ZERO + tr.t,
            frame_id: "imu_link".into(),
            orientation: None,
            angular_velocity: gyro,
            linear_acceleration: acc,
            angular_velocity_covariance: Matrix3::identity() * sg * sg,
            linear_acceleration_covariance: Matrix3::identity() * sa * sa,
        }));
    }
    // Wheel odometry: reported speed with scale error and noise, integrated into a pose.
    let mut odom_pose = Pose2::identity();
    let odom_dt = 1.0 / sc.odom_rate;
    let mut t = 0.0;
    while t <= sc.duration + 1e-9 {
        let tr = {
            let i = (t * truth_rate).round() as usize;
            truth[i.min(truth.len() - 1)]
        };
        let vx = (1.0 + sc.odom_scale_error) * sc.speed + gaussian(&mut rng) * sc.odom_speed_noise;
        let wz = yaw_rate(tr.t) + gaussian(&mut rng) * 0.01;
        let twist = Twist2::new(vx, 0.0, wz);
        odom_pose = odom_pose * twist.integrate(odom_dt);
        events.push(SensorEvent::Odometry(WheelOdometry {
            stamp: Stamp::ZERO + tr.t,
            pose: odom_pose,
            twist,
            pose_covariance: Covariance3::identity() * 0.01,
            twist_covariance: Covariance3::from_diagonal(&Vector3::new(
                sc.odom_speed_noise.powi(2),
                1e-4,
                1e-4,
            )),
        }));
        t += odom_dt;
    }
    // GNSS.
    let gnss_dt = 1.0 / sc.gnss_rate;
    let mut t = 0.0;
    while t <= sc.duration + 1e-9 {
        let in_outage = sc.outage.is_some_and(|(a, b)| t >= a && t < b);
        if !in_outage {
            let tr = {
                let i = (t * truth_rate).round() as usize;
                truth[i.min(truth.len() - 1)]
            };
            let mut p = tr.position
                + Vector3::new(
                    gaussian(&mut rng) * sc.gnss_sigma_horizontal,
                    gaussian(&mut rng) * sc.gnss_sigma_horizontal,
                    gaussian(&mut rng) * sc.gnss_sigma_vertical,
                );
            let jumped = match sc.jump {
                Some((a, b, off)) if t >= a && t < b => {
                    p += off;
                    true
                }
                _ => false,
            };
            let (lat, lon, alt) = enu.to_geodetic(&p);
            events.push(SensorEvent::Gnss(
                GnssFix {
                    stamp: Stamp::ZERO + tr.t,
                    frame_id: "gnss_link".into(),
                    status: FixStatus::Fix,
                    latitude: lat,
                    longitude: lon,
                    altitude: alt,
                    position_covariance: Matrix3::from_diagonal(&Vector3::new(
                        sc.gnss_sigma_horizontal.powi(2),
                        sc.gnss_sigma_horizontal.powi(2),
                        sc.gnss_sigma_vertical.powi(2),
                    )),
                },
                jumped,
            ));
        }
        t += gnss_dt;
    }
    // Time order; at equal stamps the IMU comes first (it drives the prediction).
    events.sort_by_key(|e| {
        let rank = match e {
            SensorEvent::Imu(_) => 0,
            SensorEvent::Odometry(_) => 1,
            SensorEvent::Gnss(..) => 2,
        };
        (e.stamp(), rank)
    });
    FusionSequence {
        scenario: sc.clone(),
        events,
        truth,
        truth_rate,
    }
}

/// Errors of a [`crate::fusion::FusionFilter`] run over a sequence, against truth.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FusionRunReport {
    /// Horizontal position error, m: RMS and max over the whole run after initialisation
    /// (excluding the first 10 s of convergence), and max inside the GNSS outage.
    pub rms_error: f64,
    pub max_error: f64,
    pub max_error_in_outage: f64,
    /// Error at the end of the outage (just before the first fix after it).
    pub error_at_outage_end: f64,
    /// Max error while the jumped fixes arrive.
    pub max_error_during_jump: f64,
    /// Whether the first jumped fix was rejected by the gate, and how many jumped fixes were
    /// accepted in all.
    pub first_jump_rejected: bool,
    pub jump_fixes: usize,
    pub jump_fixes_accepted: usize,
    /// Max heading error after convergence, rad.
    pub max_yaw_error: f64,
    pub final_odom_scale: f64,
    pub final_gyro_bias: [f64; 3],
    pub errors: usize,
}

/// Runs `filter` over the sequence and measures its errors.
pub fn run_filter(
    seq: &FusionSequence,
    filter: &mut crate::fusion::FusionFilter,
) -> FusionRunReport {
    use crate::fusion::UpdateOutcome;
    let sc = &seq.scenario;
    let mut rep = FusionRunReport {
        rms_error: 0.0,
        max_error: 0.0,
        max_error_in_outage: 0.0,
        error_at_outage_end: f64::NAN,
        max_error_during_jump: 0.0,
        first_jump_rejected: false,
        jump_fixes: 0,
        jump_fixes_accepted: 0,
        max_yaw_error: 0.0,
        final_odom_scale: f64::NAN,
        final_gyro_bias: [f64::NAN; 3],
        errors: 0,
    };
    let (mut sum2, mut count) = (0.0, 0usize);
    let scenario_enu = LocalEnu::new(sc.origin.0, sc.origin.1, sc.origin.2);
    for ev in &seq.events {
        let res = match ev {
            SensorEvent::Imu(m) => filter.on_imu(m),
            SensorEvent::Odometry(m) => filter.on_odometry(m),
            SensorEvent::Gnss(m, _) => filter.on_gnss(m),
        };
        let Ok(step) = res else {
            rep.errors += 1;
            continue;
        };
        if let SensorEvent::Gnss(_, true) = ev {
            let accepted = matches!(step.outcome, UpdateOutcome::Accepted { .. });
            if rep.jump_fixes == 0 {
                rep.first_jump_rejected = matches!(step.outcome, UpdateOutcome::Rejected { .. });
            }
            rep.jump_fixes += 1;
            rep.jump_fixes_accepted += usize::from(accepted);
        }
        // Score on IMU ticks (100 Hz), after a 10 s convergence period.
        let (SensorEvent::Imu(_), Some(est)) = (ev, step.estimate) else {
            continue;
        };
        let t = ev.stamp().secs_f64();
        if t < 10.0 {
            continue;
        }
        let tr = seq.truth_at(t);
        // The filter may anchor its map frame at its first fix: compare in the scenario's frame.
        let mut pos = est.pose.translation();
        if let Some(enu) = filter.enu() {
            let (lat, lon, alt) = enu.to_geodetic(&pos);
            pos = scenario_enu.to_enu(lat, lon, alt);
        }
        let e = (pos - tr.position).xy().norm();
        let yaw_e = courier_core::geometry::normalize_angle(est.pose.rpy().2 - tr.yaw).abs();
        sum2 += e * e;
        count += 1;
        rep.max_error = rep.max_error.max(e);
        rep.max_yaw_error = rep.max_yaw_error.max(yaw_e);
        if sc.outage.is_some_and(|(a, b)| t >= a && t < b) {
            rep.max_error_in_outage = rep.max_error_in_outage.max(e);
            rep.error_at_outage_end = e;
        }
        if sc.jump.is_some_and(|(a, b, _)| t >= a && t < b) {
            rep.max_error_during_jump = rep.max_error_during_jump.max(e);
        }
        rep.final_odom_scale = est.odom_scale;
        rep.final_gyro_bias = [est.gyro_bias.x, est.gyro_bias.y, est.gyro_bias.z];
    }
    rep.rms_error = (sum2 / count.max(1) as f64).sqrt();
    rep
}
