//! Fused localization for delivery vehicles: an error-state Kalman filter (ESKF) over IMU,
//! wheel odometry, GNSS (in a local ENU frame) and scan-matching poses.
//!
//! The nominal state is position `p`, velocity `v` (both in the `map` frame, which is the local
//! ENU tangent plane), body orientation `q` (base_link → map), accelerometer bias, gyro bias and
//! the wheel-odometry scale factor. The filter tracks the 16-dimensional error state
//! `[δp, δv, δθ, δb_a, δb_g, δk]` with a local (body-frame) angle error, following Solà,
//! "Quaternion kinematics for the error-state Kalman filter" (2017).
//!
//! The IMU drives the prediction (zero-order hold between samples); each other sensor is an
//! update, gated by its Mahalanobis distance against a chi-square threshold so a GNSS jump
//! (spoofing, multipath) is rejected at its first fix while an outage is bridged by IMU and
//! wheel odometry. The wheel-odometry scale is in the state because a 1 % scale error is 3 m
//! over a 60 s outage at 5 m/s; the non-holonomic constraint (no lateral or vertical body
//! velocity) keeps the velocity aligned with the heading.

use courier_core::geo::LocalEnu;
use courier_core::geometry::{Covariance3, Covariance6, Pose2, Pose3, normalize_angle};
use courier_core::msgs::{GnssFix, Imu, WheelOdometry};
use courier_core::time::Stamp;
use nalgebra::{
    Cholesky, Const, Isometry3, Matrix3, SMatrix, SVector, Translation3, UnitQuaternion, Vector3,
};
use serde::{Deserialize, Serialize};

const N: usize = 16;
const IP: usize = 0;
const IV: usize = 3;
const ITH: usize = 6;
const IBA: usize = 9;
const IBG: usize = 12;
const IK: usize = 15;
type Cov = SMatrix<f64, N, N>;

/// Chi-square 99.9 % quantiles for 1, 2 and 3 degrees of freedom: the default gates.
pub const CHI2_999: [f64; 3] = [10.828, 13.816, 16.266];

/// Errors of the fusion filter. The filter state is untouched when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FusionError {
    #[error("{sensor} message at {stamp}: non-finite {what}")]
    NonFinite {
        sensor: &'static str,
        stamp: Stamp,
        what: &'static str,
    },
    #[error("{sensor} message at {stamp} is older than the filter time {filter_time}")]
    OutOfOrder {
        sensor: &'static str,
        stamp: Stamp,
        filter_time: Stamp,
    },
    #[error("{sensor} message at {stamp}: {what} out of range ({value})")]
    OutOfRange {
        sensor: &'static str,
        stamp: Stamp,
        what: &'static str,
        value: f64,
    },
    #[error("GNSS fix at {stamp} has no valid fix (status or coordinates)")]
    InvalidFix { stamp: Stamp },
}

/// A geodetic anchor of the `map` frame (degrees, metres above the ellipsoid).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoOrigin {
    pub latitude: f64,
    pub longitude: f64,
    pub altitude: f64,
}

