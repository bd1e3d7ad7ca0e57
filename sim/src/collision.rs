//! Exact collision and near-miss detection with parry3d: between AGV footprints and with racks
//! in the warehouse ([`CollisionChecker`]), between any two scene solids outdoors
//! ([`solid_gap`]). A cheap bounding test skips far pairs; parry decides for the close ones.
//! Contacts are counted as events ([`ContactLog`]): a pair that stays in contact over several
//! ticks counts once.

use crate::agv::AgvState;
use crate::sensors::Solid;
use crate::warehouse::WarehouseWorld;
use parry3d::math::{Pose, Rot3, Vec3};
use parry3d::query;
use parry3d::shape::{Cuboid, Cylinder, Shape};
use std::collections::HashSet;
use std::hash::Hash;

/// The contacts and near misses of the previous check, so each counts once when it begins.
#[derive(Debug, Clone)]
pub struct ContactLog<K> {
    touching: HashSet<K>,
    near: HashSet<K>,
}

impl<K> Default for ContactLog<K> {
    fn default() -> Self {
        Self {
            touching: HashSet::new(),
            near: HashSet::new(),
        }
    }
}

impl<K: Hash + Eq> ContactLog<K> {
    /// Replaces the current contact sets; returns the events that began now.
    pub fn update(&mut self, touching: HashSet<K>, near: HashSet<K>) -> ContactEvents {
        let events = ContactEvents {
            collisions: touching.difference(&self.touching).count(),
            near_misses: near.difference(&self.near).count(),
        };
        self.touching = touching;
        self.near = near;
        events
    }
}

/// A solid as a parry shape and pose (z up: parry's cylinders stand along y, so they are
/// turned onto z).
fn parry_solid(s: &Solid) -> (Pose, Box<dyn Shape>) {
    match s {
        Solid::Box {
            center,
            half_extents,
            yaw,
        } => (
            Pose::from_parts(
                Vec3::new(center[0] as f32, center[1] as f32, center[2] as f32),
                Rot3::from_rotation_z(*yaw as f32),
            ),
            Box::new(Cuboid::new(Vec3::new(
                half_extents[0] as f32,
                half_extents[1] as f32,
                half_extents[2] as f32,
            ))),
        ),
        Solid::Cylinder {
            center,
            z_min,
            z_max,
            radius,
        } => (
            Pose::from_parts(
                Vec3::new(
                    center[0] as f32,
                    center[1] as f32,
                    (0.5 * (z_min + z_max)) as f32,
                ),
                Rot3::from_rotation_x(std::f32::consts::FRAC_PI_2),
            ),
            Box::new(Cylinder::new(
                (0.5 * (z_max - z_min)) as f32,
                *radius as f32,
            )),
        ),
    }
}

/// Gap between two solids by parry (m; zero when touching or overlapping). An unsupported
/// shape pair would report contact, so it can never hide one.
pub fn solid_gap(a: &Solid, b: &Solid) -> f64 {
    let (pa, sa) = parry_solid(a);
    let (pb, sb) = parry_solid(b);
    query::distance(&pa, sa.as_ref(), &pb, sb.as_ref())
        .map(|d| f64::from(d.distance))
        .unwrap_or(f64::NEG_INFINITY)
}

/// A disc in the plane that covers a solid: (centre, radius), for the cheap far-pair test.
pub fn bounding_disc(s: &Solid) -> ([f64; 2], f64) {
    match s {
        Solid::Box {
            center,
            half_extents,
            ..
        } => (
            [center[0], center[1]],
            half_extents[0].hypot(half_extents[1]),
        ),
        Solid::Cylinder { center, radius, .. } => (*center, *radius),
    }
}

/// Height of the modelled bodies (m); everything stands on the floor.
const BODY_HALF_HEIGHT: f32 = 0.25;

/// Who touched whom: `Robot(i, j)` with i < j, or `Rack(i, cell)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contact {
    Robot(u32, u32),
    Rack(u32, u32),
}

/// Counts of new events in one check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContactEvents {
    pub collisions: usize,
    pub near_misses: usize,
}

