//! The 2D path for AGVs: a planar LaserScan → obstacle points in the base frame (through the
//! laser's mounting pose), with the robot's own body filtered out, plus the end points of
//! free beams for clearing — the input a costmap's obstacle layer marks and clears with.

use courier_core::msgs::LaserScan;
use courier_core::{Pose2, Stamp};
use nalgebra::Point2;
use serde::{Deserialize, Serialize};

/// Parameters of [`scan_to_base`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanParams {
    /// Pose of the laser in `base_link`: x, y (m) and yaw (rad). Default (0, 0, 0).
    pub mount: [f64; 3],
    /// Returns inside this base-frame box ([min x, min y], [max x, max y]) are the robot
    /// itself and dropped. Default none.
    pub footprint: Option<[[f64; 2]; 2]>,
    /// Returns farther than this from the laser are not obstacles (m). Default 10.
    pub obstacle_range: f32,
    /// Free beams (no return, or beyond `obstacle_range`) clear up to this range (m). Default 10.
    pub raytrace_range: f32,
}

impl Default for ScanParams {
    fn default() -> Self {
        Self {
            mount: [0.0; 3],
            footprint: None,
            obstacle_range: 10.0,
            raytrace_range: 10.0,
        }
    }
}

/// Costmap input from one scan, in `base_link`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanObstacles {
    pub stamp: Stamp,
    /// The laser's position in `base_link` (where clearing rays start).
    pub origin: [f64; 2],
    /// Obstacle points to mark.
    pub hits: Vec<[f64; 2]>,
    /// End points of free beams to clear up to (hits clear up to themselves too).
    pub free: Vec<[f64; 2]>,
}

/// Converts `scan` into `out` (cleared first, capacity kept). A scan whose ranges and
/// intensities disagree in length, or with a non-finite angle, is an error.
pub fn scan_to_base(
    scan: &LaserScan,
    params: &ScanParams,
    out: &mut ScanObstacles,
) -> crate::Result<()> {
    if !(scan.angle_min.is_finite() && scan.angle_increment.is_finite()) {
        return Err(crate::PerceptionError::BadParameter {
            name: "scan angles",
            value: format!("{} + i·{}", scan.angle_min, scan.angle_increment),
            why: "must be finite",
        });
    }
    if !scan.intensities.is_empty() && scan.intensities.len() != scan.ranges.len() {
        return Err(crate::PerceptionError::LengthMismatch {
            what: "scan intensities",
            got: scan.intensities.len(),
            expected: scan.ranges.len(),
        });
    }
    let mount = Pose2::new(params.mount[0], params.mount[1], params.mount[2]);
    if !mount.is_finite() {
        return Err(crate::PerceptionError::BadParameter {
            name: "mount",
            value: format!("{:?}", params.mount),
            why: "must be finite",
        });
    }
    out.stamp = scan.stamp;
    out.origin = [params.mount[0], params.mount[1]];
    out.hits.clear();
    out.free.clear();
    let inside = |p: &Point2<f64>| {
        params
            .footprint
            .is_some_and(|[lo, hi]| p.x >= lo[0] && p.x <= hi[0] && p.y >= lo[1] && p.y <= hi[1])
    };
    for i in 0..scan.ranges.len() {
        let r = scan.ranges[i];
        let a = scan.angle(i) as f64;
        let (s, c) = a.sin_cos();
        let hit = scan.is_valid(i) && r <= params.obstacle_range;
        // No return (inf, or beyond range_max) means free space along the whole beam; NaN and
        // below-minimum readings mean nothing at all.
        let free = !hit && (r == f32::INFINITY || (r.is_finite() && r >= scan.range_min));
        if hit {
            let p = mount.transform_point(&Point2::new(r as f64 * c, r as f64 * s));
            if !inside(&p) {
                out.hits.push([p.x, p.y]);
            }
        } else if free {
            let d = params.raytrace_range.min(r.min(scan.range_max)) as f64;
            let p = mount.transform_point(&Point2::new(d * c, d * s));
            out.free.push([p.x, p.y]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_points_move_to_base_frame_through_the_mount() {
        let scan = LaserScan {
            stamp: Stamp(5),
            frame_id: "laser".into(),
            angle_min: 0.0,
            angle_increment: std::f32::consts::FRAC_PI_2,
            range_min: 0.05,
            range_max: 20.0,
            ranges: vec![2.0, f32::NAN, f32::INFINITY, 0.2],
            intensities: vec![],
        };
        // Laser 0.3 m ahead of base, turned 90° left: its x axis is base y.
        let p = ScanParams {
            mount: [0.3, 0.0, std::f64::consts::FRAC_PI_2],
            footprint: Some([[-0.6, -0.4], [0.6, 0.4]]),
            ..ScanParams::default()
        };
        let mut out = ScanObstacles::default();
        scan_to_base(&scan, &p, &mut out).unwrap();
        assert_eq!(out.stamp, Stamp(5));
        // Beam 0 (laser +x, 2 m) → base (0.3, 2.0); beam 3 (laser -y, 0.2 m) → base (0.5, 0)
        // is inside the footprint; beam 1 is NaN; beam 2 (laser -x) is free to 10 m.
        assert_eq!(out.hits.len(), 1);
        assert!((out.hits[0][0] - 0.3).abs() < 1e-6 && (out.hits[0][1] - 2.0).abs() < 1e-6);
        assert_eq!(out.free.len(), 1);
        assert!((out.free[0][0] - 0.3).abs() < 1e-6 && (out.free[0][1] + 10.0).abs() < 1e-6);
        let mut bad = scan.clone();
        bad.intensities = vec![1.0];
        assert!(scan_to_base(&bad, &p, &mut out).is_err());
    }
}