/// Parameters of [`FusionFilter`]. Noise densities are continuous-time (per √Hz).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FusionParams {
    /// Anchor of the `map` (ENU) frame; `None`: the first valid GNSS fix. Default `None`.
    pub origin: Option<GeoOrigin>,
    /// Gravity magnitude, m/s². Default 9.80665.
    pub gravity: f64,
    /// Accelerometer white noise density, m/s²/√Hz. Default 2e-3.
    pub accel_noise: f64,
    /// Gyro white noise density, rad/s/√Hz. Default 2e-4.
    pub gyro_noise: f64,
    /// Accelerometer bias random walk, m/s³/√Hz. Default 1e-4.
    pub accel_bias_walk: f64,
    /// Gyro bias random walk, rad/s²/√Hz. Default 1e-6.
    pub gyro_bias_walk: f64,
    /// Wheel-odometry scale random walk, 1/s/√Hz. Default 1e-6.
    pub odom_scale_walk: f64,
    /// Standard deviation of the wheel forward speed, m/s. Default 0.05.
    pub odom_speed_sigma: f64,
    /// Standard deviation of the non-holonomic pseudo-measurement (lateral and vertical body
    /// velocity = 0), m/s. Default 0.05.
    pub nonholonomic_sigma: f64,
    /// GNSS position sigma used when a fix carries no usable covariance, m. Default 1.0.
    pub gnss_default_sigma: f64,
    /// Gate on the GNSS position update (3 dof). Default chi²(3, 0.999) = 16.27.
    pub gnss_gate: f64,
    /// Gate on the wheel-odometry velocity update (3 dof). Default 16.27.
    pub odom_gate: f64,
    /// Gate on the scan-matching pose update (x, y, yaw: 3 dof). Default 16.27.
    pub pose_gate: f64,
    /// Distance driven (GNSS displacement from the first fix) before the heading is aligned, m.
    /// The heading comes from fitting the rotation between the dead-reckoned track (wheel
    /// speed + IMU yaw rate) and the GNSS track over this stretch, so its accuracy grows with
    /// the distance (≈ σ_GNSS / (d √(N/12)) for N fixes over d metres: 0.02 rad at 20 m, 10 Hz,
    /// 0.7 m). Default 20.
    pub init_min_distance: f64,
    /// Initial 1σ of the heading when it has to come from the course between two GNSS fixes
    /// (no wheel speed before initialisation), rad. Default 0.3.
    pub init_yaw_sigma: f64,
    /// Initial 1σ of roll and pitch (initialised level), rad. Default 0.03.
    pub init_tilt_sigma: f64,
    /// Initial 1σ of the velocity, m/s. Default 1.0.
    pub init_velocity_sigma: f64,
    /// Initial 1σ of the accelerometer bias, m/s². Default 0.2.
    pub init_accel_bias_sigma: f64,
    /// Initial 1σ of the gyro bias, rad/s. Default 0.02.
    pub init_gyro_bias_sigma: f64,
    /// Initial 1σ of the wheel-odometry scale. Default 0.05.
    pub init_odom_scale_sigma: f64,
    /// Longest prediction step; longer gaps are integrated in sub-steps of this size, s.
    /// Default 0.02.
    pub max_step: f64,
    /// Largest accepted |acceleration| (m/s²) and |angular rate| (rad/s): larger IMU samples are
    /// rejected as out of range. Default 160 and 35 (16 g, 2000 °/s).
    pub max_accel: f64,
    pub max_gyro: f64,
}

impl Default for FusionParams {
    fn default() -> Self {
        Self {
            origin: None,
            gravity: 9.80665,
            accel_noise: 2e-3,
            gyro_noise: 2e-4,
            accel_bias_walk: 1e-4,
            gyro_bias_walk: 1e-6,
            odom_scale_walk: 1e-6,
            odom_speed_sigma: 0.05,
            nonholonomic_sigma: 0.05,
            gnss_default_sigma: 1.0,
            gnss_gate: CHI2_999[2],
            odom_gate: CHI2_999[2],
            pose_gate: CHI2_999[2],
            init_min_distance: 20.0,
            init_yaw_sigma: 0.3,
            init_tilt_sigma: 0.03,
            init_velocity_sigma: 1.0,
            init_accel_bias_sigma: 0.2,
            init_gyro_bias_sigma: 0.02,
            init_odom_scale_sigma: 0.05,
            max_step: 0.02,
            max_accel: 160.0,
            max_gyro: 35.0,
        }
    }
}

/// What a measurement did to the filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UpdateOutcome {
    /// Fused; `nis` is the normalised innovation squared (Mahalanobis distance²).
    Accepted { nis: f64 },
    /// Rejected by the chi-square gate.
    Rejected { nis: f64 },
    /// Used to initialise the filter.
    Initialized,
    /// Stored (IMU sample, or a measurement while the filter is still waiting to initialise).
    Stored,
}

