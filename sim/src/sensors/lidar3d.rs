//! A spinning multi-beam LiDAR with the beam patterns of real sensors, producing a
//! [`PointCloud`] in the sensor frame with ring index and per-point time for deskewing.
//!
//! The head spins clockwise seen from above, as Velodyne sensors do, one revolution per
//! `sweep_period_s`, starting behind the sensor (azimuth +180°); column `c` fires at
//! `t = c · period / columns` after the stamp with azimuth `π − c · 2π / columns`. When the sensor
//! moves during the sweep ([`Lidar3d::scan_moving`]), each column is cast from the pose
//! interpolated at its firing time, and its points are expressed in the sensor frame at that
//! time, exactly what a deskewing step must undo. Rings are numbered from the lowest beam up, as
//! the Velodyne ROS driver does. Beams with no return are left out (an unorganised cloud).

use super::lidar2d::check_ranges;
use super::noise::Noise;
use super::scene::{SceneView, check_pose, to_parry_pose};
use crate::error::{Result, SimError};
use courier_core::Stamp;
use courier_core::geometry::Pose3;
use courier_core::msgs::PointCloud;
use nalgebra::Isometry3;
use parry3d::math::Vec3;
use serde::{Deserialize, Serialize};

/// Most rays one sweep may have, to bound memory on a typo.
const MAX_RAYS: usize = 4_000_000;

/// Which beams the sensor has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BeamPattern {
    /// Velodyne VLP-16 (Puck): 16 beams from −15° to +15° in 2° steps; 0.2° azimuth steps at
    /// 10 Hz, i.e. 1800 columns.
    Vlp16,
    /// Velodyne HDL-64E (approximation): an upper block of 32 beams evenly from +2° to −8.33° and
    /// a lower block of 32 evenly from −8.83° to −24.9° (the real per-laser calibration table is
    /// slightly irregular); 2083 columns (0.1728° at 10 Hz).
    Hdl64e,
    /// Any other sensor: beam elevations (degrees, any order) and columns per revolution.
    Custom {
        elevations_deg: Vec<f64>,
        columns: u32,
    },
}

