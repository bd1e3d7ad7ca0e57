//! The voxel-hashed local map and voxel downsampling: a hash map from integer voxel coordinates
//! to a few points per voxel, which is also the nearest-neighbour structure (the voxels within
//! the search radius are visited directly, no tree to rebuild as the map moves).

use nalgebra::Vector3;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Integer voxel coordinates.
pub type VoxelKey = [i32; 3];

/// A small multiplicative hasher for voxel keys (three i32 writes); std's SipHash is several
/// times slower here and DoS resistance is irrelevant for point coordinates.
#[derive(Debug, Default, Clone, Copy)]
pub struct VoxelHasher(u64);

impl Hasher for VoxelHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_i32(&mut self, v: i32) {
        self.write_u64(v as u32 as u64);
    }
    fn write_u64(&mut self, v: u64) {
        // Rotate-xor-multiply with an odd 64-bit constant (golden-ratio derived).
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
}

pub type VoxelBuild = BuildHasherDefault<VoxelHasher>;

pub fn voxel_of(p: &Vector3<f64>, inv_size: f64) -> VoxelKey {
    [
        (p.x * inv_size).floor() as i32,
        (p.y * inv_size).floor() as i32,
        (p.z * inv_size).floor() as i32,
    ]
}

/// Keeps the first point of each voxel of side `size`, into `out` (cleared first). `seen` is
/// scratch space kept by the caller so frames reuse its allocation.
pub fn voxel_downsample(
    points: &[Vector3<f64>],
    size: f64,
    out: &mut Vec<Vector3<f64>>,
    seen: &mut HashSet<VoxelKey, VoxelBuild>,
) {
    out.clear();
    seen.clear();
    let inv = 1.0 / size;
    for p in points {
        if seen.insert(voxel_of(p, inv)) {
            out.push(*p);
        }
    }
}

/// The local map: up to `max_points` points per voxel, points far from the vehicle dropped.
#[derive(Debug, Clone)]
pub struct VoxelMap {
    size: f64,
    inv_size: f64,
    max_points: usize,
    voxels: HashMap<VoxelKey, Vec<Vector3<f64>>, VoxelBuild>,
}

impl VoxelMap {
    pub fn new(size: f64, max_points: usize) -> Self {
        Self {
            size,
            inv_size: 1.0 / size,
            max_points: max_points.max(1),
            voxels: HashMap::default(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.voxels.is_empty()
    }
    pub fn num_voxels(&self) -> usize {
        self.voxels.len()
    }
    pub fn num_points(&self) -> usize {
        self.voxels.values().map(Vec::len).sum()
    }
    pub fn clear(&mut self) {
        self.voxels.clear();
    }

    /// Adds points (already in the map frame); a full voxel ignores further points, which keeps
    /// the map's density bounded.
    pub fn add(&mut self, points: impl IntoIterator<Item = Vector3<f64>>) {
        for p in points {
            let cap = self.max_points;
            let v = self
                .voxels
                .entry(voxel_of(&p, self.inv_size))
                .or_insert_with(|| Vec::with_capacity(cap));
            if v.len() < cap {
                v.push(p);
            }
        }
    }

    /// Drops voxels whose first point is farther than `max_distance` from `origin`.
    pub fn remove_far(&mut self, origin: &Vector3<f64>, max_distance: f64) {
        let d2 = max_distance * max_distance;
        self.voxels.retain(|_, pts| {
            pts.first()
                .is_some_and(|p| (p - origin).norm_squared() < d2)
        });
    }

    /// The map point nearest to `p` within `radius` (only voxels the search sphere touches are
    /// visited, at most the 27 around `p`), with its squared distance.
    pub fn nearest(&self, p: &Vector3<f64>, radius: f64) -> Option<(Vector3<f64>, f64)> {
        let lo = voxel_of(&(p - Vector3::repeat(radius)), self.inv_size);
        let hi = voxel_of(&(p + Vector3::repeat(radius)), self.inv_size);
        let c = voxel_of(p, self.inv_size);
        let mut best: Option<(Vector3<f64>, f64)> = None;
        let mut best_d2 = radius * radius;
        for x in lo[0].max(c[0] - 1)..=hi[0].min(c[0] + 1) {
            for y in lo[1].max(c[1] - 1)..=hi[1].min(c[1] + 1) {
                for z in lo[2].max(c[2] - 1)..=hi[2].min(c[2] + 1) {
                    let Some(pts) = self.voxels.get(&[x, y, z]) else {
                        continue;
                    };
                    for q in pts {
                        let d2 = (q - p).norm_squared();
                        if d2 < best_d2 {
                            best_d2 = d2;
                            best = Some((*q, d2));
                        }
                    }
                }
            }
        }
        best
    }

    pub fn voxel_size(&self) -> f64 {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_the_closest_point_across_voxel_borders() {
        let mut m = VoxelMap::new(1.0, 5);
        m.add([
            Vector3::new(0.95, 0.0, 0.0),
            Vector3::new(1.2, 0.0, 0.0),
            Vector3::new(5.0, 5.0, 5.0),
        ]);
        let (q, d2) = m
            .nearest(&Vector3::new(1.02, 0.0, 0.0), 0.5)
            .expect("in range");
        assert_eq!(q, Vector3::new(0.95, 0.0, 0.0));
        assert!((d2 - 0.0049).abs() < 1e-9);
        assert!(m.nearest(&Vector3::new(3.0, 3.0, 3.0), 1.0).is_none());
        m.remove_far(&Vector3::zeros(), 3.0);
        assert_eq!(m.num_points(), 2);
    }

    #[test]
    fn downsample_keeps_one_point_per_voxel_and_voxels_cap_points() {
        let pts: Vec<_> = (0..100)
            .map(|i| Vector3::new(i as f64 * 0.1, 0.0, 0.0))
            .collect();
        let (mut out, mut seen) = (Vec::new(), HashSet::default());
        voxel_downsample(&pts, 1.0, &mut out, &mut seen);
        assert_eq!(out.len(), 10);
        let mut m = VoxelMap::new(1.0, 3);
        m.add(pts);
        assert_eq!((m.num_voxels(), m.num_points()), (10, 30));
    }
}