/// The filter's estimate: pose of base_link in `map` (ENU), velocity, and uncertainty.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionEstimate {
    pub stamp: Stamp,
    pub pose: Pose3,
    /// Velocity in the map frame, m/s.
    pub velocity: Vector3<f64>,
    /// Pose covariance ordered (x, y, z, roll, pitch, yaw) as in ROS; the angle part is the
    /// body-frame angle error.
    pub covariance: Covariance6,
    pub accel_bias: Vector3<f64>,
    pub gyro_bias: Vector3<f64>,
    /// Estimated wheel-odometry scale (true speed × scale = reported speed).
    pub odom_scale: f64,
}

/// The answer to one input.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionStep {
    pub outcome: UpdateOutcome,
    /// The estimate after the input; `None` until the filter is initialised.
    pub estimate: Option<FusionEstimate>,
}

/// Counters per sensor, for monitoring (a host publishes them as diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FusionCounters {
    pub imu: u64,
    pub imu_invalid: u64,
    pub odom_accepted: u64,
    pub odom_rejected: u64,
    pub gnss_accepted: u64,
    pub gnss_rejected: u64,
    pub pose_accepted: u64,
    pub pose_rejected: u64,
    /// Inputs refused with an error (non-finite, out of range, out of order, no fix).
    pub invalid: u64,
}

#[derive(Debug, Clone)]
struct State {
    p: Vector3<f64>,
    v: Vector3<f64>,
    q: UnitQuaternion<f64>,
    ba: Vector3<f64>,
    bg: Vector3<f64>,
    k: f64,
    cov: Cov,
}

/// The fusion node core. Feed inputs in time order; each call returns the current estimate.
#[derive(Debug, Clone)]
pub struct FusionFilter {
    params: FusionParams,
    enu: Option<LocalEnu>,
    state: Option<State>,
    /// Filter time (stamp of the last prediction).
    time: Option<Stamp>,
    /// Last IMU sample (specific force, angular rate), held until the next one.
    imu: Option<(Vector3<f64>, Vector3<f64>)>,
    /// Dead-reckoned track paired with GNSS fixes before initialisation (heading alignment).
    align: Option<Alignment>,
    /// Last wheel forward speed, for the initial velocity.
    last_speed: Option<f64>,
    counters: FusionCounters,
}

/// In-motion heading alignment before initialisation. A heading from two noisy fixes a few
/// metres apart is off by tenths of a radian; the ESKF then linearises about a wrong heading,
/// pushes the error into the gyro and accelerometer biases and its covariance collapses around
/// the wrong values (over-confident), so the gyro bias is still off by ~5e-5 rad/s minutes
/// later: 0.4 m across a 60 s outage at 5 m/s. Instead, the track dead-reckoned in an arbitrary
/// frame (wheel speed, IMU yaw rate) is rotated onto the GNSS track by least squares.
#[derive(Debug, Clone)]
struct Alignment {
    /// Time of the last dead-reckoning step.
    time: Stamp,
    /// Time of the first fix.
    start: Stamp,
    /// Dead-reckoned heading and position (frame of the first fix, heading 0 there).
    psi: f64,
    pos: nalgebra::Vector2<f64>,
    /// (dead-reckoned position, GNSS position) at each fix.
    pairs: Vec<(nalgebra::Vector2<f64>, Vector3<f64>)>,
}

impl Alignment {
    /// Rotation from the dead-reckoned frame to ENU, and 1σ of its fit (GNSS noise only).
    fn fit(&self, sigma: f64) -> Option<(f64, f64)> {
        let n = self.pairs.len() as f64;
        if self.pairs.len() < 3 {
            return None;
        }
        let dm = self
            .pairs
            .iter()
            .map(|p| p.0)
            .sum::<nalgebra::Vector2<f64>>()
            / n;
        let zm = self
            .pairs
            .iter()
            .map(|p| p.1.xy())
            .sum::<nalgebra::Vector2<f64>>()
            / n;
        let (mut cross, mut dot, mut spread) = (0.0, 0.0, 0.0);
        for (d, z) in &self.pairs {
            let (a, b) = (d - dm, z.xy() - zm);
            cross += a.x * b.y - a.y * b.x;
            dot += a.dot(&b);
            spread += a.norm_squared();
        }
        (spread > 1e-6).then(|| (cross.atan2(dot), sigma / spread.sqrt()))
    }
}

