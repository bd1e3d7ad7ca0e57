//! 3D LiDAR odometry: point-to-point ICP of each frame against a voxel-hashed local map, with a
//! constant-velocity prediction, deskewing under the same constant velocity, and an adaptive
//! correspondence threshold. The ideas follow KISS-ICP (Vizzo et al., RA-L 2023): the map is
//! a voxel hash holding a bounded number of points per voxel (it is also the neighbour search),
//! the frame is voxel-downsampled twice (a fine cloud for the map, a coarse one to register),
//! and the correspondence distance is 3σ where σ is the RMS deviation of the registered motion
//! from the constant-velocity prediction, so it tightens as the motion becomes predictable.

mod voxel_map;

pub use voxel_map::{VoxelMap, voxel_downsample};

use courier_core::geometry::Pose3;
use courier_core::msgs::PointCloud;
use courier_core::time::Stamp;
use nalgebra::{Isometry3, Matrix3, Matrix6, Translation3, UnitQuaternion, Vector3, Vector6};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use voxel_map::{VoxelBuild, VoxelKey};

/// Errors of the LiDAR odometry. The odometry state is untouched when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LidarOdometryError {
    #[error("point cloud at {stamp}: fields have different lengths")]
    InconsistentCloud { stamp: Stamp },
    #[error("point cloud at {stamp} is older than the previous one at {previous}")]
    OutOfOrder { stamp: Stamp, previous: Stamp },
    #[error(
        "point cloud at {stamp}: registration failed, {correspondences} of {points} points matched the map"
    )]
    RegistrationFailed {
        stamp: Stamp,
        correspondences: usize,
        points: usize,
    },
    #[error("point cloud at {stamp}: only {valid} usable points in range (need {needed})")]
    TooFewPoints {
        stamp: Stamp,
        valid: usize,
        needed: usize,
    },
}

/// Parameters of [`LidarOdometry`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LidarOdometryParams {
    /// Points farther than this from the sensor are dropped, and the map keeps only voxels
    /// within this distance of the vehicle, m. Default 100 (HDL-64 class).
    pub max_range: f64,
    /// Points closer than this are dropped (the vehicle itself), m. Default 5 (KISS-ICP's value
    /// for KITTI, where the closest returns are the car roof and nearby ground).
    pub min_range: f64,
    /// Map voxel size, m; the map cloud is downsampled at half of it, the registration cloud at
    /// 1.5×. Default 1.0 (max_range / 100).
    pub voxel_size: f64,
    /// Points kept per map voxel. Default 20.
    pub max_points_per_voxel: usize,
    /// Correspondence threshold before any motion has been observed, m. Default 2.0.
    pub initial_threshold: f64,
    /// Motion deviations below this do not update the adaptive threshold, m. Default 0.1.
    pub min_motion: f64,
    /// ICP iterations cap and convergence (norm of the last increment). Defaults 500, 1e-4.
    pub max_iterations: usize,
    pub convergence: f64,
    /// Deskew with the constant-velocity motion when the cloud carries per-point times.
    /// Default true.
    pub deskew: bool,
    /// Sweep duration, s, to normalise per-point times. Default 0.1 (10 Hz).
    pub scan_period: f64,
    /// Fewest usable points a frame must have. Default 100.
    pub min_points: usize,
    /// Smallest share of the registration points that must find a map correspondence for the
    /// result to be accepted; below it the frame is refused and the state kept. Default 0.2.
    pub min_match_ratio: f64,
    /// Start-up registration (no motion known yet: the first frame pair, unless a motion prior
    /// was set): points lower than the frame's 10th height percentile plus this are left out,
    /// m. The ground seen through the same scan rings from every position pulls point-to-point
    /// ICP to zero motion; without velocity to predict from, walls, poles and cars alone give
    /// the first motion. 0 disables. Default 0.5.
    pub startup_ground_clearance: f64,
}

impl Default for LidarOdometryParams {
    fn default() -> Self {
        Self {
            max_range: 100.0,
            min_range: 5.0,
            voxel_size: 1.0,
            max_points_per_voxel: 20,
            initial_threshold: 2.0,
            min_motion: 0.1,
            max_iterations: 500,
            convergence: 1e-4,
            deskew: true,
            scan_period: 0.1,
            min_points: 100,
            min_match_ratio: 0.2,
            startup_ground_clearance: 0.5,
        }
    }
}

/// One odometry output.
#[derive(Debug, Clone, PartialEq)]
pub struct LidarOdometryEstimate {
    pub stamp: Stamp,
    /// Sensor pose in `odom` (the first frame's pose is the identity).
    pub pose: Pose3,
    /// Motion since the previous frame (previous⁻¹ · current).
    pub delta: Pose3,
    pub iterations: usize,
    /// Correspondences used in the last ICP iteration.
    pub correspondences: usize,
    /// Registration (source) points and the correspondence distance used, m.
    pub source_points: usize,
    pub threshold: f64,
}

