//! Preprocessing of point clouds: dropping non-finite points, range and box crops, removal of
//! the ego vehicle's own returns, and voxel-grid downsampling. Outputs go into caller-owned
//! buffers that keep their capacity, so steady-state frames allocate nothing.

use courier_core::msgs::PointCloud;
use serde::{Deserialize, Serialize};

/// An axis-aligned box in the cloud's frame (m).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Aabb {
    pub min: [f32; 3],
    pub max: [f32; 3],
}

impl Aabb {
    #[inline]
    pub fn contains(&self, p: [f32; 3]) -> bool {
        (0..3).all(|k| p[k] >= self.min[k] && p[k] <= self.max[k])
    }
}

/// Crop parameters. A point is kept if it is finite, its horizontal range is within
/// `[min_range, max_range]`, it lies inside `keep_box` (when given) and outside `ego_box`
/// (when given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CropParams {
    /// Default 0 m.
    pub min_range: f32,
    /// Default 120 m.
    pub max_range: f32,
    /// Default none.
    pub keep_box: Option<Aabb>,
    /// The vehicle's own body, whose returns are removed. Default none.
    pub ego_box: Option<Aabb>,
}

impl Default for CropParams {
    fn default() -> Self {
        Self {
            min_range: 0.0,
            max_range: 120.0,
            keep_box: None,
            ego_box: None,
        }
    }
}

impl CropParams {
    /// True if the point passes every test (and is finite).
    #[inline]
    pub fn keeps(&self, p: [f32; 3]) -> bool {
        if !(p[0].is_finite() && p[1].is_finite() && p[2].is_finite()) {
            return false;
        }
        let r2 = p[0] * p[0] + p[1] * p[1];
        r2 >= self.min_range * self.min_range
            && r2 <= self.max_range * self.max_range
            && self.keep_box.is_none_or(|b| b.contains(p))
            && !self.ego_box.is_some_and(|b| b.contains(p))
    }

    /// Copies the kept points of `cloud` into `out` (cleared first; stamp, frame, intensity,
    /// ring and time carried along) and their input indices into `kept`.
    pub fn apply(
        &self,
        cloud: &PointCloud,
        out: &mut PointCloud,
        kept: &mut Vec<u32>,
    ) -> crate::Result<()> {
        crate::error::check_cloud(cloud)?;
        out.clear();
        out.stamp = cloud.stamp;
        out.frame_id.clone_from(&cloud.frame_id);
        kept.clear();
        match (&cloud.ring, &mut out.ring) {
            (Some(_), None) => out.ring = Some(Vec::new()),
            (None, Some(_)) => out.ring = None,
            _ => {}
        }
        match (&cloud.time, &mut out.time) {
            (Some(_), None) => out.time = Some(Vec::new()),
            (None, Some(_)) => out.time = None,
            _ => {}
        }
        for i in 0..cloud.len() {
            if self.keeps(cloud.point(i)) {
                out.push(cloud.x[i], cloud.y[i], cloud.z[i], cloud.intensity[i]);
                if let (Some(src), Some(dst)) = (&cloud.ring, &mut out.ring) {
                    dst.push(src[i]);
                }
                if let (Some(src), Some(dst)) = (&cloud.time, &mut out.time) {
                    dst.push(src[i]);
                }
                kept.push(i as u32);
            }
        }
        Ok(())
    }
}

/// Voxel-grid downsampling: every occupied cube of side `leaf` becomes the centroid of its
/// points. Points too far from the origin for the 21-bit voxel index (more than about
/// 10⁶ leaves) and non-finite points are dropped.
#[derive(Debug, Clone, Default)]
pub struct VoxelGrid {
    keys: Vec<(u64, u32)>,
}

const VOXEL_BIAS: i64 = 1 << 20;

/// The voxel key of a point, or `None` out of range.
#[inline]
pub(crate) fn voxel_key(p: [f32; 3], inv_leaf: f32) -> Option<u64> {
    let mut key = 0u64;
    for v in p {
        let c = (v * inv_leaf).floor();
        if !(c.is_finite() && c.abs() < (VOXEL_BIAS - 1) as f32) {
            return None;
        }
        key = (key << 21) | (c as i64 + VOXEL_BIAS) as u64;
    }
    Some(key)
}

