//! Anytime refinement by large neighbourhood search (after MAPF-LNS, Li et al. 2021): repeatedly
//! pick a few agents (a "neighbourhood"), delete their paths, replan them one by one in random
//! order with SIPP around everyone else's paths, and keep the new paths if the sum of costs did
//! not grow. Neighbourhoods come from four heuristics picked adaptively (ALNS weights by how much
//! each helped): agents in the way of a delayed agent (a random walk along its possible shorter
//! routes), the same led by the agent whose late pass over the delayed agent's goal keeps it from
//! stopping there (a pair even at size 1: on the warehouse maps this is what most delays are),
//! agents crossing at a map intersection, and random agents.
//!
//! The neighbourhood size is fixed ([`Lns::neighborhood`] > 0) or adaptive (0, the default): each
//! size 1, 2, 4, 8 keeps decayed sums of the SoC gain and the search work (SIPP expansions, so
//! the choice stays deterministic per seed) of its iterations, and the next size is the smallest
//! whose gain per work is within a factor 10 of the best size's, or, 5 % of the time, a random
//! one (cheap sizes more likely). Replanning one agent at a time is what a badly delayed
//! first solution needs most (on warehouse-10-20-10-2-1, 1000 agents, at equal work it went much
//! further than four at a time); once single agents stop improving, larger groups take over.

use super::deadline::Deadline;
use super::instance::{Cell, Instance, NONE};
use super::sipp::{Reservations, Sipp};
use super::validate::path_cost;
use crate::distance::DistanceTable;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The largest neighbourhood of the adaptive mode (`neighborhood = 0`).
pub const MAX_ADAPTIVE_NEIGHBORHOOD: usize = 1 << (ADAPTIVE_SIZES - 1);
/// How many neighbourhood sizes (powers of two from 1) the adaptive mode picks from.
pub const ADAPTIVE_SIZES: usize = 4;
/// The neighbourhood heuristics (indices of the ALNS weights).
const BLOCKING: usize = 0;
const INTERSECTION: usize = 1;
const RANDOM: usize = 2;
const GOAL_BLOCKER: usize = 3;
const STRATEGIES: usize = 4;
/// Work charged per single-agent search on top of its expansions (set-up, path copy,
/// reservation updates), in expansions.
const CALL_WORK: u64 = 50;
/// Per iteration of a size, the weight its older iterations keep in its statistics.
const SIZE_DECAY: f64 = 0.99;
/// Probability of an exploring pick of the neighbourhood size.
const SIZE_EXPLORE: f64 = 0.05;
/// The adaptive mode uses the smallest size whose recent gain per work is at least this
/// fraction of the best size's. Small neighbourhoods are strongly preferred: at equal search
/// work, replanning one agent at a time lowered warehouse-10-20-10-2-1 (1000 agents) much
/// further than four at a time, although their short-term gain per work looked alike.
const SIZE_GOOD_ENOUGH: f64 = 0.1;

/// Decayed sums of what the iterations of one neighbourhood size achieved.
#[derive(Debug, Clone, Copy)]
struct SizeStats {
    gain: f64,
    work: f64,
    iterations: f64,
}

impl Default for SizeStats {
    /// A weak prior (a small gain per work) that the first iterations outweigh.
    fn default() -> Self {
        Self {
            gain: 1.0,
            work: 1000.0,
            iterations: 1.0,
        }
    }
}

impl SizeStats {
    /// SoC gain per unit of work.
    fn rate(&self) -> f64 {
        self.gain / self.work
    }
    /// Mean work of an iteration.
    fn mean_work(&self) -> f64 {
        self.work / self.iterations
    }
}

/// Picks an index with probability proportional to its weight.
fn roulette(weights: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = weights.iter().sum();
    let mut r = rng.random::<f64>() * total;
    for (k, w) in weights.iter().enumerate() {
        if r < *w {
            return k;
        }
        r -= w;
    }
    weights.len() - 1
}

/// Statistics of an LNS run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LnsStats {
    pub iterations: usize,
    pub improvements: usize,
    /// Adaptive mode: iterations run with each neighbourhood size 1, 2, 4, …
    pub size_iterations: [usize; ADAPTIVE_SIZES],
    /// The single-agent planner's counters.
    pub sipp: super::sipp::SippStats,
}

