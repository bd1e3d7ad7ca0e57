//! A synthetic 3D scene (ground plane, walls and boxes) ray-cast by an HDL-64-like pattern
//! along a curving drive, with ground-truth sensor poses.

use super::gaussian;
use courier_core::geometry::Pose3;
use courier_core::msgs::PointCloud;
use courier_core::time::Stamp;
use nalgebra::{Isometry3, Point3, Translation3, UnitQuaternion, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An axis-aligned box, [min, max] corners (m).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aabb {
    pub min: Vector3<f64>,
    pub max: Vector3<f64>,
}

/// Ground plus boxes. The ground is the plane z = 0, or, with `undulation` > 0, a smooth
/// terrain of that amplitude (m) over wavelengths of tens of metres: real roads are not flat,
/// and a perfectly flat ground scanned by the same fixed rings from every position is an
/// unrealistically strong attractor for point-to-point ICP.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub boxes: Vec<Aabb>,
    pub undulation: f64,
}

impl Scene {
    /// Ground height at (x, y).
    pub fn ground_height(&self, x: f64, y: f64) -> f64 {
        if self.undulation == 0.0 {
            return 0.0;
        }
        self.undulation
            * (0.6 * (x / 9.0).sin() * (y / 13.0).cos() + 0.4 * ((x + 0.7 * y) / 23.0).sin())
    }