/// Counters, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LidarOdometryCounters {
    pub frames: u64,
    /// Non-finite points skipped.
    pub points_skipped: u64,
    /// Frames refused with an error.
    pub frames_rejected: u64,
}

/// KISS-ICP's adaptive threshold: σ = RMS of the deviation of the registered motion from the
/// prediction, over all frames whose deviation exceeded `min_motion`.
#[derive(Debug, Clone)]
struct AdaptiveThreshold {
    initial: f64,
    min_motion: f64,
    max_range: f64,
    sse: f64,
    samples: usize,
}

impl AdaptiveThreshold {
    fn sigma(&self) -> f64 {
        if self.samples == 0 {
            self.initial
        } else {
            (self.sse / self.samples as f64).sqrt()
        }
    }
    fn update(&mut self, deviation: &Isometry3<f64>) {
        // A rotation error moves a point at max range by 2·r·sin(θ/2).
        let theta = deviation.rotation.angle();
        let err = 2.0 * self.max_range * (theta / 2.0).sin() + deviation.translation.vector.norm();
        if err > self.min_motion {
            self.sse += err * err;
            self.samples += 1;
        }
    }
}

/// The LiDAR odometry node core: `on_cloud` per sweep, in time order.
#[derive(Debug, Clone)]
pub struct LidarOdometry {
    params: LidarOdometryParams,
    map: VoxelMap,
    threshold: AdaptiveThreshold,
    pose: Isometry3<f64>,
    /// Last inter-frame motion, the constant-velocity model.
    delta: Isometry3<f64>,
    last_stamp: Option<Stamp>,
    /// Whether `delta` is a measured or given motion (false until the first registration).
    motion_known: bool,
    counters: LidarOdometryCounters,
    // Scratch buffers reused frame after frame.
    frame: Vec<Vector3<f64>>,
    fine: Vec<Vector3<f64>>,
    source: Vec<Vector3<f64>>,
    moved: Vec<Vector3<f64>>,
    seen: HashSet<VoxelKey, VoxelBuild>,
}

fn se3_exp(dx: &Vector6<f64>) -> Isometry3<f64> {
    // Left increment with separate rotation and translation (enough for ICP's small steps).
    Isometry3::from_parts(
        Translation3::new(dx[0], dx[1], dx[2]),
        UnitQuaternion::from_scaled_axis(Vector3::new(dx[3], dx[4], dx[5])),
    )
}

/// Restores the unit norm of a pose's quaternion. nalgebra's `UnitQuaternion` products do not
/// renormalise, and inverting one takes its conjugate, which is only the inverse at unit norm.
/// The constant-velocity bookkeeping (delta = previous⁻¹ · current, prediction = current ·
/// delta) multiplies the norm error by 1 + √2 each frame, so without this a rounding-level
/// error reaches 1e-5 after ~30 frames and 1e-2 after ~38; a non-unit quaternion turns point
/// transforms into non-rigid ones (rotation plus scaling), and registration then loses yaw.
fn rigid(mut m: Isometry3<f64>) -> Isometry3<f64> {
    m.rotation.renormalize();
    m
}

/// Scales a motion: the rotation by its angle, the translation linearly (constant velocity).
fn scale_motion(m: &Isometry3<f64>, s: f64) -> Isometry3<f64> {
    Isometry3::from_parts(
        Translation3::from(m.translation.vector * s),
        UnitQuaternion::from_scaled_axis(m.rotation.scaled_axis() * s),
    )
}

/// Removes the points lower (sensor z) than the 10th height percentile plus `clearance`: the
/// ground, for the start-up registration. Keeps everything if too little would remain.
fn drop_lowest(points: &mut Vec<Vector3<f64>>, clearance: f64) {
    if points.len() < 20 {
        return;
    }
    let mut z: Vec<f64> = points.iter().map(|p| p.z).collect();
    let k = z.len() / 10;
    let (_, &mut floor, _) = z.select_nth_unstable_by(k, f64::total_cmp);
    let kept = points.iter().filter(|p| p.z >= floor + clearance).count();
    if kept >= 20 && kept * 10 >= points.len() {
        points.retain(|p| p.z >= floor + clearance);
    }
}

/// Result of one registration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IcpResult {
    pub pose: Isometry3<f64>,
    pub iterations: usize,
    pub correspondences: usize,
}

/// Settings of one ICP registration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IcpConfig {
    /// Correspondences farther than this are ignored, m.
    pub max_distance: f64,
    /// Scale of the Geman–McClure kernel, m.
    pub kernel: f64,
    pub max_iterations: usize,
    /// Stop when the increment's norm falls below this.
    pub convergence: f64,
}

