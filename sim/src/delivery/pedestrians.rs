//! Pedestrians: each walks the pavement ring around a block, 1 m inside the kerb, and at a
//! corner sometimes crosses the street to the next block along a crosswalk at the edge of the
//! junction. A pedestrian steps onto the road only when no vehicle is near the crossing, and
//! stops when a vehicle body is right ahead; otherwise it does not yield, so vehicles must
//! perceive it and stop. All choices are seeded.

use crate::sensors::{CampusParams, SceneObject};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Pedestrian body radius and height (m).
pub const RADIUS_M: f64 = 0.3;
pub const HEIGHT_M: f64 = 1.75;
/// Distance of the pavement walking line inside the kerb (m).
const INSET_M: f64 = 1.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Standing still (placed by the scenario, e.g. in a lane to test stopping).
    Stand,
    /// Along the pavement of block `block`, at arc length `s` of its ring, in direction `dir`.
    Walk { block: [u32; 2], s: f64, dir: f64 },
    /// On a crosswalk from `from` to `to`, then on to block `block` at arc length `s`.
    Cross {
        from: [f64; 2],
        to: [f64; 2],
        done: f64,
        block: [u32; 2],
        s: f64,
        dir: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pedestrian {
    pub pos: [f64; 2],
    pub speed: f64,
    mode: Mode,
    /// Whether it is on the road now.
    pub crossing: bool,
}

/// All pedestrians with their random stream.
#[derive(Debug, Clone)]
pub struct Crowd {
    pub people: Vec<Pedestrian>,
    rng: ChaCha8Rng,
    ring: f64,
    side: f64,
    cross_prob: f64,
}

impl Crowd {
    /// `n` pedestrians on random blocks; at each corner one crosses with `cross_prob`.
    pub fn new(p: &CampusParams, n: usize, cross_prob: f64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let side = p.block_size_m - 2.0 * INSET_M;
        let ring = 4.0 * side;
        let mut c = Self {
            people: Vec::with_capacity(n),
            rng: ChaCha8Rng::seed_from_u64(0),
            ring,
            side,
            cross_prob: cross_prob.clamp(0.0, 1.0),
        };
        for _ in 0..n {
            let block = [
                rng.random_range(0..p.blocks[0]),
                rng.random_range(0..p.blocks[1]),
            ];
            let s = rng.random_range(0.0..ring);
            let dir = if rng.random::<bool>() { 1.0 } else { -1.0 };
            let speed = rng.random_range(1.0..1.6);
            let pos = c.ring_point(p, block, s);
            c.people.push(Pedestrian {
                pos,
                speed,
                mode: Mode::Walk { block, s, dir },
                crossing: false,
            });
        }
        c.rng = rng;
        c
    }

    /// Adds a pedestrian standing still at `pos`.
    pub fn add_standing(&mut self, pos: [f64; 2]) {
        self.people.push(Pedestrian {
            pos,
            speed: 0.0,
            mode: Mode::Stand,
            crossing: true,
        });
    }

    /// The point at arc length `s` of a block's pavement ring (counter-clockwise from its
    /// south-west corner).
    fn ring_point(&self, p: &CampusParams, block: [u32; 2], s: f64) -> [f64; 2] {
        let pitch = p.pitch();
        let (x0, y0) = (
            block[0] as f64 * pitch + INSET_M,
            block[1] as f64 * pitch + INSET_M,
        );
        let a = self.side;
        let s = s.rem_euclid(self.ring);
        match (s / a).floor() as u32 {
            0 => [x0 + s, y0],
            1 => [x0 + a, y0 + (s - a)],
            2 => [x0 + a - (s - 2.0 * a), y0 + a],
            _ => [x0, y0 + a - (s - 3.0 * a)],
        }
    }

    /// Advances everyone by `dt` s. `vehicles`: the vehicles' body centres and a radius that
    /// covers each body (m).
    pub fn step(&mut self, p: &CampusParams, dt: f64, vehicles: &[([f64; 2], f64)]) {
        let a = self.side;
        let pitch = p.pitch();
        for k in 0..self.people.len() {
            let person = self.people[k].clone();
            let step = person.speed * dt;
            let mode = match person.mode {
                Mode::Stand => continue,
                Mode::Walk { block, s, dir } => {
                    let next = s + dir * step;
                    // Passing a corner (multiple of the side length)?
                    let corner = if dir > 0.0 {
                        (s / a).floor() != (next / a).floor()
                    } else {
                        (s / a).ceil() != (next / a).ceil()
                    };
                    let mut mode = Mode::Walk {
                        block,
                        s: next.rem_euclid(self.ring),
                        dir,
                    };
                    if corner && self.rng.random::<f64>() < self.cross_prob {
                        let cs = if dir > 0.0 {
                            (next / a).floor() * a
                        } else {
                            (next / a).ceil() * a
                        };
                        let cs = cs.rem_euclid(self.ring);
                        let here = self.ring_point(p, block, cs);
                        // Keep walking straight on across the street: the walking direction
                        // before the corner.
                        let before = self.ring_point(p, block, cs - dir * 1.0);
                        let (dx, dy) = (here[0] - before[0], here[1] - before[1]);
                        let l = dx.hypot(dy).max(1e-9);
                        let (ux, uy) = (dx / l, dy / l);
                        let nb = [
                            block[0] as i64 + ux.round() as i64,
                            block[1] as i64 + uy.round() as i64,
                        ];
                        let inside = nb[0] >= 0
                            && nb[1] >= 0
                            && nb[0] < p.blocks[0] as i64
                            && nb[1] < p.blocks[1] as i64;
                        if inside {
                            let gap = pitch - a;
                            let to = [here[0] + ux * gap, here[1] + uy * gap];
                            let nb = [nb[0] as u32, nb[1] as u32];
                            // Arc length of `to` on the new block's ring, walking on in the
                            // same direction: the corner diagonally mirrored.
                            let ns = (0..4)
                                .map(|c| c as f64 * a)
                                .min_by(|&x, &y| {
                                    let px = self.ring_point(p, nb, x);
                                    let py = self.ring_point(p, nb, y);
                                    (px[0] - to[0])
                                        .hypot(px[1] - to[1])
                                        .total_cmp(&(py[0] - to[0]).hypot(py[1] - to[1]))
                                })
                                .unwrap_or(0.0);
                            // Walk on along the side that continues the direction.
                            let fwd = self.ring_point(p, nb, ns + 1.0);
                            let ndir = if (fwd[0] - to[0]) * ux + (fwd[1] - to[1]) * uy > 0.5 {
                                1.0
                            } else {
                                -1.0
                            };
                            mode = Mode::Cross {
                                from: here,
                                to,
                                done: 0.0,
                                block: nb,
                                s: ns,
                                dir: ndir,
                            };
                        }
                    }
                    mode
                }
                Mode::Cross {
                    from,
                    to,
                    done,
                    block,
                    s,
                    dir,
                } => {
                    let len = (to[0] - from[0]).hypot(to[1] - from[1]);
                    let (ux, uy) = ((to[0] - from[0]) / len, (to[1] - from[1]) / len);
                    let blocked = if done <= 0.0 {
                        // Step out only when no vehicle is within 12 m of the crosswalk.
                        vehicles
                            .iter()
                            .any(|(c, r)| seg_dist(*c, from, to) < 12.0 + r)
                    } else {
                        // On the road: stop if a vehicle body is right ahead.
                        let ahead = [person.pos[0] + ux * 0.8, person.pos[1] + uy * 0.8];
                        vehicles.iter().any(|(c, r)| {
                            (c[0] - ahead[0]).hypot(c[1] - ahead[1]) < r + RADIUS_M + 0.3
                        })
                    };
                    if blocked {
                        Mode::Cross {
                            from,
                            to,
                            done: done.max(0.0) - 0.0,
                            block,
                            s,
                            dir,
                        }
                    } else if done + step >= len {
                        Mode::Walk { block, s, dir }
                    } else {
                        Mode::Cross {
                            from,
                            to,
                            done: done + step.max(1e-6),
                            block,
                            s,
                            dir,
                        }
                    }
                }
            };
            let (pos, crossing) = match mode {
                Mode::Stand => (person.pos, true),
                Mode::Walk { block, s, .. } => (self.ring_point(p, block, s), false),
                Mode::Cross { from, to, done, .. } => {
                    let len = (to[0] - from[0]).hypot(to[1] - from[1]).max(1e-9);
                    let f = done / len;
                    (
                        [
                            from[0] + f * (to[0] - from[0]),
                            from[1] + f * (to[1] - from[1]),
                        ],
                        done > 0.0,
                    )
                }
            };
            let q = &mut self.people[k];
            q.mode = mode;
            q.pos = pos;
            q.crossing = crossing;
        }
    }

    /// The pedestrians as scene objects, tagged from `first_tag`.
    pub fn objects(&self, first_tag: u32) -> impl Iterator<Item = SceneObject> + '_ {
        self.people.iter().enumerate().map(move |(i, q)| {
            SceneObject::cylinder(q.pos, HEIGHT_M, RADIUS_M)
                .with_reflectivity(0.4)
                .with_tag(first_tag + i as u32)
        })
    }
}

