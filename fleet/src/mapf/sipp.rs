//! Single-agent planning around other agents' fixed paths, for LNS refinement: a reservation
//! table of those paths ([`Reservations`]) and Safe Interval Path Planning ([`Sipp`], Phillips &
//! Likhachev 2011) over it.
//!
//! SIPP searches over (cell, safe interval) states instead of (cell, step): a maximal run of
//! steps in which no one else is in the cell. Arriving as early as possible in an interval
//! dominates arriving later (the agent can wait there), so one state per interval suffices and
//! waits cost no expansions, which is what makes it fast on congested maps where space-time A*
//! sweeps long waiting columns.

use super::instance::{Cell, Grid, NONE};
use super::{Deadline, lns::ClosedSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// "Forever": the end of a cell's last safe interval.
pub const INF: u32 = u32::MAX;

/// A stored agent's stay in one cell: steps `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    from: u32,
    to: u32,
    agent: u32,
}

/// The stored paths of some agents, indexed by cell: who is where when, plus goal holding (an
/// agent stays at its goal forever after its path ends). Updated incrementally as paths are
/// added and removed; memory is proportional to the number of moves, not steps × cells.
#[derive(Debug, Clone)]
pub struct Reservations {
    /// Per cell: the stays of stored paths there, sorted by step (they never overlap, since
    /// the stored paths never conflict).
    blocks: Vec<Vec<Block>>,
    /// Per cell: the agent whose goal it is ([`NONE`] if none).
    goal_owner: Vec<u32>,
    /// Per agent: length of its stored path, 0 if not stored.
    len: Vec<u32>,
}

/// The stays of one path: `(cell, from, to)` for each maximal run of equal cells.
fn stays(path: &[Cell]) -> impl Iterator<Item = (Cell, u32, u32)> + '_ {
    let mut t = 0;
    std::iter::from_fn(move || {
        let v = *path.get(t)?;
        let from = t;
        while path.get(t + 1) == Some(&v) {
            t += 1;
        }
        t += 1;
        Some((v, from as u32, t as u32 - 1))
    })
}

impl Reservations {
    /// An empty table for `cells` cells and agents with these `goals`.
    pub fn new(cells: usize, goals: &[Cell]) -> Self {
        let mut goal_owner = vec![NONE; cells];
        for (i, &g) in goals.iter().enumerate() {
            goal_owner[g as usize] = i as u32;
        }
        Self {
            blocks: vec![Vec::new(); cells],
            goal_owner,
            len: vec![0; goals.len()],
        }
    }

    /// Stores `path` (nonempty, ending at the agent's goal) of `agent`. The caller keeps the
    /// stored paths conflict-free.
    pub fn add(&mut self, agent: usize, path: &[Cell]) {
        debug_assert_eq!(self.len[agent], 0, "agent {agent} is stored twice");
        for (v, from, to) in stays(path) {
            let list = &mut self.blocks[v as usize];
            let k = list.partition_point(|b| b.from < from);
            let agent = agent as u32;
            list.insert(k, Block { from, to, agent });
        }
        self.len[agent] = path.len() as u32;
    }

    /// Removes `agent`'s stored `path` (the same one given to [`Self::add`]).
    pub fn remove(&mut self, agent: usize, path: &[Cell]) {
        for (v, from, to) in stays(path) {
            let list = &mut self.blocks[v as usize];
            let k = list.partition_point(|b| b.from < from);
            let agent = agent as u32;
            if list.get(k) == Some(&Block { from, to, agent }) {
                list.remove(k);
            }
        }
        self.len[agent] = 0;
    }

    /// The last visit of `v` by a stored agent other than `me`: that agent and the last step
    /// of its stay.
    pub fn last_visit(&self, v: Cell, me: usize) -> Option<(u32, u32)> {
        self.blocks[v as usize]
            .iter()
            .rev()
            .find(|b| b.agent as usize != me)
            .map(|b| (b.agent, b.to))
    }

    /// Is `agent`'s path stored?
    #[inline]
    pub fn contains(&self, agent: usize) -> bool {
        self.len[agent] > 0
    }

