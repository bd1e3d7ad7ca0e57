//! Anytime refinement by large neighbourhood search (after MAPF-LNS, Li et al. 2021): repeatedly
//! pick a few agents (a "neighbourhood"), delete their paths, replan them one by one with
//! space-time A* around everyone else's paths, and keep the new paths if the sum of costs did not
//! grow. Neighbourhoods come from three heuristics picked adaptively by how much they helped:
//! agents in the way of a delayed agent, agents crossing at a map intersection, and random agents.

use super::deadline::Deadline;
use super::instance::{Cell, Instance, NONE};
use super::validate::path_cost;
use crate::distance::DistanceTable;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Statistics of an LNS run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LnsStats {
    pub iterations: usize,
    pub improvements: usize,
}

/// The solution being refined plus a dense space-time reservation table of its paths
/// (`steps × cells` agent ids: O(1) conflict checks; about 4 bytes × makespan × cells, e.g.
/// 100 MB for 1000 agents on warehouse-20-40-10-2-2).
#[derive(Debug)]
pub struct Lns<'a> {
    inst: &'a Instance,
    dist: &'a DistanceTable<'a>,
    paths: Vec<Vec<Cell>>,
    costs: Vec<u64>,
    soc: u64,
    /// `occ[t * cells + v]`: the agent at `v` at step `t` (only along stored paths).
    occ: Vec<u32>,
    /// A* closed set (small and cache-resident, unlike a dense steps × cells array).
    closed: ClosedSet,
    steps: usize,
    in_table: Vec<bool>,
    /// Per cell: the agent whose goal it is (it stays there after its path ends).
    goal_owner: Vec<u32>,
    rng: ChaCha8Rng,
    weights: [f64; 3],
    tabu: Vec<bool>,
    /// Agents replanned together per iteration.
    pub neighborhood: usize,
    /// A* expansions allowed per agent replan.
    pub max_expansions: usize,
}

