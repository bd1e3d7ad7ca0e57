//! Anytime refinement by large neighbourhood search (after MAPF-LNS, Li et al. 2021): repeatedly
//! pick a few agents (a "neighbourhood"), delete their paths, replan them one by one with
//! space-time A* around everyone else's paths, and keep the new paths if the sum of costs did not
//! grow. Neighbourhoods come from three heuristics picked adaptively by how much they helped:
//! agents in the way of a delayed agent, agents crossing at a map intersection, and random agents.

use super::dist::DistanceTable;
use super::instance::{Cell, Instance, NONE};
use super::lacam::IdentityMap;
use super::validate::path_cost;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Statistics of an LNS run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LnsStats {
    pub iterations: usize,
    pub improvements: usize,
}

/// The solution being refined plus a space-time reservation table of its paths.
#[derive(Debug)]
pub struct Lns<'a> {
    inst: &'a Instance,
    dist: &'a DistanceTable<'a>,
    paths: Vec<Vec<Cell>>,
    costs: Vec<u64>,
    soc: u64,
    /// Per cell: `(step, agent)` for every agent path visiting it.
    visits: Vec<Vec<(u32, u32)>>,
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
            visits: vec![Vec::new(); inst.grid.size()],
            in_table: vec![false; n],
            goal_owner,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x1A50_F1A5),
            weights: [1.0; 3],
            tabu: vec![false; n],
            neighborhood: 8,
            max_expansions: 200_000,
        };
        for i in 0..n {
            s.add(i);
        }
        s
    }

    pub fn sum_of_costs(&self) -> u64 {
        self.soc
    }

    pub fn into_paths(self) -> Vec<Vec<Cell>> {
        self.paths
    }

    fn add(&mut self, i: usize) {
        for (t, &v) in self.paths[i].iter().enumerate() {
            self.visits[v as usize].push((t as u32, i as u32));
        }
        self.in_table[i] = true;
    }

    fn remove(&mut self, i: usize) {
        for &v in &self.paths[i] {
            self.visits[v as usize].retain(|&(_, j)| j as usize != i);
        }
        self.in_table[i] = false;
    }

    #[inline]
    fn pos(&self, j: usize, t: u32) -> Cell {
        let p = &self.paths[j];
        p[(t as usize).min(p.len() - 1)]
    }

    /// Is `v` free of other agents at step `t`?
    #[inline]
    fn vertex_free(&self, v: Cell, t: u32) -> bool {
        if self.visits[v as usize].iter().any(|&(tt, _)| tt == t) {
            return false;
        }
        let o = self.goal_owner[v as usize];
        !(o != NONE && self.in_table[o as usize] && t as usize + 1 >= self.paths[o as usize].len())
    }

    /// Can an agent move `u` (step `t`) → `v` (step `t + 1`) without swapping with another?
    #[inline]
    fn edge_free(&self, u: Cell, v: Cell, t: u32) -> bool {
        u == v
            || !self.visits[v as usize]
                .iter()
                .any(|&(tt, j)| tt == t && self.pos(j as usize, t + 1) == u)
    }

    /// Space-time A* for agent `i` against the agents in the table. `None` if no path was
    /// found within the expansion budget or the deadline.
    fn plan(&self, i: usize, deadline: Instant) -> Option<Vec<Cell>> {
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
        let min_end = self.visits[goal as usize]
            .iter()
            .map(|&(t, _)| t + 1)
            .max()
            .unwrap_or(0);
        if !self.vertex_free(start, 0) {
            return None;
        }
        let h = |v: Cell| self.dist.get(i, v);
        let mut nodes = vec![StNode {
            v: start,
            t: 0,
            parent: NONE,
        }];
        let key = |v: Cell, t: u32| ((v as u64) << 32) | t.min(t_static + 1) as u64;
        let mut closed: IdentityMap<()> = IdentityMap::default();
        let mut open = BinaryHeap::new();
        open.push(Reverse((h(start).max(min_end), h(start), 0u32)));
        let mut expansions = 0usize;
        while let Some(Reverse((_, _, k))) = open.pop() {
            let StNode { v, t, .. } = nodes[k as usize];
            if closed.insert(key(v, t), ()).is_some() {
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
                || (expansions.is_multiple_of(1024) && Instant::now() >= deadline)
            {
                return None;
            }
            for &u in grid.neighbors(v).iter().chain(std::iter::once(&v)) {
                let t1 = t + 1;
                if u == v && t > t_static {
                    continue; // waiting past the last move changes nothing
                }
                if closed.contains_key(&key(u, t1))
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
                for &(tt, j) in &self.visits[v as usize] {
                    if tt == t && j as usize != a && !out.contains(&j) {
                        out.push(j);
                    }
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
            for &(_, j) in &self.visits[c as usize] {
                if !out.contains(&j) {
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

    /// Runs LNS iterations until `deadline`; keeps the best paths.
    pub fn run(&mut self, deadline: Instant) -> LnsStats {
        let n = self.paths.len();
        let mut stats = LnsStats::default();
        if n < 2 {
            return stats;
        }
        let mut group: Vec<u32> = Vec::new();
        let mut old: Vec<Vec<Cell>> = Vec::new();
        while Instant::now() < deadline {
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
            let before: u64 = group.iter().map(|&j| self.costs[j as usize]).sum();
            old.clear();
            for &j in &group {
                old.push(self.paths[j as usize].clone());
                self.remove(j as usize);
            }
            let mut after = 0u64;
            let mut ok = true;
            for &j in &group {
                let j = j as usize;
                match self.plan(j, deadline) {
                    Some(p) if after + path_cost(&p) <= before => {
                        after += path_cost(&p);
                        self.paths[j] = p;
                        self.add(j);
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                for &j in &group {
                    self.costs[j as usize] = path_cost(&self.paths[j as usize]);
                }
                self.soc = self.soc + after - before;
                if after < before {
                    stats.improvements += 1;
                }
            } else {
                for (&j, p) in group.iter().zip(old.drain(..)) {
                    if self.in_table[j as usize] {
                        self.remove(j as usize);
                    }
                    self.paths[j as usize] = p;
                    self.add(j as usize);
                }
            }
            let gain = before.saturating_sub(if ok { after } else { before }) as f64;
            self.weights[strategy] = 0.99 * self.weights[strategy] + 0.01 * gain;
            self.weights[strategy] = self.weights[strategy].max(1e-3);
        }
        stats
    }
}