fn skew(v: &Vector3<f64>) -> Matrix3<f64> {
    Matrix3::new(0.0, -v.z, v.y, v.z, 0.0, -v.x, -v.y, v.x, 0.0)
}

impl FusionFilter {
    pub fn new(params: FusionParams) -> Self {
        let enu = params
            .origin
            .map(|o| LocalEnu::new(o.latitude, o.longitude, o.altitude));
        Self {
            params,
            enu,
            state: None,
            time: None,
            imu: None,
            align: None,
            last_speed: None,
            counters: FusionCounters::default(),
        }
    }

    pub fn params(&self) -> &FusionParams {
        &self.params
    }
    pub fn counters(&self) -> FusionCounters {
        self.counters
    }
    pub fn is_initialized(&self) -> bool {
        self.state.is_some()
    }
    /// The local ENU frame in use (set by the parameters or the first fix).
    pub fn enu(&self) -> Option<&LocalEnu> {
        self.enu.as_ref()
    }

    /// Initialises (or re-initialises) the filter at a known pose and map-frame velocity.
    pub fn initialize(&mut self, stamp: Stamp, pose: &Pose3, velocity: Vector3<f64>) {
        let p = &self.params;
        let mut cov = Cov::zeros();
        for i in 0..3 {
            cov[(IP + i, IP + i)] = 1.0;
            cov[(IV + i, IV + i)] = p.init_velocity_sigma.powi(2);
            cov[(IBA + i, IBA + i)] = p.init_accel_bias_sigma.powi(2);
            cov[(IBG + i, IBG + i)] = p.init_gyro_bias_sigma.powi(2);
        }
        cov[(ITH, ITH)] = p.init_tilt_sigma.powi(2);
        cov[(ITH + 1, ITH + 1)] = p.init_tilt_sigma.powi(2);
        cov[(ITH + 2, ITH + 2)] = p.init_yaw_sigma.powi(2);
        cov[(IK, IK)] = p.init_odom_scale_sigma.powi(2);
        self.state = Some(State {
            p: pose.translation(),
            v: velocity,
            q: pose.0.rotation,
            ba: Vector3::zeros(),
            bg: Vector3::zeros(),
            k: 1.0,
            cov,
        });
        self.time = Some(stamp);
    }

    /// The current estimate, `None` before initialisation.
    pub fn estimate(&self) -> Option<FusionEstimate> {
        let s = self.state.as_ref()?;
        let mut covariance = Covariance6::zeros();
        covariance
            .fixed_view_mut::<3, 3>(0, 0)
            .copy_from(&s.cov.fixed_view::<3, 3>(IP, IP));
        covariance
            .fixed_view_mut::<3, 3>(3, 3)
            .copy_from(&s.cov.fixed_view::<3, 3>(ITH, ITH));
        covariance
            .fixed_view_mut::<3, 3>(0, 3)
            .copy_from(&s.cov.fixed_view::<3, 3>(IP, ITH));
        covariance
            .fixed_view_mut::<3, 3>(3, 0)
            .copy_from(&s.cov.fixed_view::<3, 3>(ITH, IP));
        Some(FusionEstimate {
            stamp: self.time.unwrap_or_default(),
            pose: Pose3(Isometry3::from_parts(Translation3::from(s.p), s.q)),
            velocity: s.v,
            covariance,
            accel_bias: s.ba,
            gyro_bias: s.bg,
            odom_scale: s.k,
        })
    }

    fn step(&self, outcome: UpdateOutcome) -> FusionStep {
        FusionStep {
            outcome,
            estimate: self.estimate(),
        }
    }