impl BeamPattern {
    /// Elevations (degrees, ascending = ring order) and columns per revolution.
    pub fn beams(&self) -> (Vec<f64>, u32) {
        match self {
            BeamPattern::Vlp16 => ((0..16).map(|i| -15.0 + 2.0 * i as f64).collect(), 1800),
            BeamPattern::Hdl64e => {
                let upper = (0..32).map(|i| 2.0 - i as f64 * (10.33 / 31.0));
                let lower = (0..32).map(|i| -8.83 - i as f64 * ((24.9 - 8.83) / 31.0));
                let mut e: Vec<f64> = upper.chain(lower).collect();
                e.sort_by(f64::total_cmp);
                (e, 2083)
            }
            BeamPattern::Custom {
                elevations_deg,
                columns,
            } => {
                let mut e = elevations_deg.clone();
                e.sort_by(f64::total_cmp);
                (e, *columns)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lidar3dParams {
    /// The beam pattern. Default VLP-16.
    pub pattern: BeamPattern,
    /// Closest valid range (m); nearer returns are dropped. Default 0.5.
    pub range_min: f64,
    /// Farthest range (m). Default 100 (VLP-16 datasheet).
    pub range_max: f64,
    /// Standard deviation of the Gaussian range noise (m). Default 0.015 (VLP-16: ±3 cm typical).
    pub range_noise_std: f64,
    /// Probability that a beam returns nothing. Default 0.
    pub dropout_prob: f64,
    /// Time of one revolution (s). Default 0.1 (10 Hz).
    pub sweep_period_s: f64,
    /// Cast only every k-th column (k ≥ 1), a cheaper sensor for large fleets. Default 1.
    pub azimuth_decimation: u32,
    /// Frame of the cloud. Default "velodyne".
    pub frame_id: String,
}

impl Default for Lidar3dParams {
    fn default() -> Self {
        Self {
            pattern: BeamPattern::Vlp16,
            range_min: 0.5,
            range_max: 100.0,
            range_noise_std: 0.015,
            dropout_prob: 0.0,
            sweep_period_s: 0.1,
            azimuth_decimation: 1,
            frame_id: "velodyne".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Lidar3d {
    params: Lidar3dParams,
    /// (cos, sin) of each ring's elevation, ring order.
    rings: Vec<(f32, f32)>,
    /// (cos, sin) of each cast column's azimuth, firing order.
    columns: Vec<(f32, f32)>,
    /// Firing time of each cast column after the stamp (s).
    times: Vec<f32>,
    noise: Noise,
}

impl Lidar3d {
    pub fn new(params: Lidar3dParams, seed: u64) -> Result<Self> {
        check_ranges(
            "lidar3d",
            params.range_min,
            params.range_max,
            params.range_noise_std,
            params.dropout_prob,
        )?;
        let bad = |m: String| Err(SimError::Invalid(format!("lidar3d: {m}")));
        let (elev, cols) = params.pattern.beams();
        if elev.is_empty() || elev.len() > u16::MAX as usize {
            return bad(format!("need 1..=65535 beams, got {}", elev.len()));
        }
        if let Some(e) = elev.iter().find(|e| !(e.is_finite() && e.abs() <= 90.0)) {
            return bad(format!("beam elevations must be in [-90°, 90°], got {e}"));
        }
        let k = params.azimuth_decimation;
        if cols == 0 || k == 0 || k > cols {
            return bad(format!(
                "need columns ≥ 1 and 1 ≤ azimuth_decimation ≤ columns; got {cols} columns, \
                 decimation {k}"
            ));
        }
        let period = params.sweep_period_s;
        if !(period.is_finite() && period > 0.0) {
            return bad(format!("sweep_period_s must be positive, got {period}"));
        }
        let n_cols = cols.div_ceil(k) as usize;
        if n_cols * elev.len() > MAX_RAYS {
            return bad(format!(
                "{n_cols} columns × {} beams exceeds {MAX_RAYS} rays per sweep",
                elev.len()
            ));
        }
        let rings = elev
            .iter()
            .map(|e| {
                let (s, c) = e.to_radians().sin_cos();
                (c as f32, s as f32)
            })
            .collect();
        let step = std::f64::consts::TAU / cols as f64;
        let fired: Vec<u32> = (0..cols).step_by(k as usize).collect();
        let columns = fired
            .iter()
            .map(|&c| {
                let (s, co) = (std::f64::consts::PI - c as f64 * step).sin_cos();
                (co as f32, s as f32)
            })
            .collect();
        let times = fired
            .iter()
            .map(|&c| (c as f64 * period / cols as f64) as f32)
            .collect();
        Ok(Self {
            params,
            rings,
            columns,
            times,
            noise: Noise::new(seed),
        })
    }

    pub fn params(&self) -> &Lidar3dParams {
        &self.params
    }
    /// Rays cast per sweep (rings × cast columns).
    pub fn rays_per_sweep(&self) -> usize {
        self.rings.len() * self.columns.len()
    }
    pub fn rings(&self) -> usize {
        self.rings.len()
    }

    /// One sweep from a sensor standing still at `pose` (the sensor frame in the world).
    pub fn scan(&mut self, view: &SceneView, pose: &Pose3, stamp: Stamp) -> Result<PointCloud> {
        let mut out = PointCloud::default();
        self.scan_into(view, pose, pose, stamp, &mut out)?;
        Ok(out)
    }

    /// One sweep while the sensor moves from `start` (at `stamp`) to `end` (one period later).
    pub fn scan_moving(
        &mut self,
        view: &SceneView,
        start: &Pose3,
        end: &Pose3,
        stamp: Stamp,
    ) -> Result<PointCloud> {
        let mut out = PointCloud::default();
        self.scan_into(view, start, end, stamp, &mut out)?;
        Ok(out)
    }

    /// As [`Self::scan_moving`], writing into `out` (cleared first; its buffers are reused).
    pub fn scan_into(
        &mut self,
        view: &SceneView,
        start: &Pose3,
        end: &Pose3,
        stamp: Stamp,
        out: &mut PointCloud,
    ) -> Result<()> {
        check_pose(start, "lidar3d")?;
        check_pose(end, "lidar3d")?;
        let moving = start != end;
        let mut pose = to_parry_pose(start);
        let p = &self.params;
        let (rmin, rmax) = (p.range_min as f32, p.range_max as f32);
        let (sigma, dropout) = (p.range_noise_std, p.dropout_prob);
        let period = p.sweep_period_s;

        out.clear();
        out.stamp = stamp;
        out.frame_id.clone_from(&p.frame_id);
        let cap = self.rays_per_sweep();
        for v in [&mut out.x, &mut out.y, &mut out.z, &mut out.intensity] {
            v.reserve(cap);
        }
        let ring = out.ring.get_or_insert_with(Vec::new);
        ring.clear();
        ring.reserve(cap);
        let time = out.time.get_or_insert_with(Vec::new);
        time.clear();
        time.reserve(cap);

        for (col, (&(ca, sa), &t)) in self.columns.iter().zip(&self.times).enumerate() {
            if moving && col > 0 {
                pose = to_parry_pose(&interpolate(start, end, t as f64 / period));
            }
            let (rotation, origin) = (pose.rotation, pose.translation);
            // A beam at elevation e is cos e · h + sin e · up, with h the column's horizontal
            // direction: two world vectors per column, six flops per beam.
            let h_local = Vec3::new(ca, sa, 0.0);
            let h = rotation * h_local;
            let up = rotation * Vec3::Z;
            for (r, &(ce, se)) in self.rings.iter().enumerate() {
                let d = h * ce + up * se;
                let Some(hit) = view.cast(origin, d, rmax) else {
                    continue;
                };
                let mut range = hit.range;
                if sigma > 0.0 {
                    range += (sigma * self.noise.normal()) as f32;
                }
                if self.noise.chance(dropout) || range < rmin || range >= rmax {
                    continue;
                }
                let q = (h_local * ce + Vec3::Z * se) * range;
                out.x.push(q.x);
                out.y.push(q.y);
                out.z.push(q.z);
                out.intensity.push(hit.reflectivity);
                ring.push(r as u16);
                time.push(t);
            }
        }
        Ok(())
    }
}

/// The pose a fraction `s` of the way from `a` to `b` (straight line, slerp on rotation).
fn interpolate(a: &Pose3, b: &Pose3, s: f64) -> Pose3 {
    let t = a.0.translation.vector.lerp(&b.0.translation.vector, s);
    let r = a.0.rotation.slerp(&b.0.rotation, s);
    Pose3(Isometry3::from_parts(t.into(), r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensors::scene::{Ground, Scene3d, SceneObject};

    fn quiet(pattern: BeamPattern) -> Lidar3dParams {
        Lidar3dParams {
            pattern,
            range_noise_std: 0.0,
            range_max: 200.0,
            ..Default::default()
        }
    }

    #[test]
    fn flat_ground_gives_ring_ranges() {
        let h = 1.8;
        let scene = Scene3d::new(Some(Ground::default()), vec![]).unwrap();
        let mut lidar = Lidar3d::new(quiet(BeamPattern::Vlp16), 0).unwrap();
        assert_eq!(lidar.rays_per_sweep(), 16 * 1800);
        let pose = Pose3::from_xyz_rpy(3.0, -2.0, h, 0.0, 0.0, 0.7);
        let cloud = lidar.scan(&scene.alone(), &pose, Stamp(100)).unwrap();
        assert!(cloud.is_consistent());
        let ring = cloud.ring.as_ref().unwrap();
        // The 8 downward rings (−15°..−1°) hit the ground in every column; upward ones never.
        assert_eq!(cloud.len(), 8 * 1800);
        for (i, &ring_i) in ring.iter().enumerate() {
            let e = (-15.0 + 2.0 * ring_i as f64).to_radians();
            assert!(e < 0.0);
            let [x, y, z] = cloud.point(i);
            let r = ((x * x + y * y + z * z) as f64).sqrt();
            let want = h / (-e).sin();
            assert!(
                (r - want).abs() < 1e-3 * want,
                "ring {ring_i}: {r} vs {want}"
            );
            assert!((z as f64 + h).abs() < 1e-3, "z {z}");
        }
        // Firing times cover one sweep.
        let t = cloud.time.as_ref().unwrap();
        assert_eq!(t[0], 0.0);
        let last = *t.last().unwrap();
        assert!((last - 0.1 * 1799.0 / 1800.0).abs() < 1e-6, "{last}");
    }

    #[test]
    fn hdl64e_pattern_and_decimation() {
        let (e, cols) = BeamPattern::Hdl64e.beams();
        assert_eq!((e.len(), cols), (64, 2083));
        assert!((e[63] - 2.0).abs() < 1e-9 && (e[0] + 24.9).abs() < 1e-9);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        let p = Lidar3dParams {
            pattern: BeamPattern::Hdl64e,
            azimuth_decimation: 4,
            ..quiet(BeamPattern::Vlp16)
        };
        let lidar = Lidar3d::new(p, 0).unwrap();
        assert_eq!(lidar.rays_per_sweep(), 64 * 521);
    }

    #[test]
    fn wall_ahead_and_point_times_follow_the_spin() {
        // A wall 10 m ahead (x = 10), 20 m wide, 10 m high; no ground.
        let scene = Scene3d::new(
            None,
            vec![SceneObject::cuboid(
                [10.5, 0.0, 0.0],
                [1.0, 20.0, 10.0],
                0.0,
            )],
        )
        .unwrap();
        let mut lidar = Lidar3d::new(quiet(BeamPattern::Vlp16), 0).unwrap();
        let cloud = lidar
            .scan(&scene.alone(), &Pose3::default(), Stamp(0))
            .unwrap();
        assert!(!cloud.is_empty());
        let t = cloud.time.as_ref().unwrap();
        for (i, &ti) in t.iter().enumerate() {
            let [x, y, _] = cloud.point(i);
            assert!((x - 10.0).abs() < 1e-3, "x {x}");
            // Clockwise from behind: straight ahead (azimuth 0) fires half a sweep in.
            let az = (y as f64).atan2(x as f64);
            let want = 0.05 - az / std::f64::consts::TAU * 0.1;
            assert!((ti as f64 - want).abs() < 1e-4, "az {az} at t {ti}");
        }
    }

    #[test]
    fn moving_sensor_sees_a_wall_from_where_it_was() {
        // Driving at 10 m/s toward a wall at x = 10: the column fired at time t sees it at
        // 10 − 10 t (in the sensor frame of that instant).
        let scene = Scene3d::new(
            None,
            vec![SceneObject::cuboid(
                [10.5, 0.0, 0.0],
                [1.0, 40.0, 10.0],
                0.0,
            )],
        )
        .unwrap();
        let mut lidar = Lidar3d::new(quiet(BeamPattern::Vlp16), 0).unwrap();
        let start = Pose3::default();
        let end = Pose3::from_xyz_rpy(1.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let cloud = lidar
            .scan_moving(&scene.alone(), &start, &end, Stamp(0))
            .unwrap();
        let t = cloud.time.as_ref().unwrap();
        assert!(cloud.len() > 1000);
        for (&x, &ti) in cloud.x.iter().zip(t) {
            let want = 10.0 - 10.0 * ti;
            assert!((x - want).abs() < 2e-3, "{x} vs {want}");
        }
    }

    #[test]
    fn same_seed_same_cloud_and_bad_params_fail() {
        let scene = Scene3d::new(
            Some(Ground::default()),
            vec![SceneObject::cylinder([4.0, 1.0], 2.0, 0.5)],
        )
        .unwrap();
        let pose = Pose3::from_xyz_rpy(0.0, 0.0, 1.0, 0.0, 0.0, 0.0);
        let p = Lidar3dParams {
            dropout_prob: 0.05,
            ..Default::default()
        };
        let run = |seed| {
            Lidar3d::new(p.clone(), seed)
                .unwrap()
                .scan(&scene.alone(), &pose, Stamp(0))
                .unwrap()
        };
        assert_eq!(run(5), run(5));
        assert_ne!(run(5).x, run(6).x);

        let bad = [
            Lidar3dParams {
                pattern: BeamPattern::Custom {
                    elevations_deg: vec![],
                    columns: 100,
                },
                ..Default::default()
            },
            Lidar3dParams {
                pattern: BeamPattern::Custom {
                    elevations_deg: vec![0.0],
                    columns: 0,
                },
                ..Default::default()
            },
            Lidar3dParams {
                pattern: BeamPattern::Custom {
                    elevations_deg: vec![f64::NAN],
                    columns: 10,
                },
                ..Default::default()
            },
            Lidar3dParams {
                azimuth_decimation: 0,
                ..Default::default()
            },
            Lidar3dParams {
                sweep_period_s: 0.0,
                ..Default::default()
            },
            Lidar3dParams {
                range_noise_std: f64::INFINITY,
                ..Default::default()
            },
            Lidar3dParams {
                range_max: -1.0,
                ..Default::default()
            },
            Lidar3dParams {
                pattern: BeamPattern::Custom {
                    elevations_deg: vec![0.0; 1000],
                    columns: 100_000,
                },
                ..Default::default()
            },
        ];
        for (k, p) in bad.into_iter().enumerate() {
            assert!(Lidar3d::new(p, 0).is_err(), "case {k}");
        }
        let mut lidar = Lidar3d::new(Lidar3dParams::default(), 0).unwrap();
        let nan = Pose3::from_xyz_rpy(0.0, f64::INFINITY, 1.0, 0.0, 0.0, 0.0);
        assert!(lidar.scan(&scene.alone(), &nan, Stamp(0)).is_err());
    }

    #[test]
    fn params_read_from_toml() {
        let p: Lidar3dParams =
            toml::from_str("pattern = \"hdl64e\"\nazimuth_decimation = 2\n").unwrap();
        assert_eq!(p.pattern, BeamPattern::Hdl64e);
        assert_eq!(p.range_max, 100.0);
        let c: Lidar3dParams =
            toml::from_str("[pattern.custom]\nelevations_deg = [-1.0, 1.0]\ncolumns = 360\n")
                .unwrap();
        assert_eq!(Lidar3d::new(c, 0).unwrap().rays_per_sweep(), 720);
    }
}
