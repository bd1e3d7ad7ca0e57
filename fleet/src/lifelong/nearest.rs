//! A robot's k cheapest tasks without costing every task. Tasks are bucketed on a coarse grid;
//! buckets are visited in the order of a lower bound on their pairs' cost (the Manhattan
//! distance to the bucket's rectangle plus the least non-travel cost in it) until no bucket
//! left can beat the k-th best. Exact: the same k pairs as costing every task, as long as a
//! pair never costs less than Manhattan distance + the task's extra (true distances are at
//! least Manhattan distances).
//!
//! Why: at GAME's first step 6500 free robots meet ~9750 tasks; costing every pair took the
//! scheduler's whole budget for ~700 robots, and a first assignment made over four steps in
//! robot-id order left the fleet in a slower flow than a complete one (fleet/LIFELONG.md,
//! session 16).
//!
//! [`greedy`] matches robots to tasks on top of it, costing tasks that start at one cell as
//! one unit: on WAREHOUSE and SORTATION ~7000 tasks start at a few hundred station cells, so
//! a robot's cheapest tasks were mostly at one station and were taken by its neighbours, and
//! matching in rounds of each robot's 8 cheapest tasks took ~18 rounds and ~90 ms a step for
//! 2000 robots (fleet/LIFELONG.md, session 28).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

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

/// Numbers items by key in the order keys first appear: each item's group, and each group's
/// first item.
pub fn same_key_groups<K: std::hash::Hash + Eq>(
    keys: impl IntoIterator<Item = K>,
) -> (Vec<usize>, Vec<usize>) {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut first = Vec::new();
    let group = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            *index.entry(key).or_insert_with(|| {
                first.push(i);
                first.len() - 1
            })
        })
        .collect();
    (group, first)
}

/// Where [`greedy`]'s robots and tasks are: robot cells (by robot id), first errand cells,
/// extra costs (by task), which bound pair costs from below, deadlines, and whether tasks at
/// one cell (and with one deadline) are matched as one unit.
pub struct Layout<'a> {
    pub robot_xy: &'a [(u32, u32)],
    pub task_xy: &'a [(u32, u32)],
    pub extra: &'a [i64],
    /// By task, or empty: no deadlines.
    pub due: &'a [Option<u64>],
    pub by_cell: bool,
}

