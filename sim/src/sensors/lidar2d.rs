//! A planar scanning LiDAR (a Hokuyo UTM-30LX / SICK-class sensor): beams in the sensor's x–y
//! plane, counter-clockwise from `angle_min = -fov/2` (REP-103), Gaussian range noise, dropouts.
//! A scan is taken at one instant (no motion distortion within the scan).

use super::noise::Noise;
use super::scene::{SceneView, check_pose, to_parry_pose};
use crate::error::{Result, SimError};
use courier_core::Stamp;
use courier_core::geometry::Pose3;
use courier_core::msgs::LaserScan;
use parry3d::math::Vec3;
use serde::{Deserialize, Serialize};

/// Most beams a scan may have (0.01° over 360°), to bound memory on a typo.
const MAX_BEAMS: usize = 36_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lidar2dParams {
    /// Field of view (degrees), centred on the sensor's x axis. Default 270.
    pub fov_deg: f64,
    /// Angle between beams (degrees). Default 0.25 (1081 beams over 270°).
    pub resolution_deg: f64,
    /// Closest valid range (m). Default 0.05.
    pub range_min: f64,
    /// Farthest range (m); beyond it a beam reports +∞ (REP-117). Default 30.
    pub range_max: f64,
    /// Standard deviation of the Gaussian range noise (m). Default 0.01.
    pub range_noise_std: f64,
    /// Probability that a beam returns nothing (reported as NaN, REP-117). Default 0.
    pub dropout_prob: f64,
    /// Frame of the scan. Default "laser".
    pub frame_id: String,
}

impl Default for Lidar2dParams {
    fn default() -> Self {
        Self {
            fov_deg: 270.0,
            resolution_deg: 0.25,
            range_min: 0.05,
            range_max: 30.0,
            range_noise_std: 0.01,
            dropout_prob: 0.0,
            frame_id: "laser".into(),
        }
    }
}