    fn invalid(&mut self, e: FusionError) -> FusionError {
        self.counters.invalid += 1;
        e
    }

    /// Refuses a message older than the filter time.
    fn check_order(&mut self, sensor: &'static str, stamp: Stamp) -> Result<(), FusionError> {
        match self.time {
            Some(t) if stamp < t => Err(self.invalid(FusionError::OutOfOrder {
                sensor,
                stamp,
                filter_time: t,
            })),
            _ => Ok(()),
        }
    }

    /// An IMU sample: predicts up to its stamp with the previous sample, then holds this one.
    pub fn on_imu(&mut self, imu: &Imu) -> Result<FusionStep, FusionError> {
        if !imu.is_finite() {
            self.counters.imu_invalid += 1;
            return Err(self.invalid(FusionError::NonFinite {
                sensor: "IMU",
                stamp: imu.stamp,
                what: "angular velocity or linear acceleration",
            }));
        }
        let (a, w) = (imu.linear_acceleration.norm(), imu.angular_velocity.norm());
        if a > self.params.max_accel || w > self.params.max_gyro {
            self.counters.imu_invalid += 1;
            let (what, value) = if a > self.params.max_accel {
                ("|linear acceleration|", a)
            } else {
                ("|angular velocity|", w)
            };
            return Err(self.invalid(FusionError::OutOfRange {
                sensor: "IMU",
                stamp: imu.stamp,
                what,
                value,
            }));
        }
        self.check_order("IMU", imu.stamp)?;
        self.dead_reckon_to(imu.stamp);
        self.predict_to(imu.stamp);
        self.imu = Some((imu.linear_acceleration, imu.angular_velocity));
        self.counters.imu += 1;
        Ok(self.step(UpdateOutcome::Stored))
    }

    /// Wheel odometry: fuses the forward speed (through the estimated scale) and the
    /// non-holonomic constraint. The integrated odometry pose is not used (it drifts).
    pub fn on_odometry(&mut self, odom: &WheelOdometry) -> Result<FusionStep, FusionError> {
        if !odom.twist.is_finite() {
            return Err(self.invalid(FusionError::NonFinite {
                sensor: "wheel odometry",
                stamp: odom.stamp,
                what: "twist",
            }));
        }
        self.check_order("wheel odometry", odom.stamp)?;
        let speed = odom.twist.vx;
        self.dead_reckon_to(odom.stamp);
        self.last_speed = Some(speed);
        if self.state.is_none() {
            return Ok(self.step(UpdateOutcome::Stored));
        }
        self.predict_to(odom.stamp);
        let s = self.state.as_ref().expect("initialised: checked above");
        let rt = s.q.to_rotation_matrix().into_inner().transpose();
        let vb = rt * s.v;
        let h_val = Vector3::new(s.k * vb.x, vb.y, vb.z);
        let z = Vector3::new(speed, 0.0, 0.0);
        let mut h = SMatrix::<f64, 3, N>::zeros();
        let mut dv = rt;
        let mut dth = skew(&vb);
        for c in 0..3 {
            dv[(0, c)] *= s.k;
            dth[(0, c)] *= s.k;
        }
        h.fixed_view_mut::<3, 3>(0, IV).copy_from(&dv);
        h.fixed_view_mut::<3, 3>(0, ITH).copy_from(&dth);
        h[(0, IK)] = vb.x;
        let r = Matrix3::from_diagonal(&Vector3::new(
            self.params.odom_speed_sigma.powi(2),
            self.params.nonholonomic_sigma.powi(2),
            self.params.nonholonomic_sigma.powi(2),
        ));
        let out = self.update(z - h_val, &h, &r, self.params.odom_gate);
        match out {
            UpdateOutcome::Accepted { .. } => self.counters.odom_accepted += 1,
            _ => self.counters.odom_rejected += 1,
        }
        Ok(self.step(out))
    }

