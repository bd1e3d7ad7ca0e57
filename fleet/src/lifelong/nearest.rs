//! A robot's k cheapest tasks without costing every task. Tasks are bucketed on a coarse grid;
//! buckets are visited in the order of a lower bound on their pairs' cost (the Manhattan
//! distance to the bucket's rectangle plus the least non-travel cost in it) until no bucket
//! left can beat the k-th best. Exact: the same k pairs as costing every task, as long as a
//! pair never costs less than Manhattan distance + the task's extra (true distances are at
//! least Manhattan distances).
//!
//! Why: at GAME's first step 6500 free robots meet ~9750 tasks; costing every pair took the
//! scheduler's whole budget for ~700 robots, and a first assignment made over four steps in
//! robot-id order left the fleet in a slower flow than a complete one (README, session 16).

use std::collections::{BinaryHeap, HashMap};

/// Bucket side in cells.
const SIDE: u32 = 16;

/// Tasks bucketed by the cell of their first errand.
#[derive(Debug)]
pub struct Buckets {
    buckets: Vec<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    x0: u32,
    y0: u32,
    min_extra: i64,
    tasks: Vec<usize>,
}

impl Buckets {
    /// `tasks`: (task, its first errand's (x, y), its cost beyond travel).
    pub fn new(tasks: impl IntoIterator<Item = (usize, (u32, u32), i64)>) -> Self {
        let mut by_key: HashMap<(u32, u32), Bucket> = HashMap::new();
        for (t, (x, y), extra) in tasks {
            let b = by_key
                .entry((x / SIDE, y / SIDE))
                .or_insert_with(|| Bucket {
                    x0: x / SIDE * SIDE,
                    y0: y / SIDE * SIDE,
                    min_extra: i64::MAX,
                    tasks: Vec::new(),
                });
            b.min_extra = b.min_extra.min(extra);
            b.tasks.push(t);
        }
        let mut buckets: Vec<Bucket> = by_key.into_values().collect();
        buckets.sort_unstable_by_key(|b| (b.y0, b.x0));
        Self { buckets }
    }

    /// The `k` smallest `(cost(t), t)` over all tasks for a robot at `(x, y)`, in no order.
    /// `cost(t)` must be at least the Manhattan distance to the task plus its extra.
    /// `scratch` is reused between calls, so a call does not allocate.
    pub fn k_best<'s>(
        &self,
        (x, y): (u32, u32),
        k: usize,
        cost: impl Fn(usize) -> i64,
        scratch: &'s mut Scratch,
    ) -> impl Iterator<Item = (i64, usize)> + 's {
        let Scratch { order, best } = scratch;
        let gap = |p: u32, lo: u32| {
            if p < lo {
                lo - p
            } else {
                p.saturating_sub(lo + SIDE - 1)
            }
        };
        order.clear();
        order.extend(self.buckets.iter().enumerate().map(|(i, b)| {
            let d = gap(x, b.x0) + gap(y, b.y0);
            (d as i64 + b.min_extra, i)
        }));
        order.sort_unstable();
        best.clear();
        for &(bound, i) in order.iter() {
            if best.len() == k && best.peek().is_some_and(|&(c, _)| bound > c) {
                break;
            }
            for &t in &self.buckets[i].tasks {
                let c = (cost(t), t);
                if best.len() < k {
                    best.push(c);
                } else if best.peek().is_some_and(|top| c < *top) {
                    best.pop();
                    best.push(c);
                }
            }
        }
        best.drain()
    }
}

/// Buffers of [`Buckets::k_best`], kept between calls.
#[derive(Debug, Default)]
pub struct Scratch {
    order: Vec<(i64, usize)>,
    best: BinaryHeap<(i64, usize)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn k_best_equals_costing_every_task() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for round in 0..40 {
            let n = rng.random_range(1..600);
            let tasks: Vec<((u32, u32), i64)> = (0..n)
                .map(|_| {
                    let xy = (rng.random_range(0..300), rng.random_range(0..200));
                    (xy, rng.random_range(0..80))
                })
                .collect();
            // True costs above the bound: a detour of up to 30 steps on some tasks.
            let detour: Vec<i64> = (0..n)
                .map(|_| rng.random_range(0..30) * (rng.random_range(0..3) / 2))
                .collect();
            let buckets = Buckets::new(tasks.iter().enumerate().map(|(t, &(xy, e))| (t, xy, e)));
            let mut scratch = Scratch::default();
            for _ in 0..20 {
                let (x, y) = (rng.random_range(0..300u32), rng.random_range(0..200u32));
                let cost = |t: usize| {
                    let ((tx, ty), e) = tasks[t];
                    (x.abs_diff(tx) + y.abs_diff(ty)) as i64 + e + detour[t]
                };
                let k = rng.random_range(1..12);
                let mut all: Vec<(i64, usize)> = (0..n).map(|t| (cost(t), t)).collect();
                all.sort_unstable();
                all.truncate(k);
                let mut got: Vec<_> = buckets.k_best((x, y), k, cost, &mut scratch).collect();
                got.sort_unstable();
                assert_eq!(got, all, "round {round}, robot at ({x}, {y}), k {k}");
            }
        }
    }
}