/// Checks the range and noise parameters shared by both LiDAR models.
pub(crate) fn check_ranges(
    what: &str,
    range_min: f64,
    range_max: f64,
    noise_std: f64,
    dropout: f64,
) -> Result<()> {
    let bad = |m: String| Err(SimError::Invalid(format!("{what}: {m}")));
    if !(range_min.is_finite()
        && range_min >= 0.0
        && range_max.is_finite()
        && range_max > range_min)
    {
        return bad(format!(
            "need 0 ≤ range_min < range_max, both finite; got {range_min}, {range_max}"
        ));
    }
    if !(noise_std.is_finite() && noise_std >= 0.0) {
        return bad(format!(
            "range_noise_std must be finite and ≥ 0, got {noise_std}"
        ));
    }
    if !(0.0..=1.0).contains(&dropout) {
        return bad(format!("dropout_prob must be in [0, 1], got {dropout}"));
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct Lidar2d {
    params: Lidar2dParams,
    angle_min: f64,
    increment: f64,
    /// (cos, sin) of each beam angle in the sensor frame.
    dirs: Vec<(f32, f32)>,
    noise: Noise,
}

impl Lidar2d {
    pub fn new(params: Lidar2dParams, seed: u64) -> Result<Self> {
        let (fov, res) = (params.fov_deg, params.resolution_deg);
        if !(fov.is_finite() && fov > 0.0 && fov <= 360.0) {
            return Err(SimError::Invalid(format!(
                "lidar2d: fov_deg must be in (0, 360], got {fov}"
            )));
        }
        if !(res.is_finite() && res > 0.0) {
            return Err(SimError::Invalid(format!(
                "lidar2d: resolution_deg must be positive, got {res}"
            )));
        }
        check_ranges(
            "lidar2d",
            params.range_min,
            params.range_max,
            params.range_noise_std,
            params.dropout_prob,
        )?;
        // Both ends are beams, except over a full circle where the last would repeat the first.
        let steps = (fov / res + 1e-9).floor();
        let beams = if fov >= 360.0 - 1e-9 {
            steps
        } else {
            steps + 1.0
        };
        if !(1.0..=MAX_BEAMS as f64).contains(&beams) {
            return Err(SimError::Invalid(format!(
                "lidar2d: {fov}° at {res}° gives {beams} beams; allowed 1..={MAX_BEAMS}"
            )));
        }
        let beams = beams as usize;
        let angle_min = -0.5 * fov.to_radians();
        let increment = res.to_radians();
        let dirs = (0..beams)
            .map(|i| {
                let (s, c) = (angle_min + i as f64 * increment).sin_cos();
                (c as f32, s as f32)
            })
            .collect();
        Ok(Self {
            params,
            angle_min,
            increment,
            dirs,
            noise: Noise::new(seed),
        })
    }

    pub fn params(&self) -> &Lidar2dParams {
        &self.params
    }
    pub fn beams(&self) -> usize {
        self.dirs.len()
    }

    /// One scan from `sensor_pose` (the sensor frame in the world) at `stamp`. Beams that hit
    /// nothing within `range_max` read +∞; dropped beams read NaN. Intensities are the
    /// reflectivity of what each beam hit (0 for no return).
    pub fn scan(
        &mut self,
        view: &SceneView,
        sensor_pose: &Pose3,
        stamp: Stamp,
    ) -> Result<LaserScan> {
        check_pose(sensor_pose, "lidar2d")?;
        let pose = to_parry_pose(sensor_pose);
        let (ex, ey) = (pose.rotation * Vec3::X, pose.rotation * Vec3::Y);
        let p = &self.params;
        let (rmax, sigma) = (p.range_max as f32, p.range_noise_std);
        let mut ranges = Vec::with_capacity(self.dirs.len());
        let mut intensities = Vec::with_capacity(self.dirs.len());
        for &(c, s) in &self.dirs {
            let d = ex * c + ey * s;
            let (r, i) = match view.cast(pose.translation, d, rmax) {
                Some(h) => {
                    let r = h.range
                        + if sigma > 0.0 {
                            (sigma * self.noise.normal()) as f32
                        } else {
                            0.0
                        };
                    // Noise must not push a return past the far limit or below zero.
                    (r.clamp(0.0, rmax), h.reflectivity)
                }
                None => (f32::INFINITY, 0.0),
            };
            if self.noise.chance(p.dropout_prob) {
                ranges.push(f32::NAN);
                intensities.push(0.0);
            } else {
                ranges.push(r);
                intensities.push(i);
            }
        }
        Ok(LaserScan {
            stamp,
            frame_id: p.frame_id.clone(),
            angle_min: self.angle_min as f32,
            angle_increment: self.increment as f32,
            range_min: p.range_min as f32,
            range_max: p.range_max as f32,
            ranges,
            intensities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensors::scene::{Scene3d, SceneObject};

    /// A closed 10 m × 6 m room (walls 0.2 m thick, inner faces at x = ±5, y = ±3), 2 m high.
    fn room() -> Scene3d {
        let w = |c: [f64; 2], s: [f64; 2]| {
            SceneObject::cuboid([c[0], c[1], 1.0], [s[0], s[1], 2.0], 0.0)
        };
        Scene3d::new(
            None,
            vec![
                w([5.1, 0.0], [0.2, 6.4]),
                w([-5.1, 0.0], [0.2, 6.4]),
                w([0.0, 3.1], [10.4, 0.2]),
                w([0.0, -3.1], [10.4, 0.2]),
            ],
        )
        .unwrap()
    }

    fn quiet() -> Lidar2dParams {
        Lidar2dParams {
            range_noise_std: 0.0,
            ..Default::default()
        }
    }

    #[test]
    fn box_room_gives_analytic_ranges() {
        let scene = room();
        let mut lidar = Lidar2d::new(quiet(), 1).unwrap();
        assert_eq!(lidar.beams(), 1081);
        // At (1, 0.5), turned 30°, 1 m up.
        let (x0, y0, th) = (1.0f64, 0.5f64, 30f64.to_radians());
        let pose = Pose3::from_xyz_rpy(x0, y0, 1.0, 0.0, 0.0, th);
        let scan = lidar.scan(&scene.alone(), &pose, Stamp(5)).unwrap();
        assert_eq!(scan.ranges.len(), 1081);
        assert!((scan.angle_min + 135f32.to_radians()).abs() < 1e-6);
        assert_eq!(scan.stamp, Stamp(5));
        for i in 0..scan.ranges.len() {
            let a = th + scan.angle(i) as f64;
            let (s, c) = a.sin_cos();
            // Distance to the walls x = ±5 and y = ±3 along (c, s).
            let tx = if c > 1e-12 {
                (5.0 - x0) / c
            } else if c < -1e-12 {
                (-5.0 - x0) / c
            } else {
                f64::INFINITY
            };
            let ty = if s > 1e-12 {
                (3.0 - y0) / s
            } else if s < -1e-12 {
                (-3.0 - y0) / s
            } else {
                f64::INFINITY
            };
            let want = tx.min(ty);
            assert!(
                (scan.ranges[i] as f64 - want).abs() < 2e-4,
                "beam {i}: {} vs {want}",
                scan.ranges[i]
            );
        }
    }

    #[test]
    fn noise_is_seeded_and_dropouts_are_nan() {
        let scene = room();
        let pose = Pose3::from_xyz_rpy(0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
        let p = Lidar2dParams {
            range_noise_std: 0.02,
            dropout_prob: 0.1,
            ..Default::default()
        };
        let scan = |seed| {
            Lidar2d::new(p.clone(), seed)
                .unwrap()
                .scan(&scene.alone(), &pose, Stamp(0))
                .unwrap()
        };
        let (a, b, c) = (scan(9), scan(9), scan(10));
        let bits = |s: &LaserScan| s.ranges.iter().map(|r| r.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b));
        assert_ne!(bits(&a), bits(&c));
        let nan = a.ranges.iter().filter(|r| r.is_nan()).count();
        assert!(
            (60..=160).contains(&nan),
            "{nan} dropouts of 1081 at p = 0.1"
        );
        // The noise has about the configured spread: compare with a quiet scan.
        let clean = Lidar2d::new(quiet(), 0)
            .unwrap()
            .scan(&scene.alone(), &pose, Stamp(0))
            .unwrap();
        let d: Vec<f64> = a
            .ranges
            .iter()
            .zip(&clean.ranges)
            .filter(|(r, _)| r.is_finite())
            .map(|(r, q)| (r - q) as f64)
            .collect();
        let sd = (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
        assert!((sd - 0.02).abs() < 0.003, "noise sd {sd}");
    }

    #[test]
    fn open_space_reads_infinity() {
        let scene = Scene3d::new(None, vec![]).unwrap();
        let mut lidar = Lidar2d::new(quiet(), 1).unwrap();
        let scan = lidar
            .scan(&scene.alone(), &Pose3::default(), Stamp(0))
            .unwrap();
        assert!(scan.ranges.iter().all(|r| *r == f32::INFINITY));
        assert_eq!(scan.points().count(), 0);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let cases = [
            Lidar2dParams {
                resolution_deg: 0.0,
                ..Default::default()
            },
            Lidar2dParams {
                resolution_deg: f64::NAN,
                ..Default::default()
            },
            Lidar2dParams {
                fov_deg: 0.0,
                ..Default::default()
            },
            Lidar2dParams {
                fov_deg: 400.0,
                ..Default::default()
            },
            Lidar2dParams {
                resolution_deg: 1e-6,
                ..Default::default()
            },
            Lidar2dParams {
                range_max: f64::NAN,
                ..Default::default()
            },
            Lidar2dParams {
                range_min: 40.0,
                ..Default::default()
            },
            Lidar2dParams {
                range_noise_std: -1.0,
                ..Default::default()
            },
            Lidar2dParams {
                dropout_prob: 1.5,
                ..Default::default()
            },
        ];
        for (k, p) in cases.into_iter().enumerate() {
            assert!(Lidar2d::new(p, 0).is_err(), "case {k}");
        }
        let full = Lidar2d::new(
            Lidar2dParams {
                fov_deg: 360.0,
                resolution_deg: 1.0,
                ..Default::default()
            },
            0,
        )
        .unwrap();
        assert_eq!(full.beams(), 360);
        let scene = room();
        let mut lidar = Lidar2d::new(quiet(), 0).unwrap();
        let nan_pose = Pose3::from_xyz_rpy(f64::NAN, 0.0, 1.0, 0.0, 0.0, 0.0);
        assert!(lidar.scan(&scene.alone(), &nan_pose, Stamp(0)).is_err());
    }
}