/// The solution being refined, a reservation table of its paths and the planner's buffers.
#[derive(Debug)]
pub struct Lns<'a> {
    inst: &'a Instance,
    dist: &'a DistanceTable<'a>,
    paths: Vec<Vec<Cell>>,
    costs: Vec<u64>,
    soc: u64,
    /// Every stored path (all agents except those being replanned).
    res: Reservations,
    sipp: Sipp,
    rng: ChaCha8Rng,
    weights: [f64; STRATEGIES],
    /// Adaptive mode, per neighbourhood size 1, 2, 4, …: exponentially decayed sums of the
    /// SoC gain, the search work and the iterations of that size.
    size_stats: [SizeStats; ADAPTIVE_SIZES],
    tabu: Vec<bool>,
    /// Buffers reused across iterations: the group's old paths and a planned path.
    old: Vec<Vec<Cell>>,
    planned: Vec<Cell>,
    /// Agents replanned together per iteration; 0: adaptive (ALNS over the sizes 1, 2, 4, …,
    /// [`MAX_ADAPTIVE_NEIGHBORHOOD`], rewarded by SoC gain per unit of search work).
    pub neighborhood: usize,
    /// The neighbourhood size of the current iteration.
    size: usize,
    /// Stop after this many iterations (0: only the deadline stops). With a deadline that does
    /// not pass, the result then depends only on the seed.
    pub max_iterations: usize,
}