/// Point-to-point ICP of `source` (sensor frame) against `map` from `initial`: Gauss–Newton on
/// SE(3) with a Geman–McClure kernel. `scratch` holds the moved source points (reused).
pub fn register(
    source: &[Vector3<f64>],
    map: &VoxelMap,
    initial: &Isometry3<f64>,
    cfg: &IcpConfig,
    scratch: &mut Vec<Vector3<f64>>,
) -> IcpResult {
    let IcpConfig {
        max_distance,
        kernel,
        max_iterations,
        convergence,
    } = *cfg;
    let mut pose = *initial;
    scratch.clear();
    scratch.extend(
        source
            .iter()
            .map(|p| pose * nalgebra::Point3::from(*p))
            .map(|p| p.coords),
    );
    let k2 = kernel * kernel;
    let mut iterations = 0;
    let mut correspondences = 0;
    while iterations < max_iterations {
        iterations += 1;
        let mut jtj = Matrix6::<f64>::zeros();
        let mut jtr = Vector6::<f64>::zeros();
        correspondences = 0;
        for p in scratch.iter() {
            let Some((q, d2)) = map.nearest(p, max_distance) else {
                continue;
            };
            correspondences += 1;
            let r = p - q;
            // Geman–McClure weight k² / (k + r²)², in KISS-ICP's form.
            let denom = kernel + d2;
            let w = k2 / (denom * denom);
            // J = [I, -[p]×]; accumulate JᵀWJ and JᵀWr by blocks.
            let px = Matrix3::new(0.0, -p.z, p.y, p.z, 0.0, -p.x, -p.y, p.x, 0.0);
            let jt_r = px * r; // (-[p]×)ᵀ r = [p]× r
            let a = Matrix3::identity() * w;
            let b = -px * w; // I · W · (-[p]×)
            let c = px.transpose() * px * w; // (-[p]×)ᵀ W (-[p]×)
            jtj.fixed_view_mut::<3, 3>(0, 0).add_assign(&a);
            jtj.fixed_view_mut::<3, 3>(0, 3).add_assign(&b);
            jtj.fixed_view_mut::<3, 3>(3, 0).add_assign(&b.transpose());
            jtj.fixed_view_mut::<3, 3>(3, 3).add_assign(&c);
            jtr.fixed_rows_mut::<3>(0).add_assign(&(r * w));
            jtr.fixed_rows_mut::<3>(3).add_assign(&(jt_r * w));
        }
        if correspondences < 6 {
            break;
        }
        let Some(chol) = jtj.cholesky() else {
            break;
        };
        let dx = -chol.solve(&jtr);
        let step = se3_exp(&dx);
        for p in scratch.iter_mut() {
            *p = (step * nalgebra::Point3::from(*p)).coords;
        }
        pose = rigid(step * pose);
        if dx.norm() < convergence {
            break;
        }
    }
    IcpResult {
        pose,
        iterations,
        correspondences,
    }
}

use std::ops::AddAssign;

impl LidarOdometry {
    pub fn new(params: LidarOdometryParams) -> Self {
        let map = VoxelMap::new(params.voxel_size, params.max_points_per_voxel);
        let threshold = AdaptiveThreshold {
            initial: params.initial_threshold,
            min_motion: params.min_motion,
            max_range: params.max_range,
            sse: 0.0,
            samples: 0,
        };
        Self {
            params,
            map,
            threshold,
            pose: Isometry3::identity(),
            delta: Isometry3::identity(),
            last_stamp: None,
            motion_known: false,
            counters: LidarOdometryCounters::default(),
            frame: Vec::new(),
            fine: Vec::new(),
            source: Vec::new(),
            moved: Vec::new(),
            seen: HashSet::default(),
        }
    }
    pub fn params(&self) -> &LidarOdometryParams {
        &self.params
    }
    pub fn counters(&self) -> LidarOdometryCounters {
        self.counters
    }
    pub fn pose(&self) -> Pose3 {
        Pose3(self.pose)
    }
    pub fn map(&self) -> &VoxelMap {
        &self.map
    }

    /// Replaces the constant-velocity motion expected for the next sweep (previous⁻¹ · next
    /// sensor pose), e.g. from wheel odometry when starting while already moving: with no
    /// velocity yet, ICP can lock onto zero motion on flat ground, whose scan rings look the
    /// same from every position.
    pub fn set_motion_prior(&mut self, delta: &Pose3) {
        if delta.translation().iter().all(|v| v.is_finite())
            && delta.0.rotation.coords.iter().all(|v| v.is_finite())
            && delta.0.rotation.quaternion().norm() > 0.5
        {
            self.delta = rigid(delta.0);
            self.motion_known = true;
        }
    }