/// Distance from point `c` to segment `a`–`b`.
fn seg_dist(c: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = (dx * dx + dy * dy).max(1e-12);
    let t = (((c[0] - a[0]) * dx + (c[1] - a[1]) * dy) / l2).clamp(0.0, 1.0);
    (c[0] - a[0] - t * dx).hypot(c[1] - a[1] - t * dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pedestrians_walk_pavements_and_cross_streets_seeded() {
        let p = CampusParams {
            blocks: [3, 3],
            ..Default::default()
        };
        let run = |seed| {
            let mut c = Crowd::new(&p, 30, 0.5, seed);
            let mut crossings = 0;
            for _ in 0..3000 {
                c.step(&p, 0.1, &[]);
                crossings += c.people.iter().filter(|q| q.crossing).count();
                for q in &c.people {
                    // Inside the district, on a pavement or a crosswalk.
                    assert!(q.pos.iter().all(|v| (-1.0..3.0 * p.pitch()).contains(v)));
                }
            }
            (
                crossings,
                c.people.iter().map(|q| q.pos).collect::<Vec<_>>(),
            )
        };
        let (n, a) = run(1);
        assert!(n > 0, "nobody crossed");
        assert_eq!(a, run(1).1);
        assert_ne!(a, run(2).1);
    }

    #[test]
    fn waits_for_a_vehicle_near_the_crosswalk() {
        let p = CampusParams {
            blocks: [2, 1],
            ..Default::default()
        };
        let mut c = Crowd::new(&p, 1, 1.0, 3);
        // Put the person just before the south-east corner of block (0, 0), walking east.
        let a = c.side;
        c.people[0].mode = Mode::Walk {
            block: [0, 0],
            s: a - 0.05,
            dir: 1.0,
        };
        let car = ([p.block_size_m + 7.0, 1.0], 1.5);
        for _ in 0..50 {
            c.step(&p, 0.1, &[car]);
        }
        assert!(!c.people[0].crossing, "stepped out in front of a vehicle");
        for _ in 0..50 {
            c.step(&p, 0.1, &[]);
        }
        assert!(matches!(
            c.people[0].mode,
            Mode::Cross { .. } | Mode::Walk { block: [1, 0], .. }
        ));
    }
}