impl<'a> Lns<'a> {
    /// Starts from a valid solution (`paths` as from [`super::lacam::configs_to_paths`]).
    pub fn new(
        inst: &'a Instance,
        dist: &'a DistanceTable<'a>,
        paths: Vec<Vec<Cell>>,
        seed: u64,
    ) -> Self {
        let n = inst.num_agents();
        let costs: Vec<u64> = paths.iter().map(|p| path_cost(p)).collect();
        let mut res = Reservations::new(inst.grid.size(), &inst.goals);
        for (i, p) in paths.iter().enumerate() {
            res.add(i, p);
        }
        Self {
            inst,
            dist,
            soc: costs.iter().sum(),
            costs,
            paths,
            res,
            sipp: Sipp::default(),
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x1A50_F1A5),
            weights: [1.0; STRATEGIES],
            size_stats: [SizeStats::default(); ADAPTIVE_SIZES],
            tabu: vec![false; n],
            old: Vec::new(),
            planned: Vec::new(),
            neighborhood: 0,
            size: 1,
            max_iterations: 0,
        }
    }

    pub fn sum_of_costs(&self) -> u64 {
        self.soc
    }

    pub fn into_paths(self) -> Vec<Vec<Cell>> {
        self.paths
    }

    /// Sets the SIPP expansions allowed per agent replan.
    pub fn set_max_expansions(&mut self, n: usize) {
        self.sipp.max_expansions = n;
    }

    /// Sets SIPP's heuristic weight (1: optimal single-agent paths; larger: faster, maybe
    /// longer paths; clamped to [1, 16]).
    pub fn set_heuristic_weight(&mut self, w: f64) {
        self.sipp.weight16 = (w.clamp(1.0, 16.0) * 16.0).round() as u32;
    }

    fn add(&mut self, i: usize) {
        self.res.add(i, &self.paths[i]);
    }

    fn remove(&mut self, i: usize) {
        self.res.remove(i, &self.paths[i]);
    }

    /// SIPP for agent `i` against the stored paths into `self.planned`; false if no path of
    /// cost at most `max_cost` was found within the expansion budget or the deadline.
    fn plan(&mut self, i: usize, max_cost: u64, deadline: &Deadline) -> bool {
        let dist = self.dist;
        self.sipp.plan(
            &self.inst.grid,
            &self.res,
            i,
            self.inst.starts[i],
            self.inst.goals[i],
            |v| dist.get(i, v),
            max_cost,
            deadline,
            &mut self.planned,
        )
    }

    /// Agents near a delayed agent's ideal route (a random walk that could still improve it);
    /// with `goal_blocker`, first the agent whose late pass over the delayed agent's goal keeps
    /// it from stopping there.
    fn agents_blocking(&mut self, out: &mut Vec<u32>, goal_blocker: bool) {
        let n = self.paths.len();
        let mut best = NONE;
        let mut best_delay = 0u64;
        for (a, tabu) in self.tabu.iter().enumerate() {
            let delay = self.costs[a] - self.dist.get(a, self.inst.starts[a]) as u64;
            if !tabu && delay > best_delay {
                best_delay = delay;
                best = a as u32;
            }
        }
        if best == NONE {
            self.tabu.iter_mut().for_each(|x| *x = false);
            let a = self.rng.random_range(0..n) as u32;
            out.push(a);
            return;
        }
        let a = best as usize;
        self.tabu[a] = true;
        out.push(best);
        // Often `a` waits because someone passes its goal late: `a` can stop there only after
        // that. Replanning `a` alone cannot change this, so that agent joins (even when the
        // size is 1).
        if goal_blocker
            && let Some((b, step)) = self.res.last_visit(self.inst.goals[a], a)
            && step as u64 + 1 >= self.costs[a]
        {
            out.push(b);
        }
        let cost = self.costs[a] as u32;
        for _ in 0..10 {
            if out.len() >= self.size {
                break;
            }
            let mut t = self.rng.random_range(0..self.paths[a].len()) as u32;
            let mut v = self.paths[a][t as usize];
            while out.len() < self.size {
                let mut next = NONE;
                let mut seen = 0;
                for &u in self
                    .inst
                    .grid
                    .neighbors(v)
                    .iter()
                    .chain(std::iter::once(&v))
                {
                    if t + 1 + self.dist.get(a, u) < cost {
                        seen += 1;
                        if self.rng.random_range(0..seen) == 0 {
                            next = u;
                        }
                    }
                }
                if next == NONE {
                    break;
                }
                t += 1;
                v = next;
                // Whoever is there then, moving or holding its goal.
                let j = self.res.occupant(v, t);
                if j != NONE && j as usize != a && !out.contains(&j) {
                    out.push(j);
                }
            }
        }
    }

    /// Agents passing through cells around a random intersection.
    fn agents_at_intersection(&mut self, out: &mut Vec<u32>) {
        let grid = &self.inst.grid;
        let mut v;
        let mut tries = 0;
        loop {
            v = self.rng.random_range(0..grid.size() as u32);
            tries += 1;
            if grid.degree(v) >= 3 || (tries > 1000 && grid.is_passable(v)) {
                break;
            }
        }
        let mut queue = vec![v];
        let mut head = 0;
        while head < queue.len() && out.len() < self.size && head < 256 {
            let c = queue[head];
            head += 1;
            for j in self.res.visitors(c) {
                if !out.contains(&j) {
                    out.push(j);
                    if out.len() >= self.size {
                        break;
                    }
                }
            }
            for &u in grid.neighbors(c) {
                if !queue.contains(&u) {
                    queue.push(u);
                }
            }
        }
    }

    /// Replans `group` (in that order) around everyone else; keeps the new paths if their sum of
    /// costs is not larger, else restores the old ones. Returns (old, new) cost of the group,
    /// or the agent that could not be planned.
    fn replan(&mut self, group: &[u32], deadline: &Deadline) -> Result<(u64, u64), u32> {
        let before: u64 = group.iter().map(|&j| self.costs[j as usize]).sum();
        // Keep the old paths in reused buffers (swapped back on failure).
        self.old
            .resize_with(group.len().max(self.old.len()), Vec::new);
        for (k, &j) in group.iter().enumerate() {
            self.remove(j as usize);
            std::mem::swap(&mut self.old[k], &mut self.paths[j as usize]);
        }
        let mut after = 0u64;
        let mut failed = NONE;
        let mut planned = 0;
        // Lower bound of the agents still to plan: each needs at least its distance.
        let mut rest: u64 = group
            .iter()
            .map(|&j| self.dist.get(j as usize, self.inst.starts[j as usize]) as u64)
            .sum();
        for &j in group {
            let j = j as usize;
            rest -= self.dist.get(j, self.inst.starts[j]) as u64;
            let budget = before.saturating_sub(after + rest);
            if !self.plan(j, budget, deadline) || after + path_cost(&self.planned) > before {
                failed = j as u32;
                break;
            }
            after += path_cost(&self.planned);
            self.paths[j].clone_from(&self.planned);
            self.add(j);
            planned += 1;
        }
        if failed == NONE {
            for &j in group {
                self.costs[j as usize] = path_cost(&self.paths[j as usize]);
            }
            self.soc = self.soc + after - before;
            return Ok((before, after));
        }
        // Remove every new path before restoring any old one: they may overlap.
        for &j in &group[..planned] {
            self.remove(j as usize);
        }
        for (k, &j) in group.iter().enumerate() {
            std::mem::swap(&mut self.old[k], &mut self.paths[j as usize]);
            self.add(j as usize);
        }
        Err(failed)
    }

    /// Adaptive mode: the index of the neighbourhood size to use next. Mostly the smallest size
    /// whose recent gain per work is within [`SIZE_GOOD_ENOUGH`] of the best; with probability
    /// [`SIZE_EXPLORE`] a size picked with probability inversely proportional to its mean work
    /// (so exploring stays cheap and every size's statistics stay fresh).
    fn pick_size(&mut self) -> usize {
        if self.rng.random::<f64>() < SIZE_EXPLORE {
            let inv: [f64; ADAPTIVE_SIZES] =
                std::array::from_fn(|k| 1.0 / self.size_stats[k].mean_work().max(1.0));
            return roulette(&inv, &mut self.rng);
        }
        let best = self
            .size_stats
            .iter()
            .map(SizeStats::rate)
            .fold(0.0, f64::max);
        (0..ADAPTIVE_SIZES)
            .find(|&k| self.size_stats[k].rate() >= SIZE_GOOD_ENOUGH * best)
            .unwrap_or(0)
    }

    /// Runs LNS iterations until `deadline`; keeps the best paths.
    pub fn run(&mut self, deadline: &Deadline) -> LnsStats {
        let n = self.paths.len();
        let mut stats = LnsStats::default();
        if n < 2 {
            return stats;
        }
        let mut group: Vec<u32> = Vec::new();
        while !deadline.passed()
            && (self.max_iterations == 0 || stats.iterations < self.max_iterations)
        {
            stats.iterations += 1;
            let strategy = roulette(&self.weights, &mut self.rng);
            let size_k = if self.neighborhood == 0 {
                let k = self.pick_size();
                stats.size_iterations[k] += 1;
                k
            } else {
                0
            };
            self.size = if self.neighborhood == 0 {
                1 << size_k
            } else {
                self.neighborhood
            }
            .min(n);
            group.clear();
            match strategy {
                BLOCKING => self.agents_blocking(&mut group, false),
                GOAL_BLOCKER => self.agents_blocking(&mut group, true),
                INTERSECTION => self.agents_at_intersection(&mut group),
                RANDOM => {} // filled below
                _ => unreachable!("roulette over {STRATEGIES} weights"),
            }
            while group.len() < self.size {
                let j = self.rng.random_range(0..n) as u32;
                if !group.contains(&j) {
                    group.push(j);
                }
            }
            // The goal blocker may come on top of size 1.
            let min_size = if strategy == GOAL_BLOCKER { 2 } else { 1 };
            group.truncate(self.size.max(min_size));
            group.shuffle(&mut self.rng);
            let work_before = self.sipp.stats.expansions + self.sipp.stats.calls * CALL_WORK;
            let (before, after) = self.replan(&group, deadline).unwrap_or((0, 0));
            stats.improvements += (after < before) as usize;
            let gain = (before - after) as f64;
            self.weights[strategy] = (0.99 * self.weights[strategy] + 0.01 * gain).max(1e-3);
            if self.neighborhood == 0 {
                // Gain per unit of work (expansions): a small neighbourhood is cheap.
                let work =
                    self.sipp.stats.expansions + self.sipp.stats.calls * CALL_WORK - work_before;
                let st = &mut self.size_stats[size_k];
                st.gain = SIZE_DECAY * st.gain + gain;
                st.work = SIZE_DECAY * st.work + work as f64;
                st.iterations = SIZE_DECAY * st.iterations + 1.0;
            }
        }
        stats.sipp = self.sipp.stats;
        stats
    }
}