#[derive(Debug, Clone, Copy)]
struct StNode {
    v: Cell,
    t: u32,
    parent: u32,
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
        let mut goal_owner = vec![NONE; inst.grid.size()];
        for (i, &g) in inst.goals.iter().enumerate() {
            goal_owner[g as usize] = i as u32;
        }
        let costs: Vec<u64> = paths.iter().map(|p| path_cost(p)).collect();
        let mut s = Self {
            inst,
            dist,
            soc: costs.iter().sum(),
            costs,
            paths,
            occ: Vec::new(),
            closed: ClosedSet::default(),
            steps: 0,
            in_table: vec![false; n],
            goal_owner,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x1A50_F1A5),
            weights: [1.0; 3],
            tabu: vec![false; n],
            neighborhood: 8,
            max_expansions: 20_000,
        };
        let longest = s.paths.iter().map(Vec::len).max().unwrap_or(1);
        s.grow(longest);
        for i in 0..n {
            s.add(i);
        }
        s
    }

    /// Makes room for paths of `len` steps (plus the capped A* horizon).
    fn grow(&mut self, len: usize) {
        let need = len + 2;
        if need > self.steps {
            let steps = need.max(self.steps + self.steps / 4);
            let cells = self.inst.grid.size();
            self.occ.resize(steps * cells, NONE);
            self.steps = steps;
        }
    }

    #[inline]
    fn at(&self, v: Cell, t: u32) -> usize {
        t as usize * self.inst.grid.size() + v as usize
    }

    pub fn sum_of_costs(&self) -> u64 {
        self.soc
    }

    pub fn into_paths(self) -> Vec<Vec<Cell>> {
        self.paths
    }

    fn add(&mut self, i: usize) {
        self.grow(self.paths[i].len());
        for t in 0..self.paths[i].len() {
            let k = self.at(self.paths[i][t], t as u32);
            self.occ[k] = i as u32;
        }
        self.in_table[i] = true;
    }

    fn remove(&mut self, i: usize) {
        for t in 0..self.paths[i].len() {
            let k = self.at(self.paths[i][t], t as u32);
            self.occ[k] = NONE;
        }
        self.in_table[i] = false;
    }

    /// The agent whose stored path is at `v` at step `t` ([`NONE`] if none or off the table).
    #[inline]
    fn occupant(&self, v: Cell, t: u32) -> u32 {
        if (t as usize) < self.steps {
            self.occ[self.at(v, t)]
        } else {
            NONE
        }
    }

    /// Is `v` free of other agents at step `t`?
    #[inline]
    fn vertex_free(&self, v: Cell, t: u32) -> bool {
        if self.occupant(v, t) != NONE {
            return false;
        }
        let o = self.goal_owner[v as usize];
        !(o != NONE && self.in_table[o as usize] && t as usize + 1 >= self.paths[o as usize].len())
    }

    /// Can an agent move `u` (step `t`) → `v` (step `t + 1`) without swapping with another?
    #[inline]
    fn edge_free(&self, u: Cell, v: Cell, t: u32) -> bool {
        if u == v {
            return true;
        }
        let j = self.occupant(v, t);
        j == NONE || self.occupant(u, t + 1) != j
    }

    /// Space-time A* for agent `i` against the agents in the table. `None` if no path of cost
    /// at most `max_cost` was found within the expansion budget or the deadline.
    fn plan(&mut self, i: usize, max_cost: u64, deadline: &Deadline) -> Option<Vec<Cell>> {
        let (start, goal) = (self.inst.starts[i], self.inst.goals[i]);
        let grid = &self.inst.grid;
        // After `t_static` nothing moves any more: only goal holders remain.
        let mut t_static = 0u32;
        for (j, p) in self.paths.iter().enumerate() {
            if self.in_table[j] {
                t_static = t_static.max(p.len() as u32);
            }
        }
        // The agent may only stop at its goal once no one else passes there any more.
        let min_end = (0..t_static)
            .rev()
            .find(|&t| self.occupant(goal, t) != NONE)
            .map_or(0, |t| t + 1);
        if !self.vertex_free(start, 0) {
            return None;
        }
        self.closed.clear();
        let dist = self.dist;
        let h = |v: Cell| dist.get(i, v);
        let mut nodes = vec![StNode {
            v: start,
            t: 0,
            parent: NONE,
        }];
        // Closed-set index; beyond `t_static` all steps look alike.
        let key = |v: Cell, t: u32| ((v as u64) << 32) | t.min(t_static + 1) as u64;
        let mut open = BinaryHeap::new();
        // Ties on f go to states nearer the goal, then to later steps (depth first).
        open.push(Reverse((h(start).max(min_end), h(start), u32::MAX, 0u32)));
        let mut expansions = 0usize;
        while let Some(Reverse((f, _, _, k))) = open.pop() {
            if f as u64 > max_cost {
                return None;
            }
            let StNode { v, t, .. } = nodes[k as usize];
            if !self.closed.insert(key(v, t)) {
                continue;
            }
            if v == goal && t >= min_end {
                let mut path = Vec::with_capacity(t as usize + 1);
                let mut k = k;
                while k != NONE {
                    path.push(nodes[k as usize].v);
                    k = nodes[k as usize].parent;
                }
                path.reverse();
                return Some(path);
            }
            expansions += 1;
            if expansions > self.max_expansions
                || (expansions.is_multiple_of(1024) && deadline.passed())
            {
                return None;
            }
            for &u in grid.neighbors(v).iter().chain(std::iter::once(&v)) {
                let t1 = t + 1;
                if u == v && t > t_static {
                    continue; // waiting past the last move changes nothing
                }
                if self.closed.contains(key(u, t1))
                    || !self.vertex_free(u, t1)
                    || !self.edge_free(v, u, t)
                {
                    continue;
                }
                let hu = h(u);
                nodes.push(StNode {
                    v: u,
                    t: t1,
                    parent: k,
                });
                open.push(Reverse((
                    (t1 + hu).max(min_end),
                    hu,
                    u32::MAX - t1,
                    nodes.len() as u32 - 1,
                )));
            }
        }
        None
    }

    /// Agents near a delayed agent's ideal route (a random walk that could still improve it).
    fn agents_blocking(&mut self, out: &mut Vec<u32>) {
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
        let cost = self.costs[a] as u32;
        for _ in 0..10 {
            if out.len() >= self.neighborhood {
                break;
            }
            let mut t = self.rng.random_range(0..self.paths[a].len()) as u32;
            let mut v = self.paths[a][t as usize];
            while out.len() < self.neighborhood {
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
                let j = self.occupant(v, t);
                if j != NONE && j as usize != a && !out.contains(&j) {
                    out.push(j);
                }
                let o = self.goal_owner[v as usize];
                if o != NONE && o as usize != a && !out.contains(&o) {
                    out.push(o);
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
        while head < queue.len() && out.len() < self.neighborhood && head < 256 {
            let c = queue[head];
            head += 1;
            for t in 0..self.steps as u32 {
                let j = self.occupant(c, t);
                if j != NONE && !out.contains(&j) {
                    out.push(j);
                    if out.len() >= self.neighborhood {
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
        let mut old = Vec::with_capacity(group.len());
        for &j in group {
            old.push(self.paths[j as usize].clone());
            self.remove(j as usize);
        }
        let mut after = 0u64;
        let mut ok = true;
        let mut failed = NONE;
        // Lower bound of the agents still to plan: each needs at least its distance.
        let mut rest: u64 = group
            .iter()
            .map(|&j| self.dist.get(j as usize, self.inst.starts[j as usize]) as u64)
            .sum();
        for &j in group {
            let j = j as usize;
            rest -= self.dist.get(j, self.inst.starts[j]) as u64;
            let budget = before.saturating_sub(after + rest);
            match self.plan(j, budget, deadline) {
                Some(p) if after + path_cost(&p) <= before => {
                    after += path_cost(&p);
                    self.paths[j] = p;
                    self.add(j);
                }
                _ => {
                    failed = j as u32;
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            for &j in group {
                self.costs[j as usize] = path_cost(&self.paths[j as usize]);
            }
            self.soc = self.soc + after - before;
            return Ok((before, after));
        }
        // Remove every new path before restoring any old one: they may overlap.
        for &j in group {
            if self.in_table[j as usize] {
                self.remove(j as usize);
            }
        }
        for (&j, p) in group.iter().zip(old) {
            self.paths[j as usize] = p;
            self.add(j as usize);
        }
        Err(failed)
    }

    /// Runs LNS iterations until `deadline`; keeps the best paths.
    pub fn run(&mut self, deadline: &Deadline) -> LnsStats {
        let n = self.paths.len();
        let mut stats = LnsStats::default();
        if n < 2 {
            return stats;
        }
        let mut group: Vec<u32> = Vec::new();
        while !deadline.passed() {
            stats.iterations += 1;
            let total: f64 = self.weights.iter().sum();
            let mut r = self.rng.random::<f64>() * total;
            let mut strategy = 2;
            for (s, w) in self.weights.iter().enumerate() {
                if r < *w {
                    strategy = s;
                    break;
                }
                r -= w;
            }
            group.clear();
            match strategy {
                0 => self.agents_blocking(&mut group),
                1 => self.agents_at_intersection(&mut group),
                _ => {}
            }
            while group.len() < self.neighborhood.min(n) {
                let j = self.rng.random_range(0..n) as u32;
                if !group.contains(&j) {
                    group.push(j);
                }
            }
            group.truncate(self.neighborhood.max(1));
            group.shuffle(&mut self.rng);
            let (before, after) = self.replan(&group, deadline).unwrap_or((0, 0));
            stats.improvements += (after < before) as usize;
            let gain = (before - after) as f64;
            self.weights[strategy] = (0.99 * self.weights[strategy] + 0.01 * gain).max(1e-3);
        }
        stats
    }
}

/// An open-addressing hash set of packed `(cell, step)` states, cleared per search.
#[derive(Debug, Default)]
struct ClosedSet {
    slots: Vec<u64>,
    len: usize,
}

impl ClosedSet {
    const EMPTY: u64 = u64::MAX;

    fn clear(&mut self) {
        if self.slots.len() < 1024 {
            self.slots = vec![Self::EMPTY; 1024];
        } else {
            self.slots.fill(Self::EMPTY);
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
    fn contains(&self, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut k = self.slot(key);
        loop {
            match self.slots[k] {
                Self::EMPTY => return false,
                x if x == key => return true,
                _ => k = (k + 1) & mask,
            }
        }
    }

    /// Inserts `key`; false if it was already there.
    fn insert(&mut self, key: u64) -> bool {
        if (self.len + 1) * 2 > self.slots.len() {
            let doubled = vec![Self::EMPTY; self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, doubled);
            self.len = 0;
            for x in old.into_iter().filter(|&x| x != Self::EMPTY) {
                self.insert(x);
            }
        }
        let mask = self.slots.len() - 1;
        let mut k = self.slot(key);
        loop {
            match self.slots[k] {
                Self::EMPTY => {
                    self.slots[k] = key;
                    self.len += 1;
                    return true;
                }
                x if x == key => return false,
                _ => k = (k + 1) & mask,
            }
        }
    }
}