    /// A GNSS fix: a position update in the local ENU frame, gated against jumps.
    pub fn on_gnss(&mut self, fix: &GnssFix) -> Result<FusionStep, FusionError> {
        if !fix.is_valid() {
            return Err(self.invalid(FusionError::InvalidFix { stamp: fix.stamp }));
        }
        self.check_order("GNSS", fix.stamp)?;
        let enu = *self
            .enu
            .get_or_insert_with(|| LocalEnu::new(fix.latitude, fix.longitude, fix.altitude));
        let z = enu.to_enu(fix.latitude, fix.longitude, fix.altitude);
        let c = &fix.position_covariance;
        let usable = c.iter().all(|v| v.is_finite())
            && (0..3).all(|i| c[(i, i)] > 1e-6)
            && c.cholesky().is_some();
        let r = if usable {
            *c
        } else {
            Matrix3::identity() * self.params.gnss_default_sigma.powi(2)
        };
        if self.state.is_none() {
            return Ok(self.try_initialize_from_gnss(fix.stamp, z, &r));
        }
        self.predict_to(fix.stamp);
        let s = self.state.as_ref().expect("initialised: checked above");
        let mut h = SMatrix::<f64, 3, N>::zeros();
        h.fixed_view_mut::<3, 3>(0, IP)
            .copy_from(&Matrix3::identity());
        let out = self.update(z - s.p, &h, &r, self.params.gnss_gate);
        match out {
            UpdateOutcome::Accepted { .. } => self.counters.gnss_accepted += 1,
            _ => self.counters.gnss_rejected += 1,
        }
        Ok(self.step(out))
    }

    /// Before initialisation: advances the dead-reckoned alignment track to `stamp` with the
    /// held wheel speed and IMU yaw rate (level vehicle assumed for these few seconds).
    fn dead_reckon_to(&mut self, stamp: Stamp) {
        let (Some(al), None) = (self.align.as_mut(), self.state.as_ref()) else {
            return;
        };
        let dt = stamp.seconds_since(al.time);
        if dt <= 0.0 {
            return;
        }
        let wz = self.imu.map_or(0.0, |(_, w)| w.z);
        let v = self.last_speed.unwrap_or(0.0);
        let mid = al.psi + 0.5 * wz * dt;
        al.pos += nalgebra::Vector2::new(mid.cos(), mid.sin()) * (v * dt);
        al.psi += wz * dt;
        al.time = stamp;
    }

    fn try_initialize_from_gnss(
        &mut self,
        stamp: Stamp,
        z: Vector3<f64>,
        r: &Matrix3<f64>,
    ) -> FusionStep {
        self.dead_reckon_to(stamp);
        let al = self.align.get_or_insert_with(|| Alignment {
            time: stamp,
            start: stamp,
            psi: 0.0,
            pos: nalgebra::Vector2::zeros(),
            pairs: Vec::new(),
        });
        al.pairs.push((al.pos, z));
        let first = al.pairs[0].1;
        if (z - first).xy().norm() < self.params.init_min_distance {
            return self.step(UpdateOutcome::Stored);
        }
        let sigma = r[(0, 0)].max(r[(1, 1)]).sqrt();
        let window = stamp.seconds_since(al.start);
        let dr_len = (al.pos - al.pairs[0].0).norm();
        let fitted = (self.last_speed.is_some() && dr_len > 0.5 * self.params.init_min_distance)
            .then(|| al.fit(sigma))
            .flatten();
        let (yaw, yaw_sigma) = match fitted {
            // The dead-reckoned heading also drifts by the unknown gyro bias over the window.
            Some((rot, s_fit)) => (
                normalize_angle(rot + al.psi),
                s_fit.hypot(self.params.init_gyro_bias_sigma * window),
            ),
            // No wheel speed: course over ground between the first and this fix.
            None => {
                let d = z - first;
                (d.y.atan2(d.x), self.params.init_yaw_sigma)
            }
        };
        self.align = None;
        let speed = self.last_speed.unwrap_or(0.0);
        let pose = Pose3::from_xyz_rpy(z.x, z.y, z.z, 0.0, 0.0, yaw);
        let vel = Vector3::new(yaw.cos(), yaw.sin(), 0.0) * speed;
        self.initialize(stamp, &pose, vel);
        if let Some(s) = self.state.as_mut() {
            s.cov.fixed_view_mut::<3, 3>(IP, IP).copy_from(r);
            s.cov[(ITH + 2, ITH + 2)] = yaw_sigma.powi(2);
        }
        self.step(UpdateOutcome::Initialized)
    }