    fn ground_hit(&self, o: &Vector3<f64>, d: &Vector3<f64>, max: f64) -> Option<f64> {
        if d.z > -1e-9 {
            return None;
        }
        if self.undulation == 0.0 {
            let t = -o.z / d.z;
            return (t > 0.0 && t < max).then_some(t);
        }
        // March through the band the terrain occupies, then bisect the crossing.
        let a = self.undulation;
        let t_start = ((o.z - a) / -d.z).max(0.0);
        let t_end = ((o.z + a) / -d.z).min(max);
        let above = |t: f64| {
            let p = o + d * t;
            p.z - self.ground_height(p.x, p.y)
        };
        let step = 0.25;
        let mut t0 = t_start;
        while t0 < t_end {
            let t1 = (t0 + step).min(t_end);
            if above(t1) <= 0.0 {
                let (mut lo, mut hi) = (t0, t1);
                for _ in 0..12 {
                    let mid = 0.5 * (lo + hi);
                    if above(mid) > 0.0 {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                return Some(0.5 * (lo + hi));
            }
            t0 = t1;
        }
        None
    }

    /// Distance along the unit ray `d` from `o` to the first surface, if within `max`.
    pub fn cast(&self, o: &Vector3<f64>, d: &Vector3<f64>, max: f64) -> Option<f64> {
        let mut best = max;
        let mut hit = false;
        if let Some(t) = self.ground_hit(o, d, max) {
            best = t;
            hit = true;
        }
        for b in &self.boxes {
            let (mut t0, mut t1) = (0.0f64, best);
            let mut ok = true;
            for k in 0..3 {
                let inv = 1.0 / d[k];
                let (mut ta, mut tb) = ((b.min[k] - o[k]) * inv, (b.max[k] - o[k]) * inv);
                if ta > tb {
                    std::mem::swap(&mut ta, &mut tb);
                }
                t0 = t0.max(ta);
                t1 = t1.min(tb);
                if t0 > t1 {
                    ok = false;
                    break;
                }
            }
            if ok && t0 > 0.0 && t0 < best {
                best = t0;
                hit = true;
            }
        }
        hit.then_some(best)
    }
}

/// The scan pattern: HDL-64E-like, 64 beams from +2° to -24.9°, `azimuth_step` degrees apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanPattern {
    pub azimuth_step_deg: f64,
    pub max_range: f64,
    pub range_noise: f64,
}

impl Default for ScanPattern {
    fn default() -> Self {
        Self {
            azimuth_step_deg: 0.2,
            max_range: 120.0,
            range_noise: 0.02,
        }
    }
}

/// Casts one sweep from `sensor` (an instantaneous sweep: no motion during it).
pub fn scan(
    scene: &Scene,
    sensor: &Isometry3<f64>,
    pattern: &ScanPattern,
    stamp: Stamp,
    rng: &mut ChaCha8Rng,
) -> PointCloud {
    let n_az = (360.0 / pattern.azimuth_step_deg).round() as usize;
    let mut cloud = PointCloud::with_capacity(n_az * 64);
    cloud.stamp = stamp;
    cloud.frame_id = "velodyne".into();
    let o = sensor.translation.vector;
    for b in 0..64 {
        let el = (2.0 - 26.9 * b as f64 / 63.0).to_radians();
        for a in 0..n_az {
            let az = (a as f64 * pattern.azimuth_step_deg).to_radians();
            let local = Vector3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
            let d = sensor.rotation * local;
            if let Some(r) = scene.cast(&o, &d, pattern.max_range) {
                let r = r + gaussian(rng) * pattern.range_noise;
                let p = local * r;
                cloud.push(p.x as f32, p.y as f32, p.z as f32, 0.5);
            }
        }
    }
    cloud
}

/// Casts one sweep while the sensor moves by `motion` (sensor frame, start → end) during the
/// `period`-second sweep: each azimuth column is cast from the pose at its time, and the points
/// are given in the sensor frame of that instant with their time offsets (a rolling shutter, as
/// a spinning LiDAR sees it).
pub fn scan_moving(
    scene: &Scene,
    start: &Isometry3<f64>,
    motion: &Isometry3<f64>,
    period: f64,
    pattern: &ScanPattern,
    stamp: Stamp,
    rng: &mut ChaCha8Rng,
) -> PointCloud {
    let n_az = (360.0 / pattern.azimuth_step_deg).round() as usize;
    let mut cloud = PointCloud::with_capacity(n_az * 64);
    cloud.stamp = stamp;
    cloud.frame_id = "velodyne".into();
    let mut times = Vec::with_capacity(n_az * 64);
    for a in 0..n_az {
        let frac = a as f64 / n_az as f64;
        let sensor = start
            * Isometry3::from_parts(
                Translation3::from(motion.translation.vector * frac),
                UnitQuaternion::from_scaled_axis(motion.rotation.scaled_axis() * frac),
            );
        let o = sensor.translation.vector;
        let az = (a as f64 * pattern.azimuth_step_deg).to_radians();
        for b in 0..64 {
            let el = (2.0 - 26.9 * b as f64 / 63.0).to_radians();
            let local = Vector3::new(el.cos() * az.cos(), el.cos() * az.sin(), el.sin());
            let d = sensor.rotation * local;
            if let Some(r) = scene.cast(&o, &d, pattern.max_range) {
                let p = local * (r + gaussian(rng) * pattern.range_noise);
                cloud.push(p.x as f32, p.y as f32, p.z as f32, 0.5);
                times.push((frac * period) as f32);
            }
        }
    }
    cloud.time = Some(times);
    cloud
}

/// A drive through a box-filled street scene: ground-truth sensor poses and sweeps.
#[derive(Debug, Clone)]
pub struct LidarSequence {
    pub scene: Scene,
    pub poses: Vec<Pose3>,
    pub clouds: Vec<PointCloud>,
    /// Path length, m.
    pub distance: f64,
}

/// `frames` sweeps at 10 Hz, `step` metres apart on a gently curving road, sensor 1.73 m up,
/// with a slight pitch/roll sway; 150 random boxes (buildings, cars, poles) kept ≥ 4 m from
/// the road.
pub fn generate(seed: u64, frames: usize, step: f64, pattern: &ScanPattern) -> LidarSequence {
    generate_with(seed, frames, step, pattern, false, 0)
}

/// Ground undulation amplitude of the generated scenes, m.
pub const UNDULATION: f64 = 0.3;

/// As [`generate`]; with `rolling`, each sweep is cast while moving from its pose to the next
/// one ([`scan_moving`], 0.1 s sweeps), so the clouds are skewed and carry point times; the
/// truth pose of a frame is then the sensor pose at the middle of its sweep. With
/// `ramp_frames` > 0 the vehicle starts from rest and reaches `step` per frame after that many
/// frames.
pub fn generate_with(
    seed: u64,
    frames: usize,
    step: f64,
    pattern: &ScanPattern,
    rolling: bool,
    ramp_frames: usize,
) -> LidarSequence {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut poses = Vec::with_capacity(frames);
    let ground = Scene {
        boxes: Vec::new(),
        undulation: UNDULATION,
    };
    let (mut x, mut y, mut yaw) = (0.0f64, 0.0f64, 0.0f64);
    for k in 0..=frames {
        let sway = (k as f64 * 0.7).sin();
        poses.push(Pose3(Isometry3::from_parts(
            Translation3::new(x, y, 1.73 + 0.02 * sway + ground.ground_height(x, y)),
            UnitQuaternion::from_euler_angles(0.01 * sway, 0.008 * (k as f64 * 0.45).cos(), yaw),
        )));
        let w = 0.02 * (k as f64 * 0.05).sin();
        yaw += w;
        let v = if ramp_frames == 0 {
            step
        } else {
            step * ((k as f64 + 0.5) / ramp_frames as f64).min(1.0)
        };
        x += v * yaw.cos();
        y += v * yaw.sin();
    }
    let mut boxes = Vec::new();
    let span = step * frames as f64;
    while boxes.len() < 150 {
        let c = Vector3::new(
            rng.random_range(-40.0..span + 40.0),
            rng.random_range(-60.0..60.0),
            0.0,
        );
        let kind = rng.random_range(0..3);
        let half = match kind {
            0 => Vector3::new(
                rng.random_range(3.0..12.0),
                rng.random_range(3.0..12.0),
                rng.random_range(3.0..10.0),
            ),
            1 => Vector3::new(rng.random_range(1.0..2.5), rng.random_range(0.8..1.2), 0.75),
            _ => Vector3::new(0.15, 0.15, rng.random_range(2.0..4.0)),
        };
        let clear = poses.iter().all(|p| {
            let t = p.translation();
            let dx = ((t.x - c.x).abs() - half.x).max(0.0);
            let dy = ((t.y - c.y).abs() - half.y).max(0.0);
            dx.hypot(dy) > 4.0
        });
        if clear {
            boxes.push(Aabb {
                min: Vector3::new(c.x - half.x, c.y - half.y, -1.0),
                max: Vector3::new(c.x + half.x, c.y + half.y, 2.0 * half.z),
            });
        }
    }
    let scene = Scene {
        boxes,
        undulation: UNDULATION,
    };
    let clouds = (0..frames)
        .map(|k| {
            let stamp = Stamp::ZERO + k as f64 * 0.1;
            if rolling {
                let motion = poses[k].0.inv_mul(&poses[k + 1].0);
                scan_moving(&scene, &poses[k].0, &motion, 0.1, pattern, stamp, &mut rng)
            } else {
                scan(&scene, &poses[k].0, pattern, stamp, &mut rng)
            }
        })
        .collect();
    // Truth: the sweep start for instantaneous sweeps, the sweep middle for rolling ones.
    let poses: Vec<Pose3> = (0..frames)
        .map(|k| {
            if rolling {
                let m = poses[k].0.inv_mul(&poses[k + 1].0);
                Pose3(
                    poses[k].0
                        * Isometry3::from_parts(
                            Translation3::from(m.translation.vector * 0.5),
                            UnitQuaternion::from_scaled_axis(m.rotation.scaled_axis() * 0.5),
                        ),
                )
            } else {
                poses[k]
            }
        })
        .collect();
    let distance = poses
        .windows(2)
        .map(|w| (w[1].translation() - w[0].translation()).norm())
        .sum();
    LidarSequence {
        scene,
        poses,
        clouds,
        distance,
    }
}

/// Drift of an odometry run against truth: end-point translation error as a percentage of the
/// path length, mean relative (per-frame) translation and rotation errors.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct DriftReport {
    pub distance_m: f64,
    pub end_error_m: f64,
    pub end_error_percent: f64,
    pub mean_frame_translation_error_m: f64,
    pub mean_frame_rotation_error_deg: f64,
}

