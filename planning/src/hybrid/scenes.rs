//! Seeded test scenes for Hybrid-A*: a parking lot, an indoor corridor network and an outdoor
//! campus, each an occupancy grid with start/goal queries. Same seed, same scene.

use super::footprint::Footprint;
use super::grid::CollisionGrid;
use super::heuristic::HolonomicHeuristic;
use courier_core::maps::{FREE, OCCUPIED};
use courier_core::{OccupancyGrid, Pose2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::{FRAC_PI_2, PI};

/// The kinds of generated scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneKind {
    ParkingLot,
    Corridor,
    Campus,
}

impl SceneKind {
    pub const ALL: [SceneKind; 3] = [
        SceneKind::ParkingLot,
        SceneKind::Corridor,
        SceneKind::Campus,
    ];
    pub fn name(&self) -> &'static str {
        match self {
            SceneKind::ParkingLot => "parking-lot",
            SceneKind::Corridor => "corridor",
            SceneKind::Campus => "campus",
        }
    }
}

/// A generated map with planning queries (start, goal) in the map frame.
#[derive(Debug, Clone)]
pub struct Scene {
    pub kind: SceneKind,
    pub map: OccupancyGrid,
    pub queries: Vec<(Pose2, Pose2)>,
}

struct Painter<'a> {
    g: &'a mut OccupancyGrid,
}

impl Painter<'_> {
    /// Fills the axis-aligned rectangle [x0, x1] × [y0, y1] (metres) with `v`.
    fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, v: i8) {
        let res = self.g.resolution;
        let (w, h) = (self.g.width() as i64, self.g.height() as i64);
        let c0 = ((x0.min(x1) / res).floor() as i64).clamp(0, w);
        let c1 = ((x0.max(x1) / res).ceil() as i64).clamp(0, w);
        let r0 = ((y0.min(y1) / res).floor() as i64).clamp(0, h);
        let r1 = ((y0.max(y1) / res).ceil() as i64).clamp(0, h);
        for r in r0..r1 {
            for c in c0..c1 {
                self.g.data[[r as usize, c as usize]] = v;
            }
        }
    }
    fn disc(&mut self, cx: f64, cy: f64, rad: f64) {
        let res = self.g.resolution;
        let (w, h) = (self.g.width() as i64, self.g.height() as i64);
        let (c0, c1) = (((cx - rad) / res) as i64, ((cx + rad) / res) as i64 + 1);
        let (r0, r1) = (((cy - rad) / res) as i64, ((cy + rad) / res) as i64 + 1);
        for r in r0.max(0)..r1.min(h) {
            for c in c0.max(0)..c1.min(w) {
                let (x, y) = ((c as f64 + 0.5) * res, (r as f64 + 0.5) * res);
                if (x - cx).hypot(y - cy) <= rad {
                    self.g.data[[r as usize, c as usize]] = OCCUPIED;
                }
            }
        }
    }
    fn border(&mut self, t: f64) {
        let (w, h) = (
            self.g.width() as f64 * self.g.resolution,
            self.g.height() as f64 * self.g.resolution,
        );
        self.rect(0.0, 0.0, w, t, OCCUPIED);
        self.rect(0.0, h - t, w, h, OCCUPIED);
        self.rect(0.0, 0.0, t, h, OCCUPIED);
        self.rect(w - t, 0.0, w, h, OCCUPIED);
    }
}