/// An open-addressing hash set of packed `(cell, step)` states. Cleared per search in O(1) by a
/// generation stamp, so a table that once grew large costs nothing to reset.
#[derive(Debug, Default)]
pub(crate) struct ClosedSet {
    slots: Vec<u64>,
    /// A slot is occupied iff its stamp equals `generation`.
    stamps: Vec<u32>,
    generation: u32,
    len: usize,
}

impl ClosedSet {
    pub(crate) fn clear(&mut self) {
        if self.slots.len() < 1024 {
            self.slots = vec![0; 1024];
            self.stamps = vec![0; 1024];
            self.generation = 0;
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: old stamps could alias; reset them all (once per 2^32 searches).
            self.stamps.fill(0);
            self.generation = 1;
        }
        self.len = 0;
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        let mut z = key;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as usize & (self.slots.len() - 1)
    }

    #[inline]
    pub(crate) fn contains(&self, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut k = self.slot(key);
        loop {
            if self.stamps[k] != self.generation {
                return false;
            }
            if self.slots[k] == key {
                return true;
            }
            k = (k + 1) & mask;
        }
    }

    /// Inserts `key`; false if it was already there.
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            let size = self.slots.len() * 2;
            let old_slots = std::mem::replace(&mut self.slots, vec![0; size]);
            let old_stamps = std::mem::replace(&mut self.stamps, vec![0; size]);
            let old_gen = self.generation;
            self.generation = 1;
            self.len = 0;
            for (x, s) in old_slots.into_iter().zip(old_stamps) {
                if s == old_gen {
                    self.insert(x);
                }
            }
        }
        let mask = self.slots.len() - 1;
        let mut k = self.slot(key);
        loop {
            if self.stamps[k] != self.generation {
                self.slots[k] = key;
                self.stamps[k] = self.generation;
                self.len += 1;
                return true;
            }
            if self.slots[k] == key {
                return false;
            }
            k = (k + 1) & mask;
        }
    }
}