/// Compares estimated sensor poses (first = identity) with the truth (re-anchored at frame 0).
pub fn drift(truth: &[Pose3], estimate: &[Pose3]) -> DriftReport {
    let n = truth.len().min(estimate.len());
    let t0 = truth[0].0;
    let rel_truth: Vec<Isometry3<f64>> = truth[..n].iter().map(|p| t0.inv_mul(&p.0)).collect();
    let (mut te, mut re) = (0.0, 0.0);
    let mut distance = 0.0;
    for k in 1..n {
        let dt = rel_truth[k - 1].inv_mul(&rel_truth[k]);
        let de = estimate[k - 1].0.inv_mul(&estimate[k].0);
        let err = dt.inv_mul(&de);
        te += err.translation.vector.norm();
        re += err.rotation.angle().to_degrees();
        distance += dt.translation.vector.norm();
    }
    let end = (rel_truth[n - 1].translation.vector - estimate[n - 1].0.translation.vector).norm();
    let m = (n.max(2) - 1) as f64;
    DriftReport {
        distance_m: distance,
        end_error_m: end,
        end_error_percent: 100.0 * end / distance.max(1e-9),
        mean_frame_translation_error_m: te / m,
        mean_frame_rotation_error_deg: re / m,
    }
}

/// Moves a sensor-frame point into the world (for tests).
pub fn to_world(pose: &Pose3, p: [f32; 3]) -> Vector3<f64> {
    (pose.0 * Point3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]))).coords
}