/// Generates a `size × size` scene at `resolution` m/cell with `n_queries` queries whose start
/// and goal footprints are free and connected (ignoring heading).
pub fn generate(
    kind: SceneKind,
    size: usize,
    resolution: f64,
    seed: u64,
    n_queries: usize,
    footprint: &Footprint,
) -> Scene {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (kind as u64) << 32);
    let mut g = OccupancyGrid::filled(size, size, resolution, Pose2::identity(), FREE);
    let side = size as f64 * resolution;
    // Poses the query generator prefers (slots in a parking lot), else uniform samples.
    let mut slots: Vec<[f64; 3]> = Vec::new();
    {
        let mut p = Painter { g: &mut g };
        match kind {
            SceneKind::ParkingLot => {
                p.border(0.2);
                // Rows of 0.9 m wide, 1.5 m deep bays facing 3 m aisles; cars fill 70 % of bays.
                let (bay_w, bay_d, aisle) = (0.9, 1.5, 3.0);
                let mut y = 0.2 + aisle;
                while y + 2.0 * bay_d + aisle < side {
                    // A double row: bays facing down (y..y+d) and up (y+d..y+2d).
                    for half in 0..2 {
                        let y0 = y + half as f64 * bay_d;
                        let mut x = 2.5;
                        while x + bay_w < side - 2.5 {
                            if rng.random_bool(0.7) {
                                let m = 0.15;
                                p.rect(x + m, y0 + 0.1, x + bay_w - m, y0 + bay_d - 0.1, OCCUPIED);
                            } else {
                                // Empty bay: park with the origin in the bay, nose in.
                                let th = if half == 0 { -FRAC_PI_2 } else { FRAC_PI_2 };
                                let cy = if half == 0 {
                                    y0 + 0.75
                                } else {
                                    y0 + bay_d - 0.75
                                };
                                slots.push([x + bay_w / 2.0, cy, th]);
                            }
                            x += bay_w;
                        }
                    }
                    // Kerb between the two rows.
                    p.rect(
                        2.5,
                        y + bay_d - 0.03,
                        side - 2.5,
                        y + bay_d + 0.03,
                        OCCUPIED,
                    );
                    y += 2.0 * bay_d + aisle;
                }
            }
            SceneKind::Corridor => {
                p.rect(0.0, 0.0, side, side, OCCUPIED);
                // A grid of corridors 1.6–2.2 m wide, with random cross-links and clutter.
                let mut xs = Vec::new();
                let mut x = 1.5;
                while x < side - 1.5 {
                    xs.push(x);
                    x += rng.random_range(3.5..5.5);
                }
                let mut ys = Vec::new();
                let mut y = 1.5;
                while y < side - 1.5 {
                    ys.push(y);
                    y += rng.random_range(3.5..5.5);
                }
                for &y in &ys {
                    let wdt = rng.random_range(1.6..2.2);
                    p.rect(0.6, y, side - 0.6, y + wdt, FREE);
                }
                for (i, &x) in xs.iter().enumerate() {
                    let wdt = rng.random_range(1.6..2.2);
                    // Vertical corridors span a random stretch between horizontal ones.
                    let (a, b) = if i % 2 == 0 {
                        (0.6, side - 0.6)
                    } else {
                        let a = ys[rng.random_range(0..ys.len())];
                        let b = ys[rng.random_range(0..ys.len())];
                        (a.min(b), a.max(b) + 2.0)
                    };
                    p.rect(x, a, x + wdt, b, FREE);
                }
                // Clutter: small boxes against the walls.
                for _ in 0..25 {
                    let (cx, cy) = (rng.random_range(0.0..side), rng.random_range(0.0..side));
                    p.rect(
                        cx,
                        cy,
                        cx + rng.random_range(0.2..0.4),
                        cy + rng.random_range(0.2..0.4),
                        OCCUPIED,
                    );
                }
            }
            SceneKind::Campus => {
                p.border(0.2);
                // Buildings, then trees and benches in the open space.
                for _ in 0..rng.random_range(6..10) {
                    let (w, h) = (rng.random_range(1.5..4.5), rng.random_range(1.5..4.5));
                    let (x, y) = (
                        rng.random_range(0.5..side - w),
                        rng.random_range(0.5..side - h),
                    );
                    p.rect(x, y, x + w, y + h, OCCUPIED);
                }
                for _ in 0..30 {
                    let (x, y) = (rng.random_range(0.0..side), rng.random_range(0.0..side));
                    p.disc(x, y, rng.random_range(0.1..0.3));
                }
                for _ in 0..8 {
                    let (x, y) = (rng.random_range(0.0..side), rng.random_range(0.0..side));
                    if rng.random_bool(0.5) {
                        p.rect(x, y, x + 1.2, y + 0.3, OCCUPIED);
                    } else {
                        p.rect(x, y, x + 0.3, y + 1.2, OCCUPIED);
                    }
                }
            }
        }
    }
    let grid = CollisionGrid::from_occupancy(&g, 65, true)
        .expect("generated grids are valid: positive resolution and size");
    let mut queries = Vec::new();
    let free_pose = |rng: &mut ChaCha8Rng| -> Option<[f64; 3]> {
        for _ in 0..2000 {
            let p = [
                rng.random_range(0.0..side),
                rng.random_range(0.0..side),
                rng.random_range(-PI..PI),
            ];
            if grid.distance_at(p[0], p[1]) > footprint.circumscribed + 0.15
                && footprint.is_free(&grid, p)
            {
                return Some(p);
            }
        }
        None
    };
    let mut attempts = 0;
    while queries.len() < n_queries && attempts < 50 * n_queries.max(1) {
        attempts += 1;
        let Some(s) = free_pose(&mut rng) else { break };
        let goal = if !slots.is_empty() && rng.random_bool(0.7) {
            let mut q = slots[rng.random_range(0..slots.len())];
            if rng.random_bool(0.5) {
                q[2] = -q[2]; // reverse in
            }
            if !footprint.is_free(&grid, q) {
                continue;
            }
            q
        } else {
            let Some(q) = free_pose(&mut rng) else { break };
            q
        };
        if (goal[0] - s[0]).hypot(goal[1] - s[1]) < 3.0 {
            continue;
        }
        let holo = HolonomicHeuristic::compute(
            &grid,
            2,
            footprint.inscribed,
            [goal[0], goal[1]],
            0.0,
            0.0,
        );
        if !holo.at(s[0], s[1]).is_finite() {
            continue;
        }
        queries.push((
            Pose2::new(s[0], s[1], s[2]),
            Pose2::new(goal[0], goal[1], goal[2]),
        ));
    }
    Scene {
        kind,
        map: g,
        queries,
    }
}