    /// A scan-matching pose of base_link in `map` with its (x, y, θ) covariance (e.g. from
    /// [`crate::amcl::MapLocalizer`] or a scan matcher): updates x, y and yaw.
    pub fn on_pose(
        &mut self,
        stamp: Stamp,
        pose: &Pose2,
        covariance: &Covariance3,
    ) -> Result<FusionStep, FusionError> {
        if !pose.is_finite() || covariance.iter().any(|v| !v.is_finite()) {
            return Err(self.invalid(FusionError::NonFinite {
                sensor: "scan-match pose",
                stamp,
                what: "pose or covariance",
            }));
        }
        if covariance.cholesky().is_none() {
            return Err(self.invalid(FusionError::OutOfRange {
                sensor: "scan-match pose",
                stamp,
                what: "covariance (not positive definite), its determinant",
                value: covariance.determinant(),
            }));
        }
        self.check_order("scan-match pose", stamp)?;
        if self.state.is_none() {
            let p3 = Pose3::from_xyz_rpy(pose.x(), pose.y(), 0.0, 0.0, 0.0, pose.theta());
            let speed = self.last_speed.unwrap_or(0.0);
            let vel = Vector3::new(pose.theta().cos(), pose.theta().sin(), 0.0) * speed;
            self.initialize(stamp, &p3, vel);
            if let Some(s) = self.state.as_mut() {
                s.cov[(IP, IP)] = covariance[(0, 0)];
                s.cov[(IP + 1, IP + 1)] = covariance[(1, 1)];
                s.cov[(ITH + 2, ITH + 2)] = covariance[(2, 2)];
            }
            return Ok(self.step(UpdateOutcome::Initialized));
        }
        self.predict_to(stamp);
        let s = self.state.as_ref().expect("initialised: checked above");
        let r_mat = s.q.to_rotation_matrix().into_inner();
        let yaw = s.q.euler_angles().2;
        let res = SVector::<f64, 3>::new(
            pose.x() - s.p.x,
            pose.y() - s.p.y,
            normalize_angle(pose.theta() - yaw),
        );
        let mut h = SMatrix::<f64, 3, N>::zeros();
        h[(0, IP)] = 1.0;
        h[(1, IP + 1)] = 1.0;
        // Yaw moves with the world-frame z component of the body-frame angle error, R·δθ.
        for c in 0..3 {
            h[(2, ITH + c)] = r_mat[(2, c)];
        }
        let out = self.update(res, &h, covariance, self.params.pose_gate);
        match out {
            UpdateOutcome::Accepted { .. } => self.counters.pose_accepted += 1,
            _ => self.counters.pose_rejected += 1,
        }
        Ok(self.step(out))
    }