    /// Every agent whose stored path visits `v` (in order of visit; repeated if it comes back).
    pub fn visitors(&self, v: Cell) -> impl Iterator<Item = u32> + '_ {
        self.blocks[v as usize].iter().map(|b| b.agent)
    }

    /// The stored agent at `v` at step `t`, counting agents that hold their goal ([`NONE`] if
    /// none).
    pub fn occupant(&self, v: Cell, t: u32) -> u32 {
        let list = &self.blocks[v as usize];
        let k = list.partition_point(|b| b.to < t);
        if let Some(b) = list.get(k).filter(|b| b.from <= t) {
            return b.agent;
        }
        let o = self.goal_owner[v as usize];
        if o != NONE && self.len[o as usize] > 0 && t + 1 >= self.len[o as usize] {
            o
        } else {
            NONE
        }
    }

    /// The first step from which another agent holds its goal at `v` for good, so agent `me`
    /// can no longer use it ([`INF`] if none).
    #[inline]
    fn limit(&self, v: Cell, me: usize) -> u32 {
        let o = self.goal_owner[v as usize];
        if o != NONE && o as usize != me && self.len[o as usize] > 0 {
            self.len[o as usize] - 1
        } else {
            INF
        }
    }
}

/// One safe interval of a cell, with who borders it (for swap checks).
#[derive(Debug, Clone, Copy)]
struct Run {
    /// First step (the interval's identity).
    lo: u32,
    /// First usable step (`>=` the one asked for).
    t0: u32,
    /// Last step ([`INF`] if it never ends).
    hi: u32,
    /// The agent in the cell at `lo - 1` and at `hi + 1` ([`NONE`] if none).
    before: u32,
    after: u32,
}

/// Walks the safe intervals of one cell from a given step on, in order.
struct Runs<'r> {
    list: &'r [Block],
    k: usize,
    t: u32,
    limit: u32,
    done: bool,
}

impl<'r> Runs<'r> {
    fn new(res: &'r Reservations, v: Cell, t: u32, me: usize) -> Self {
        let list = &res.blocks[v as usize][..];
        // Most cells hold a few stays: a linear scan beats a binary search there.
        let k = if list.len() <= 8 {
            list.iter().position(|b| b.to >= t).unwrap_or(list.len())
        } else {
            list.partition_point(|b| b.to < t)
        };
        Self {
            k,
            list,
            t,
            limit: res.limit(v, me),
            done: false,
        }
    }
}

impl Iterator for Runs<'_> {
    type Item = Run;
    #[inline]
    fn next(&mut self) -> Option<Run> {
        if self.done {
            return None;
        }
        // Skip the stays covering `t` (back-to-back stays leave no gap).
        while let Some(b) = self.list.get(self.k).filter(|b| b.from <= self.t) {
            self.t = b.to + 1;
            self.k += 1;
        }
        if self.t >= self.limit {
            self.done = true;
            return None;
        }
        let prev = self.k.checked_sub(1).map(|k| self.list[k]);
        let next = self.list.get(self.k);
        let mut hi = next.map_or(INF, |b| b.from - 1);
        if self.limit != INF {
            hi = hi.min(self.limit - 1);
        }
        let run = Run {
            lo: prev.map_or(0, |b| b.to + 1),
            t0: self.t,
            hi,
            before: prev.map_or(NONE, |b| b.agent),
            after: next.map_or(NONE, |b| b.agent),
        };
        if hi == INF {
            self.done = true;
        } else {
            self.t = hi + 1;
        }
        Some(run)
    }
}

/// The open-list key of a node with `f`, `h`, arrival `g` and index `idx`: smaller `f`, then
/// smaller `h`, then later `g`, then smaller `idx` first (a total order: `idx` is unique).
#[inline]
fn pack(f: u32, h: u32, g: u32, idx: u32) -> u128 {
    ((f as u128) << 96) | ((h as u128) << 64) | (((INF - g) as u128) << 32) | idx as u128
}

#[derive(Debug, Clone, Copy)]
struct Node {
    v: Cell,
    /// Arrival step (the earliest in this interval found so far).
    g: u32,
    /// The safe interval.
    lo: u32,
    hi: u32,
    /// The agent entering `v` at `hi + 1` ([`NONE`] if none).
    after: u32,
    parent: u32,
}

/// SIPP with buffers reused across calls (no per-call allocation once warmed up).
#[derive(Debug)]
pub struct Sipp {
    nodes: Vec<Node>,
    /// Keys `(f, h, INF - g, node)` packed into one integer, compared in that order.
    open: BinaryHeap<Reverse<u128>>,
    closed: ClosedSet,
    chain: Vec<(Cell, u32)>,
    /// Expansions allowed per call (bounds the time of a hopeless search).
    pub max_expansions: usize,
    /// Heuristic weight in sixteenths (16: plain A*, optimal; larger: fewer expansions, paths
    /// possibly longer, still within `max_cost`).
    pub weight16: u32,
    /// Counters over all calls: calls, paths found, searches cut by the expansion budget,
    /// expansions.
    pub stats: SippStats,
}

/// Counters of [`Sipp::plan`] calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SippStats {
    pub calls: u64,
    pub found: u64,
    pub cut: u64,
    pub expansions: u64,
}