#[derive(Debug)]
pub struct CollisionChecker {
    robot: Cylinder,
    rack: Cuboid,
    radius: f64,
    near_miss_m: f64,
    log: ContactLog<Contact>,
    /// Robots per cell, rebuilt each check (flat buckets, reused).
    bucket_start: Vec<u32>,
    bucket_items: Vec<u32>,
}

impl CollisionChecker {
    /// `near_miss_m`: a gap below this between two bodies (without touching) is a near miss.
    pub fn new(world: &WarehouseWorld, radius: f64, near_miss_m: f64) -> Self {
        let half = (world.cell_size_m * 0.5) as f32;
        Self {
            robot: Cylinder::new(BODY_HALF_HEIGHT, radius as f32),
            rack: Cuboid::new(Vec3::new(half, BODY_HALF_HEIGHT, half)),
            radius,
            near_miss_m,
            log: ContactLog::default(),
            bucket_start: Vec::new(),
            bucket_items: Vec::new(),
        }
    }

    /// The pose of a body standing at planar point `p`. parry's cylinders stand along y, so the
    /// world z-up frame maps planar (x, y) to parry (x, z).
    fn pose(p: [f64; 2]) -> Pose {
        Pose::from_translation(Vec3::new(p[0] as f32, BODY_HALF_HEIGHT, p[1] as f32))
    }

    /// Gap between two bodies by parry (negative or zero when touching).
    fn gap(&self, a: [f64; 2], b: [f64; 2], b_is_rack: bool) -> f64 {
        let (pa, pb) = (Self::pose(a), Self::pose(b));
        let res = if b_is_rack {
            query::distance(&pa, &self.robot, &pb, &self.rack)
        } else {
            query::distance(&pa, &self.robot, &pb, &self.robot)
        };
        // Cylinder/cuboid pairs are supported by parry's default dispatcher; keep a conservative
        // fallback so an unsupported pair can never hide a contact.
        res.map(|d| f64::from(d.distance))
            .unwrap_or(f64::NEG_INFINITY)
    }

