//! What the controllers see: the path with its driving directions, the map's collision grid and
//! obstacle points, and the check of the path ahead.

use crate::hybrid::{CollisionGrid, Footprint};
use courier_core::Pose2;
use serde::{Deserialize, Serialize};

/// Velocity and acceleration limits (SI units).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Forward speed limit (m/s, default 0.8).
    pub max_speed: f64,
    /// Backward speed limit (m/s, default 0.3).
    pub max_reverse_speed: f64,
    /// Yaw rate limit (rad/s, default 1.5).
    pub max_yaw_rate: f64,
    /// Speed-up limit (m/s², default 0.8).
    pub max_accel: f64,
    /// Braking limit (m/s², default 1.5).
    pub max_decel: f64,
    /// Yaw acceleration limit (rad/s², default 3.0).
    pub max_yaw_accel: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_speed: 0.8,
            max_reverse_speed: 0.3,
            max_yaw_rate: 1.5,
            max_accel: 0.8,
            max_decel: 1.5,
            max_yaw_accel: 3.0,
        }
    }
}

/// A path to follow: map-frame poses (x, y, θ) and the direction driven to reach each.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowPath {
    pub poses: Vec<[f64; 3]>,
    pub forward: Vec<bool>,
    /// Arc length (m) from the start to each pose.
    pub s: Vec<f64>,
}

impl FollowPath {
    pub fn new(poses: &[Pose2], forward: Option<&[bool]>) -> Self {
        let poses: Vec<[f64; 3]> = poses.iter().map(|p| [p.x(), p.y(), p.theta()]).collect();
        let forward = match forward {
            Some(f) if f.len() == poses.len() => f.to_vec(),
            _ => vec![true; poses.len()],
        };
        let mut s = vec![0.0; poses.len()];
        for i in 1..poses.len() {
            s[i] = s[i - 1] + (poses[i][0] - poses[i - 1][0]).hypot(poses[i][1] - poses[i - 1][1]);
        }
        Self { poses, forward, s }
    }

    /// Index of the pose closest to (x, y) among `from..from + window`.
    pub fn closest(&self, x: f64, y: f64, from: usize, window: usize) -> usize {
        let end = (from + window).min(self.poses.len());
        (from.min(end.saturating_sub(1))..end)
            .min_by(|&a, &b| {
                let da = (self.poses[a][0] - x).hypot(self.poses[a][1] - y);
                let db = (self.poses[b][0] - x).hypot(self.poses[b][1] - y);
                da.total_cmp(&db)
            })
            .unwrap_or(0)
    }

    /// Advances `progress` to the pose closest to the robot and says what to do: follow the
    /// current stretch, or stop at its end (a cusp, passed once `speed` is near zero, or the
    /// goal, within `goal_tolerance`). Both controllers share this bookkeeping.
    pub fn track(
        &self,
        pose: [f64; 3],
        progress: &mut usize,
        speed: f64,
        goal_tolerance: f64,
    ) -> Tracking {
        let n = self.poses.len();
        let i = self.closest(pose[0], pose[1], *progress, 80);
        *progress = i;
        let seg_end = self.segment_end(i);
        let end = self.poses[seg_end];
        let dist_end = (end[0] - pose[0]).hypot(end[1] - pose[1]);
        if dist_end < goal_tolerance {
            let done = seg_end >= n - 1;
            if !done && speed.abs() < 0.05 {
                *progress = seg_end + 1;
            }
            return Tracking::Stop { done };
        }
        Tracking::Follow {
            i,
            seg_end,
            forward: self.forward[(i + 1).min(n - 1)],
            end,
            dist_end,
        }
    }

    /// The last index of the stretch driven in one direction that contains `i` (the next cusp
    /// or the path end).
    pub fn segment_end(&self, i: usize) -> usize {
        let n = self.poses.len();
        let dir = self.forward[(i + 1).min(n - 1)];
        let mut j = i + 1;
        while j < n && self.forward[j] == dir {
            j += 1;
        }
        (j - 1).max(i).min(n - 1)
    }
}

/// Where a controller stands on its path this cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tracking {
    /// Follow the stretch `i..=seg_end`, driven forward or backward; `end` is its last pose
    /// and `dist_end` the robot's distance to it.
    Follow {
        i: usize,
        seg_end: usize,
        forward: bool,
        end: [f64; 3],
        dist_end: f64,
    },
    /// Stop here: at the path end (`done`) or at a cusp, where the next stretch starts once the
    /// robot has stopped.
    Stop { done: bool },
}