impl VoxelGrid {
    /// Downsamples the points given by `get(i)` for `i in 0..n` into `out` (cleared first),
    /// ordered by voxel. `leaf` must be positive and finite.
    pub fn downsample(
        &mut self,
        n: usize,
        get: impl Fn(usize) -> [f32; 3],
        leaf: f32,
        out: &mut Vec<[f32; 3]>,
    ) -> crate::Result<()> {
        if !(leaf > 0.0 && leaf.is_finite()) {
            return Err(crate::PerceptionError::BadParameter {
                name: "leaf",
                value: leaf.to_string(),
                why: "voxel size must be positive and finite",
            });
        }
        out.clear();
        self.keys.clear();
        let inv = 1.0 / leaf;
        for i in 0..n {
            if let Some(k) = voxel_key(get(i), inv) {
                self.keys.push((k, i as u32));
            }
        }
        self.keys.sort_unstable_by_key(|e| e.0);
        let mut s = 0;
        while s < self.keys.len() {
            let mut e = s;
            let mut acc = [0f64; 3];
            while e < self.keys.len() && self.keys[e].0 == self.keys[s].0 {
                let p = get(self.keys[e].1 as usize);
                for k in 0..3 {
                    acc[k] += p[k] as f64;
                }
                e += 1;
            }
            let m = (e - s) as f64;
            out.push([
                (acc[0] / m) as f32,
                (acc[1] / m) as f32,
                (acc[2] / m) as f32,
            ]);
            s = e;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_drops_nan_far_and_ego_points_and_keeps_indices() {
        let mut c = PointCloud::default();
        c.push(1.0, 0.0, 0.0, 1.0); // ego
        c.push(f32::NAN, 0.0, 0.0, 2.0);
        c.push(5.0, 0.0, 0.0, 3.0);
        c.push(200.0, 0.0, 0.0, 4.0); // too far
        c.push(0.0, f32::INFINITY, 0.0, 5.0);
        c.push(-3.0, 4.0, 1.0, 6.0);
        let p = CropParams {
            ego_box: Some(Aabb {
                min: [-1.5, -1.0, -1.0],
                max: [1.5, 1.0, 1.0],
            }),
            ..CropParams::default()
        };
        let mut out = PointCloud::default();
        let mut kept = Vec::new();
        p.apply(&c, &mut out, &mut kept).unwrap();
        assert_eq!(kept, vec![2, 5]);
        assert_eq!(out.intensity, vec![3.0, 6.0]);
        assert!(out.is_consistent());
        let boxed = CropParams {
            keep_box: Some(Aabb {
                min: [0.0, -10.0, -10.0],
                max: [10.0, 10.0, 10.0],
            }),
            ..CropParams::default()
        };
        boxed.apply(&c, &mut out, &mut kept).unwrap();
        assert_eq!(kept, vec![0, 2]);
        let mut bad = c.clone();
        bad.z.pop();
        assert!(p.apply(&bad, &mut out, &mut kept).is_err());
    }

    #[test]
    fn voxel_grid_gives_centroids_per_cube() {
        let pts = [
            [0.1f32, 0.1, 0.1],
            [0.3, 0.3, 0.3],
            [1.5, 0.2, 0.2],
            [f32::NAN, 0.0, 0.0],
            [-0.2, 0.1, 0.1],
            [1.9, 0.4, 0.6],
        ];
        let mut vg = VoxelGrid::default();
        let mut out = Vec::new();
        vg.downsample(pts.len(), |i| pts[i], 1.0, &mut out).unwrap();
        assert_eq!(out.len(), 3);
        let mut sorted = out.clone();
        sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
        assert_eq!(sorted[0], [-0.2, 0.1, 0.1]);
        assert!((sorted[1][0] - 0.2).abs() < 1e-6 && (sorted[1][2] - 0.2).abs() < 1e-6);
        assert!((sorted[2][0] - 1.7).abs() < 1e-6 && (sorted[2][2] - 0.4).abs() < 1e-6);
        assert!(vg.downsample(1, |_| [0.0; 3], 0.0, &mut out).is_err());
        vg.downsample(1, |_| [1e30, 0.0, 0.0], 0.1, &mut out)
            .unwrap();
        assert!(out.is_empty());
    }
}