/// Greedy matching. With each task a unit: in rounds, in each of which every robot not yet
/// matched takes part with its `k` cheapest tasks, pairs given cheapest first (ties to the
/// earlier robot in `batch`, then the earlier task), and robots whose tasks all ran out try
/// again in the next round. With `layout.by_cell` the tasks that start at one cell are one
/// unit, which costs as its cheapest task left, and the cheapest pair over all pairs goes
/// first (exact: a robot holds its k cheapest cells and a marker at the k-th cost, past
/// which other cells may be cheaper and it looks again; costs only rise as cells empty).
///
/// Why two: where tasks share stations, rounds of each robot's cheapest tasks (all at its
/// nearest station, taken by its neighbours) took ~18 rounds and ~90 ms a step for 2000
/// robots on SORTATION; by cell, rounds did worse than the exact order (first 600 steps,
/// re-matching all: WAREHOUSE 16394 against 17440, SORTATION 18576 against 18961). Where
/// tasks have their own cells, the exact order did worse than rounds (RANDOM-04 2365 / 2379
/// against 2472 / 2433, planner seeds 0 / 1; fleet/LIFELONG.md, session 28).
///
/// `batch[r]` is a robot id; `cost(robot id, task)` must be at least Manhattan distance +
/// extra and, with `by_cell`, depend on the task only through its cell, deadline and extra.
/// Robots are costed in `order` (position in `batch`, free); past `deadline` robots not yet
/// matched wait for the next step, and past `rematch_deadline` robots that are not free are
/// no longer costed.
pub fn greedy(
    batch: &[usize],
    order: &[(usize, bool)],
    k: usize,
    cost: impl Fn(usize, usize) -> i64,
    layout: &Layout,
    deadline: Option<Instant>,
    rematch_deadline: Option<Instant>,
) -> Vec<Option<usize>> {
    const LOOK_AGAIN: usize = usize::MAX;
    let k = k.max(1);
    let late = |d: Option<Instant>| d.is_some_and(|d| Instant::now() >= d);
    // Groups of tasks (one per cell, or one per task): group g holds
    // `by_group[start[g]..end[g]]`, its cheapest task last (taken first, `end` moves down).
    let n_tasks = layout.task_xy.len();
    let group: Vec<usize> = if layout.by_cell {
        let due = |t: usize| layout.due.get(t).copied().flatten();
        same_key_groups((0..n_tasks).map(|t| (layout.task_xy[t], due(t)))).0
    } else {
        (0..n_tasks).collect()
    };
    let mut by_group: Vec<usize> = (0..n_tasks).collect();
    by_group.sort_unstable_by_key(|&t| (group[t], Reverse((layout.extra[t], t))));
    let n_groups = group.iter().max().map_or(0, |g| g + 1);
    let mut start = vec![0; n_groups];
    let mut end = vec![0; n_groups];
    for (i, &t) in by_group.iter().enumerate() {
        if end[group[t]] == 0 {
            start[group[t]] = i;
        }
        end[group[t]] = i + 1;
    }
    // Extras only rise as a cell's tasks are taken: the cheapest one stays a lower bound.
    let buckets = Buckets::new((0..n_groups).map(|g| {
        let t = by_group[end[g] - 1];
        (g, layout.task_xy[t], layout.extra[t])
    }));
    let pair_cost = |end: &[usize], a: usize, g: usize| {
        if end[g] > start[g] {
            cost(a, by_group[end[g] - 1])
        } else {
            i64::MAX
        }
    };
    // Pairs (round, cost, robot, group), cheapest first, and each robot's marker (round, at,
    // robot, LOOK_AGAIN): exact, at its k-th cost; in rounds, after its round's pairs.
    let exact = layout.by_cell;
    type Heap = BinaryHeap<Reverse<(u32, i64, usize, usize)>>;
    let mut scratch = Scratch::default();
    let mut fetch = |heap: &mut Heap, end: &[usize], round: u32, r: usize| {
        let a = batch[r];
        let (mut n, mut all, mut kth) = (0, false, i64::MIN);
        let best = buckets.k_best(
            layout.robot_xy[a],
            k,
            |g| pair_cost(end, a, g),
            &mut scratch,
        );
        for (c, g) in best {
            n += 1;
            kth = kth.max(c);
            if c < i64::MAX {
                heap.push(Reverse((round, c, r, g)));
            } else {
                // An empty group among the k cheapest: every other group was costed.
                all = true;
            }
        }
        if n == k && !all {
            let at = if exact { kth } else { i64::MAX };
            heap.push(Reverse((round, at, r, LOOK_AGAIN)));
        }
    };
    let mut heap = Heap::new();
    let mut free = vec![false; batch.len()];
    for (n, &(r, is_free)) in order.iter().enumerate() {
        // `order` lists the free robots first.
        if (n % 64 == 0 && n > 0 && late(deadline)) || (!is_free && late(rematch_deadline)) {
            break;
        }
        free[r] = is_free;
        fetch(&mut heap, &end, 0, r);
    }
    let mut out = vec![None; batch.len()];
    let mut pops = 0usize;
    while let Some(Reverse((round, c, r, g))) = heap.pop() {
        pops += 1;
        if pops.is_multiple_of(1024) && late(deadline) {
            break;
        }
        if out[r].is_some() {
            continue;
        }
        if g == LOOK_AGAIN {
            if free[r] || !late(rematch_deadline) {
                let next = if exact { round } else { round + 1 };
                fetch(&mut heap, &end, next, r);
            }
            continue;
        }
        // A cell whose cheapest task was taken costs more now: the pair waits its turn.
        match pair_cost(&end, batch[r], g) {
            i64::MAX => {}
            now if now > c => heap.push(Reverse((round, now, r, g))),
            _ => {
                end[g] -= 1;
                out[r] = Some(by_group[end[g]]);
            }
        }
    }
    out
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

    /// Rounds of each open robot's k cheapest free tasks through `assign::greedy`.
    fn greedy_by_tasks(
        n_robots: usize,
        n_tasks: usize,
        k: usize,
        cost: impl Fn(usize, usize) -> i64,
    ) -> Vec<Option<usize>> {
        let mut out = vec![None; n_robots];
        let mut free = vec![true; n_tasks];
        loop {
            let mut cands = Vec::new();
            for r in (0..n_robots).filter(|&r| out[r].is_none()) {
                let mut row: Vec<_> = (0..n_tasks)
                    .filter(|&t| free[t])
                    .map(|t| (cost(r, t), r, t))
                    .collect();
                row.sort_unstable();
                row.truncate(k);
                cands.extend(row);
            }
            let mut progress = false;
            for (r, t) in crate::assign::greedy(n_robots, n_tasks, &mut cands)
                .into_iter()
                .enumerate()
            {
                if let Some(t) = t {
                    out[r] = Some(t);
                    free[t] = false;
                    progress = true;
                }
            }
            if !progress {
                return out;
            }
        }
    }

    #[test]
    fn greedy_matches_rounds_or_by_cell_the_cheapest_pair_first() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for round in 0..60 {
            // Tasks at a few shared cells (stations), or each at its own (odd rounds).
            let own_cells = round % 2 == 1;
            let n_tasks = rng.random_range(1..300);
            let n_cells = if own_cells {
                10_000
            } else {
                rng.random_range(1..60)
            };
            let mut cells: Vec<(u32, u32)> = (0..n_cells)
                .map(|_| (rng.random_range(0..120), rng.random_range(0..80)))
                .collect();
            cells.sort_unstable();
            cells.dedup();
            let n_cells = cells.len();
            let task_cell: Vec<usize> = if own_cells {
                rand::seq::index::sample(&mut rng, n_cells, n_tasks).into_vec()
            } else {
                (0..n_tasks).map(|_| rng.random_range(0..n_cells)).collect()
            };
            // Extras unique in their last three digits, travel in thousands: no ties.
            let extra: Vec<i64> = (0..n_tasks)
                .map(|t| 1000 * rng.random_range(0..60) + t as i64)
                .collect();
            let task_xy: Vec<(u32, u32)> = task_cell.iter().map(|&c| cells[c]).collect();
            let n_robots = rng.random_range(1..200);
            let robot_xy: Vec<(u32, u32)> = (0..n_robots)
                .map(|_| (rng.random_range(0..120), rng.random_range(0..80)))
                .collect();
            let detour: Vec<i64> = (0..n_robots * n_cells)
                .map(|_| rng.random_range(0..30) * (rng.random_range(0..3) / 2))
                .collect();
            // In a third of the rounds half the tasks have a deadline, charged per step of
            // travel past it: tasks at one cell then differ by more than their extra.
            let due: Vec<Option<u64>> = (0..n_tasks)
                .map(|_| (round % 3 == 2 && rng.random_bool(0.5)).then(|| rng.random_range(0..100)))
                .collect();
            let cost = |a: usize, t: usize| {
                let ((x, y), (tx, ty)) = (robot_xy[a], task_xy[t]);
                let c = task_cell[t];
                let travel = (x.abs_diff(tx) + y.abs_diff(ty)) as i64 + detour[a * n_cells + c];
                let late = due[t].map_or(0, |d| (travel - d as i64).max(0));
                1000 * (travel + 3 * late) + extra[t]
            };
            let mut layout = Layout {
                robot_xy: &robot_xy,
                task_xy: &task_xy,
                extra: &extra,
                due: &due,
                by_cell: false,
            };
            let batch: Vec<usize> = (0..n_robots).collect();
            // Costed from the last robot, half of them free: the order must not matter.
            let order: Vec<(usize, bool)> = (0..n_robots).rev().map(|r| (r, r % 2 == 0)).collect();
            let k = rng.random_range(1..10);
            let want = greedy_by_tasks(n_robots, n_tasks, k, cost);
            let got = greedy(&batch, &order, k, cost, &layout, None, None);
            assert_eq!(got, want, "round {round}, k {k}");
            layout.by_cell = true;
            let got = greedy(&batch, &order, k, cost, &layout, None, None);
            let mut all: Vec<(i64, usize, usize)> = (0..n_robots)
                .flat_map(|r| (0..n_tasks).map(move |t| (r, t)))
                .map(|(r, t)| (cost(batch[r], t), r, t))
                .collect();
            let cheapest_first = crate::assign::greedy(n_robots, n_tasks, &mut all);
            assert_eq!(got, cheapest_first, "round {round}, k {k}, by cell");
            let mut given = vec![false; n_tasks];
            for t in got.iter().flatten() {
                assert!(!given[*t], "round {round}: task {t} given twice");
                given[*t] = true;
            }
            let matched = got.iter().flatten().count();
            assert_eq!(matched, n_robots.min(n_tasks), "round {round}, k {k}");
        }
    }
}