/// Obstacles known to the controller: the map's collision grid and obstacle points.
#[derive(Debug, Clone, Default)]
pub struct World<'a> {
    pub grid: Option<&'a CollisionGrid>,
    pub points: &'a [[f64; 2]],
}

impl World<'_> {
    /// Whether the footprint at map-frame pose `p` is free of the grid and the points.
    pub fn pose_free(&self, fp: &Footprint, p: [f64; 3]) -> bool {
        if let Some(g) = self.grid {
            let l = g.to_local(&Pose2::new(p[0], p[1], p[2]));
            if !fp.is_free(g, l) {
                return false;
            }
        }
        let (s, c) = p[2].sin_cos();
        let r = fp.circumscribed;
        self.points.iter().all(|q| {
            let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
            if dx.abs() > r || dy.abs() > r {
                return true;
            }
            !fp.contains_body_point(c * dx + s * dy, -s * dx + c * dy, 0.0)
        })
    }

    /// Clearance (m) from map-frame point (x, y) to the nearest grid obstacle or point.
    pub fn clearance(&self, x: f64, y: f64) -> f64 {
        let mut d = f64::INFINITY;
        if let Some(g) = self.grid {
            let l = g.to_local(&Pose2::new(x, y, 0.0));
            d = g.distance_at(l[0], l[1]);
        }
        for q in self.points {
            d = d.min((q[0] - x).hypot(q[1] - y));
        }
        d
    }

    /// Free distance (m) along the path from index `i` (starting at the robot's pose) to the
    /// first pose whose footprint collides, looking at most `lookahead` metres ahead.
    pub fn free_distance(
        &self,
        fp: &Footprint,
        path: &FollowPath,
        robot: [f64; 3],
        i: usize,
        lookahead: f64,
    ) -> f64 {
        if !self.pose_free(fp, robot) {
            return 0.0;
        }
        let s0 = path.s[i];
        for j in i..path.poses.len() {
            let ds = path.s[j] - s0;
            if ds > lookahead {
                break;
            }
            if !self.pose_free(fp, path.poses[j]) {
                return ds;
            }
        }
        f64::INFINITY
    }

    /// Free distance (m) along the constant-curvature arc the robot drives from `robot`
    /// (forward when `forward`, else backward; yaw changes by `curvature` per metre driven) to
    /// the first colliding pose, looking at most `lookahead` metres ahead. A car-like robot
    /// cannot follow a tight path corner exactly, so the arc it does drive is checked too.
    pub fn arc_free_distance(
        &self,
        fp: &Footprint,
        robot: [f64; 3],
        forward: bool,
        curvature: f64,
        lookahead: f64,
    ) -> f64 {
        const STEP: f64 = 0.1;
        let sign = if forward { 1.0 } else { -1.0 };
        let mut s = 0.0;
        while s <= lookahead {
            if !self.pose_free(fp, arc_pose(robot, sign * s, curvature)) {
                return s;
            }
            s += STEP;
        }
        f64::INFINITY
    }
}

/// The pose after driving `d` metres (negative: backward) from `p` with constant curvature `k`.
fn arc_pose(p: [f64; 3], d: f64, k: f64) -> [f64; 3] {
    let th = p[2] + k * d;
    if (k * d).abs() < 1e-9 {
        return [p[0] + d * p[2].cos(), p[1] + d * p[2].sin(), th];
    }
    [
        p[0] + (th.sin() - p[2].sin()) / k,
        p[1] - (th.cos() - p[2].cos()) / k,
        th,
    ]
}

#[cfg(test)]
mod arc_tests {
    use super::arc_pose;

    #[test]
    fn arc_pose_follows_a_circle() {
        // A quarter circle of radius 2 to the left from the origin facing +x ends at (2, 2).
        let p = arc_pose([0.0, 0.0, 0.0], std::f64::consts::PI, 0.5);
        assert!(
            (p[0] - 2.0).abs() < 1e-9 && (p[1] - 2.0).abs() < 1e-9,
            "{p:?}"
        );
        assert!((p[2] - std::f64::consts::FRAC_PI_2).abs() < 1e-9);
        // Backward on a straight line.
        let q = arc_pose([1.0, 1.0, 0.0], -2.0, 0.0);
        assert!((q[0] + 1.0).abs() < 1e-12 && (q[1] - 1.0).abs() < 1e-12);
    }
}