    /// Predicts the state to `stamp` with the held IMU sample.
    fn predict_to(&mut self, stamp: Stamp) {
        let Some(t0) = self.time else {
            self.time = Some(stamp);
            return;
        };
        let mut remaining = stamp.seconds_since(t0);
        self.time = Some(stamp.max(t0));
        let (Some(state), Some((am, wm))) = (self.state.as_mut(), self.imu) else {
            return;
        };
        let p = &self.params;
        while remaining > 1e-12 {
            let dt = remaining.min(p.max_step);
            remaining -= dt;
            let r = state.q.to_rotation_matrix().into_inner();
            let acc_b = am - state.ba;
            let w = wm - state.bg;
            let a_w = r * acc_b + Vector3::new(0.0, 0.0, -p.gravity);
            state.p += state.v * dt + 0.5 * a_w * dt * dt;
            state.v += a_w * dt;
            let dq = UnitQuaternion::from_scaled_axis(w * dt);
            state.q = UnitQuaternion::new_normalize((state.q * dq).into_inner());

            let mut f = Cov::identity();
            f.fixed_view_mut::<3, 3>(IP, IV)
                .copy_from(&(Matrix3::identity() * dt));
            f.fixed_view_mut::<3, 3>(IV, ITH)
                .copy_from(&(-r * skew(&acc_b) * dt));
            f.fixed_view_mut::<3, 3>(IV, IBA).copy_from(&(-r * dt));
            f.fixed_view_mut::<3, 3>(ITH, ITH)
                .copy_from(&dq.to_rotation_matrix().into_inner().transpose());
            f.fixed_view_mut::<3, 3>(ITH, IBG)
                .copy_from(&(-Matrix3::identity() * dt));
            let mut cov = f * state.cov * f.transpose();
            for i in 0..3 {
                cov[(IV + i, IV + i)] += p.accel_noise.powi(2) * dt;
                cov[(ITH + i, ITH + i)] += p.gyro_noise.powi(2) * dt;
                cov[(IBA + i, IBA + i)] += p.accel_bias_walk.powi(2) * dt;
                cov[(IBG + i, IBG + i)] += p.gyro_bias_walk.powi(2) * dt;
            }
            cov[(IK, IK)] += p.odom_scale_walk.powi(2) * dt;
            state.cov = 0.5 * (cov + cov.transpose());
        }
    }

    /// The gated Kalman update with residual `res`, Jacobian `h` and noise `r`; injects the
    /// error into the nominal state and resets it.
    fn update<const M: usize>(
        &mut self,
        res: SVector<f64, M>,
        h: &SMatrix<f64, M, N>,
        r: &SMatrix<f64, M, M>,
        gate: f64,
    ) -> UpdateOutcome
    where
        Const<M>: nalgebra::DimMin<Const<M>, Output = Const<M>>,
    {
        let Some(s) = self.state.as_mut() else {
            return UpdateOutcome::Stored;
        };
        let pht = s.cov * h.transpose();
        let sm = h * pht + r;
        let Some(chol): Option<Cholesky<f64, Const<M>>> = sm.cholesky() else {
            return UpdateOutcome::Rejected { nis: f64::INFINITY };
        };
        let nis = res.dot(&chol.solve(&res));
        if !nis.is_finite() || nis > gate {
            return UpdateOutcome::Rejected { nis };
        }
        // K = P Hᵀ S⁻¹, computed as (S⁻¹ (P Hᵀ)ᵀ)ᵀ since S is symmetric.
        let k = chol.solve(&pht.transpose()).transpose();
        let dx = k * res;
        let ikh = Cov::identity() - k * h;
        let cov = ikh * s.cov * ikh.transpose() + k * r * k.transpose();

        s.p += dx.fixed_rows::<3>(IP);
        s.v += dx.fixed_rows::<3>(IV);
        let dth: Vector3<f64> = dx.fixed_rows::<3>(ITH).into();
        s.q = UnitQuaternion::new_normalize(
            (s.q * UnitQuaternion::from_scaled_axis(dth)).into_inner(),
        );
        s.ba += dx.fixed_rows::<3>(IBA);
        s.bg += dx.fixed_rows::<3>(IBG);
        s.k += dx[IK];
        // ESKF reset: the angle error is re-expressed about the corrected orientation.
        let mut g = Cov::identity();
        g.fixed_view_mut::<3, 3>(ITH, ITH)
            .copy_from(&(Matrix3::identity() - skew(&(0.5 * dth))));
        let cov = g * cov * g.transpose();
        s.cov = 0.5 * (cov + cov.transpose());
        UpdateOutcome::Accepted { nis }
    }
}

#[cfg(test)]
mod tests;