impl Default for Sipp {
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            open: BinaryHeap::new(),
            closed: ClosedSet::default(),
            chain: Vec::new(),
            max_expansions: 20_000,
            weight16: 16,
            stats: SippStats::default(),
        }
    }
}

impl Sipp {
    /// A shortest path (earliest final arrival) of agent `me` from `start` at step 0 to `goal`,
    /// staying there forever after, avoiding every stored path in `res` (vertex and swap
    /// conflicts, goal holding). `h` must be a consistent lower bound of the distance to
    /// `goal` (e.g. the BFS distance). Writes the path (`path[t]` = cell at step `t`, ending
    /// at the arrival) into `path` and returns true; false if no path of cost `<= max_cost`
    /// exists or was found within the expansion budget and `deadline`.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &mut self,
        grid: &Grid,
        res: &Reservations,
        me: usize,
        start: Cell,
        goal: Cell,
        h: impl Fn(Cell) -> u32,
        max_cost: u64,
        deadline: &Deadline,
        path: &mut Vec<Cell>,
    ) -> bool {
        path.clear();
        self.stats.calls += 1;
        let Some(run) = Runs::new(res, start, 0, me).next().filter(|r| r.t0 == 0) else {
            return false;
        };
        self.nodes.clear();
        self.open.clear();
        self.closed.clear();
        let key = |v: Cell, lo: u32| ((v as u64) << 32) | lo as u64;
        let max_cost = max_cost.min(INF as u64 - 2) as u32;
        if h(start) > max_cost {
            return false;
        }
        // The agent can stop at its goal only after the last stored visit there: no path is
        // shorter, so every state's f is at least that. Ties then go to states nearer the
        // goal and later in time, diving toward the goal instead of sweeping every interval
        // with a smaller f.
        let min_end = res.blocks[goal as usize].last().map_or(0, |b| b.to + 1);
        if min_end as u64 > max_cost as u64 {
            return false;
        }
        self.nodes.push(Node {
            v: start,
            g: 0,
            lo: run.lo,
            hi: run.hi,
            after: run.after,
            parent: NONE,
        });
        self.open
            .push(Reverse(pack(h(start).max(min_end), h(start), 0, 0)));
        let mut expansions = 0usize;
        while let Some(Reverse(key_k)) = self.open.pop() {
            let k = key_k as u32;
            let node = self.nodes[k as usize];
            if !self.closed.insert(key(node.v, node.lo)) {
                continue;
            }
            if node.v == goal && node.hi == INF {
                self.trace(k, path);
                self.stats.found += 1;
                self.stats.expansions += expansions as u64;
                return true;
            }
            expansions += 1;
            if expansions > self.max_expansions
                || (expansions.is_multiple_of(256) && deadline.passed())
            {
                self.stats.cut += 1;
                self.stats.expansions += expansions as u64;
                return false;
            }
            // Leave `v` at any step in [g, hi]: arrive at `u` in [g + 1, hi + 1].
            let latest = node.hi.saturating_add(1);
            for &u in grid.neighbors(node.v) {
                let hu = h(u);
                for r in Runs::new(res, u, node.g + 1, me) {
                    if r.t0 > latest || r.t0 + hu > max_cost {
                        break;
                    }
                    let mut a = r.t0;
                    // Swap: the agent leaving `u` at `a - 1` enters `v` at `a`.
                    if a == r.lo && a == latest && r.before != NONE && r.before == node.after {
                        a += 1; // then `u` is free at `a - 1`: no swap possible
                    }
                    if a <= r.hi
                        && a <= latest
                        && a + hu <= max_cost
                        && !self.closed.contains(key(u, r.lo))
                    {
                        self.nodes.push(Node {
                            v: u,
                            g: a,
                            lo: r.lo,
                            hi: r.hi,
                            after: r.after,
                            parent: k,
                        });
                        let f = (a + ((hu * self.weight16) >> 4)).max(min_end);
                        let idx = self.nodes.len() as u32 - 1;
                        self.open.push(Reverse(pack(f, hu, a, idx)));
                    }
                }
            }
        }
        self.stats.expansions += expansions as u64;
        false
    }

    /// Writes the path ending at node `k` (with the waits between arrivals) into `path`.
    fn trace(&mut self, k: u32, path: &mut Vec<Cell>) {
        self.chain.clear();
        let mut k = k;
        while k != NONE {
            let n = self.nodes[k as usize];
            self.chain.push((n.v, n.g));
            k = n.parent;
        }
        path.clear();
        for &(v, g) in self.chain.iter().rev() {
            while path.len() < g as usize {
                let last = *path
                    .last()
                    .expect("the start node has g = 0, so a cell precedes");
                path.push(last);
            }
            path.push(v);
        }
    }
}
