//! A generated city district for delivery-vehicle scenarios and LiDAR benchmarks: square blocks
//! of buildings between streets, with parked cars, lamp poles and trees along the kerbs.

use super::scene::{Ground, Scene3d, SceneObject, Solid};
use crate::error::{Result, SimError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CampusParams {
    /// Blocks along x and y. Default 6 × 6.
    pub blocks: [u32; 2],
    /// Side of a square block (m). Default 40.
    pub block_size_m: f64,
    /// Width of the streets between blocks, kerb to kerb (m). Default 14.
    pub street_width_m: f64,
    /// Building heights are drawn uniformly from this range (m). Default 6..25.
    pub building_height_m: [f64; 2],
    /// Probability of a parked car in each kerbside slot. Default 0.5.
    pub parked_car_prob: f64,
}

impl Default for CampusParams {
    fn default() -> Self {
        Self {
            blocks: [6, 6],
            block_size_m: 40.0,
            street_width_m: 14.0,
            building_height_m: [6.0, 25.0],
            parked_car_prob: 0.5,
        }
    }
}

impl CampusParams {
    /// Distance between neighbouring street centre lines (m).
    pub fn pitch(&self) -> f64 {
        self.block_size_m + self.street_width_m
    }
    /// The centre line of street `i` (0..=blocks) along x or y: blocks start at 0, so street
    /// `i` runs at `i · pitch − street_width / 2`.
    pub fn street_center(&self, i: u32) -> f64 {
        i as f64 * self.pitch() - 0.5 * self.street_width_m
    }
}

/// Generates the district; the same parameters and seed give the same scene.
pub fn campus(p: &CampusParams, seed: u64) -> Result<Scene3d> {
    let [hmin, hmax] = p.building_height_m;
    let ok = p.blocks.iter().all(|&b| (1..=200).contains(&b))
        && p.block_size_m.is_finite()
        && p.block_size_m >= 10.0
        && p.street_width_m.is_finite()
        && p.street_width_m >= 6.0
        && hmin.is_finite()
        && hmin > 0.0
        && hmax.is_finite()
        && hmax >= hmin
        && (0.0..=1.0).contains(&p.parked_car_prob);
    if !ok {
        return Err(SimError::Invalid(format!(
            "campus: need 1..=200 blocks, block ≥ 10 m, street ≥ 6 m, 0 < min height ≤ max \
             height, car probability in [0, 1]; got {p:?}"
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut objects = Vec::new();
    let (b, pitch) = (p.block_size_m, p.pitch());
    for by in 0..p.blocks[1] {
        for bx in 0..p.blocks[0] {
            let (x0, y0) = (bx as f64 * pitch, by as f64 * pitch);
            // Four buildings per block on a 2 × 2 lot grid, 3 m back from the kerb.
            let lot = (b - 6.0) / 2.0;
            for (i, j) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let w = lot - rng.random_range(0.5..4.0);
                let d = lot - rng.random_range(0.5..4.0);
                let h = rng.random_range(hmin..=hmax);
                let cx = x0 + 3.0 + lot * (i as f64 + 0.5);
                let cy = y0 + 3.0 + lot * (j as f64 + 0.5);
                objects.push(
                    SceneObject::cuboid([cx, cy, 0.5 * h], [w, d, h], 0.0).with_reflectivity(0.35),
                );
            }
            // Kerbside furniture along the four sides: (start, direction, outward normal).
            for side in 0..4 {
                let (sx, sy, dx, dy, nx, ny) = match side {
                    0 => (x0, y0, 1.0, 0.0, 0.0, -1.0),
                    1 => (x0 + b, y0, 0.0, 1.0, 1.0, 0.0),
                    2 => (x0 + b, y0 + b, -1.0, 0.0, 0.0, 1.0),
                    _ => (x0, y0 + b, 0.0, -1.0, -1.0, 0.0),
                };
                let yaw = f64::atan2(dy, dx);
                // Parked cars in 6.5 m slots, 1.2 m into the street.
                let slots = ((b - 4.0) / 6.5).floor() as usize;
                for k in 0..slots {
                    if rng.random::<f64>() < p.parked_car_prob {
                        let s = 2.0 + 6.5 * (k as f64 + 0.5);
                        let (cx, cy) = (sx + dx * s + nx * 2.1, sy + dy * s + ny * 2.1);
                        objects.push(
                            SceneObject::cuboid([cx, cy, 0.75], [4.5, 1.8, 1.5], yaw)
                                .with_reflectivity(0.6),
                        );
                    }
                }
                // A lamp pole at each third of the side, on the pavement 0.5 m from the kerb.
                for s in [b / 3.0, 2.0 * b / 3.0] {
                    let (cx, cy) = (sx + dx * s - nx * 0.5, sy + dy * s - ny * 0.5);
                    objects.push(SceneObject::cylinder([cx, cy], 6.0, 0.12).with_reflectivity(0.7));
                }
                // Trees (trunk and crown) between the poles, sometimes.
                for s in [b / 6.0, b / 2.0, 5.0 * b / 6.0] {
                    if rng.random::<f64>() < 0.5 {
                        let (cx, cy) = (sx + dx * s - nx * 1.5, sy + dy * s - ny * 1.5);
                        objects
                            .push(SceneObject::cylinder([cx, cy], 2.5, 0.2).with_reflectivity(0.3));
                        objects.push(
                            SceneObject::new(Solid::Cylinder {
                                center: [cx, cy],
                                z_min: 2.5,
                                z_max: rng.random_range(5.0..8.0),
                                radius: rng.random_range(1.2..2.2),
                            })
                            .with_reflectivity(0.25),
                        );
                    }
                }
            }
        }
    }
    Scene3d::new(Some(Ground::default()), objects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Vector3;

    #[test]
    fn campus_is_seeded_and_streets_are_clear() {
        let p = CampusParams {
            blocks: [3, 2],
            ..Default::default()
        };
        let a = campus(&p, 1).unwrap();
        assert_eq!(a.objects(), campus(&p, 1).unwrap().objects());
        assert_ne!(a.objects(), campus(&p, 2).unwrap().objects());
        assert!(a.objects().len() > 6 * 4 + 6 * 8);
        // Along the centre line of street 1 (x = pitch − 7) at 1 m height, nothing but far
        // things: a ray straight along the street goes to the end of the district.
        let x = p.street_center(1);
        let h = a
            .alone()
            .cast_ray(
                &Vector3::new(x, -5.0, 1.0),
                &Vector3::new(0.0, 1.0, 0.0),
                500.0,
            )
            .unwrap();
        assert!(h.is_none(), "{h:?}");
        assert!(
            campus(
                &CampusParams {
                    blocks: [0, 1],
                    ..Default::default()
                },
                0
            )
            .is_err()
        );
    }
}