    /// One sweep (sensor frame). Non-finite points are skipped and counted.
    pub fn on_cloud(
        &mut self,
        cloud: &PointCloud,
    ) -> Result<LidarOdometryEstimate, LidarOdometryError> {
        let stamp = cloud.stamp;
        if !cloud.is_consistent() {
            self.counters.frames_rejected += 1;
            return Err(LidarOdometryError::InconsistentCloud { stamp });
        }
        if let Some(prev) = self.last_stamp.filter(|&p| stamp < p) {
            self.counters.frames_rejected += 1;
            return Err(LidarOdometryError::OutOfOrder {
                stamp,
                previous: prev,
            });
        }
        let p = &self.params;
        let (r2_min, r2_max) = (p.min_range * p.min_range, p.max_range * p.max_range);
        self.frame.clear();
        let mut skipped = 0u64;
        // Deskew to the middle of the sweep under the constant-velocity motion.
        let times = cloud
            .time
            .as_ref()
            .filter(|_| p.deskew && self.last_stamp.is_some());
        let mut motion_cache: Option<(f32, Isometry3<f64>)> = None;
        for i in 0..cloud.len() {
            let (x, y, z) = (cloud.x[i], cloud.y[i], cloud.z[i]);
            if !(x.is_finite() && y.is_finite() && z.is_finite()) {
                skipped += 1;
                continue;
            }
            let mut v = Vector3::new(f64::from(x), f64::from(y), f64::from(z));
            let d2 = v.norm_squared();
            if d2 < r2_min || d2 > r2_max {
                continue;
            }
            if let Some(t) = times.map(|t| t[i]) {
                if !t.is_finite() {
                    skipped += 1;
                    continue;
                }
                let m = match motion_cache {
                    Some((tc, m)) if tc == t => m,
                    _ => {
                        let s = f64::from(t) / p.scan_period - 0.5;
                        let m = scale_motion(&self.delta, s);
                        motion_cache = Some((t, m));
                        m
                    }
                };
                v = (m * nalgebra::Point3::from(v)).coords;
            }
            self.frame.push(v);
        }
        if self.frame.len() < p.min_points {
            self.counters.frames_rejected += 1;
            self.counters.points_skipped += skipped;
            return Err(LidarOdometryError::TooFewPoints {
                stamp,
                valid: self.frame.len(),
                needed: p.min_points,
            });
        }
        self.counters.points_skipped += skipped;
        voxel_downsample(
            &self.frame,
            0.5 * p.voxel_size,
            &mut self.fine,
            &mut self.seen,
        );
        voxel_downsample(
            &self.fine,
            1.5 * p.voxel_size,
            &mut self.source,
            &mut self.seen,
        );

        if !self.motion_known && !self.map.is_empty() && p.startup_ground_clearance > 0.0 {
            drop_lowest(&mut self.source, p.startup_ground_clearance);
        }
        let sigma = self.threshold.sigma();
        let prediction = rigid(self.pose * self.delta);
        let (new_pose, iterations, correspondences) = if self.map.is_empty() {
            (prediction, 0, 0)
        } else {
            let r = register(
                &self.source,
                &self.map,
                &prediction,
                &IcpConfig {
                    max_distance: 3.0 * sigma,
                    kernel: sigma / 3.0,
                    max_iterations: p.max_iterations,
                    convergence: p.convergence,
                },
                &mut self.moved,
            );
            if (r.correspondences as f64) < p.min_match_ratio * self.source.len() as f64 {
                self.counters.frames_rejected += 1;
                return Err(LidarOdometryError::RegistrationFailed {
                    stamp,
                    correspondences: r.correspondences,
                    points: self.source.len(),
                });
            }
            (r.pose, r.iterations, r.correspondences)
        };
        self.threshold.update(&prediction.inv_mul(&new_pose));
        let new_pose = rigid(new_pose);
        let delta = rigid(self.pose.inv_mul(&new_pose));
        if self.last_stamp.is_some() {
            self.delta = delta;
            self.motion_known = true;
        }
        self.pose = new_pose;
        self.last_stamp = Some(stamp);
        self.map.add(
            self.fine
                .iter()
                .map(|v| (new_pose * nalgebra::Point3::from(*v)).coords),
        );
        self.map
            .remove_far(&new_pose.translation.vector, self.params.max_range);
        self.counters.frames += 1;
        Ok(LidarOdometryEstimate {
            stamp,
            pose: Pose3(new_pose),
            delta: Pose3(delta),
            iterations,
            correspondences,
            source_points: self.source.len(),
            threshold: 3.0 * sigma,
        })
    }
}

#[cfg(test)]
mod tests;