    /// Checks all robots; returns the contacts and near misses that began at this tick.
    pub fn check(&mut self, world: &WarehouseWorld, robots: &[AgvState]) -> ContactEvents {
        let (w, h) = (world.grid.width, world.grid.height);
        let cell_of = |s: &AgvState| -> Option<usize> {
            world
                .cell_at(s.pos)
                .map(|(x, y)| y as usize * w + x as usize)
        };
        // Bucket robots by cell (counting sort).
        self.bucket_start.clear();
        self.bucket_start.resize(w * h + 1, 0);
        for s in robots {
            if let Some(c) = cell_of(s) {
                self.bucket_start[c + 1] += 1;
            }
        }
        for i in 0..w * h {
            self.bucket_start[i + 1] += self.bucket_start[i];
        }
        self.bucket_items.clear();
        self.bucket_items.resize(robots.len(), u32::MAX);
        let mut fill = self.bucket_start.clone();
        for (i, s) in robots.iter().enumerate() {
            if let Some(c) = cell_of(s) {
                self.bucket_items[fill[c] as usize] = i as u32;
                fill[c] += 1;
            }
        }
        let reach = 2.0 * self.radius + self.near_miss_m;
        let mut touching = HashSet::new();
        let mut near = HashSet::new();
        for (i, s) in robots.iter().enumerate() {
            let Some((cx, cy)) = world.cell_at(s.pos) else {
                continue;
            };
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (x, y) = (cx + dx, cy + dy);
                    if !world.grid.in_bounds(x, y) {
                        continue;
                    }
                    let c = y as usize * w + x as usize;
                    if !world.grid.passable[c] {
                        let centre = world.cell_center(c as u32);
                        let half = world.cell_size_m * 0.5;
                        let ox = ((s.pos[0] - centre[0]).abs() - half).max(0.0);
                        let oy = ((s.pos[1] - centre[1]).abs() - half).max(0.0);
                        if ox.hypot(oy) < self.radius + self.near_miss_m {
                            let g = self.gap(s.pos, centre, true);
                            let key = Contact::Rack(i as u32, c as u32);
                            if g <= 0.0 {
                                touching.insert(key);
                            } else if g < self.near_miss_m {
                                near.insert(key);
                            }
                        }
                        continue;
                    }
                    let (a, b) = (
                        self.bucket_start[c] as usize,
                        self.bucket_start[c + 1] as usize,
                    );
                    for &j in &self.bucket_items[a..b] {
                        let j = j as usize;
                        if j <= i {
                            continue;
                        }
                        let o = robots[j].pos;
                        if (o[0] - s.pos[0]).hypot(o[1] - s.pos[1]) >= reach {
                            continue;
                        }
                        let g = self.gap(s.pos, o, false);
                        let key = Contact::Robot(i as u32, j as u32);
                        if g <= 0.0 {
                            touching.insert(key);
                        } else if g < self.near_miss_m {
                            near.insert(key);
                        }
                    }
                }
            }
        }
        self.log.update(touching, near)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warehouse::LayoutParams;

    fn world() -> WarehouseWorld {
        let p = LayoutParams {
            shelf_blocks_x: 1,
            shelf_blocks_y: 1,
            shelf_length: 2,
            shelf_depth: 1,
            aisle_width: 1,
            margin: 3,
            stations: 1,
            chargers: 1,
        };
        WarehouseWorld::generate(&p, 1.0).unwrap()
    }

    #[test]
    fn counts_robot_contacts_once_and_near_misses() {
        let w = world();
        let mut c = CollisionChecker::new(&w, 0.35, 0.1);
        let a = AgvState::at([0.5, 0.5]);
        let apart = AgvState::at([1.5, 0.5]);
        assert_eq!(c.check(&w, &[a, apart]), ContactEvents::default());
        let close = AgvState::at([1.25, 0.5]); // gap 0.05
        assert_eq!(
            c.check(&w, &[a, close]),
            ContactEvents {
                collisions: 0,
                near_misses: 1
            }
        );
        let hit = AgvState::at([1.1, 0.5]); // overlap
        assert_eq!(
            c.check(&w, &[a, hit]),
            ContactEvents {
                collisions: 1,
                near_misses: 0
            }
        );
        assert_eq!(
            c.check(&w, &[a, hit]).collisions,
            0,
            "a lasting contact counts once"
        );
        c.check(&w, &[a, apart]);
        assert_eq!(
            c.check(&w, &[a, hit]).collisions,
            1,
            "a new contact counts again"
        );
    }

    #[test]
    fn solid_gaps_are_exact() {
        let car = Solid::Box {
            center: [0.0, 0.0, 0.75],
            half_extents: [2.0, 1.0, 0.75],
            yaw: 0.0,
        };
        let person = |x: f64, y: f64| Solid::Cylinder {
            center: [x, y],
            z_min: 0.0,
            z_max: 1.75,
            radius: 0.3,
        };
        assert!((solid_gap(&car, &person(3.0, 0.0)) - 0.7).abs() < 1e-4);
        assert!((solid_gap(&car, &person(0.0, 1.5)) - 0.2).abs() < 1e-4);
        assert_eq!(solid_gap(&car, &person(1.0, 0.5)), 0.0);
        // Turned 90°: the long side now spans y.
        let turned = Solid::Box {
            center: [0.0, 0.0, 0.75],
            half_extents: [2.0, 1.0, 0.75],
            yaw: std::f64::consts::FRAC_PI_2,
        };
        assert!((solid_gap(&turned, &person(0.0, 2.5)) - 0.2).abs() < 1e-4);
        // A tree crown above the roof does not touch it.
        let crown = Solid::Cylinder {
            center: [0.0, 0.0],
            z_min: 2.5,
            z_max: 6.0,
            radius: 2.0,
        };
        assert!((solid_gap(&car, &crown) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn detects_rack_contact() {
        let w = world();
        let rack = w.obstacles().next().unwrap();
        let centre = w.cell_center(rack);
        let mut c = CollisionChecker::new(&w, 0.35, 0.1);
        let beside = AgvState::at([centre[0], centre[1] + 1.0]);
        assert_eq!(c.check(&w, &[beside]).collisions, 0);
        let into = AgvState::at([centre[0], centre[1] + 0.8]);
        assert_eq!(c.check(&w, &[into]).collisions, 1);
    }
}
