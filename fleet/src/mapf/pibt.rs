//! PIBT (Priority Inheritance with Backtracking, Okumura et al. 2019/2022): one collision-free
//! step for all agents at once. Agents act in priority order; each tries its neighbour cells
//! nearest its goal first; an agent that wants a cell held by a lower-priority agent lends it
//! its priority so that one moves out of the way first (recursively), and backtracks if it cannot.
//!
//! Includes the *swap* technique of LaCAM3: when two agents face each other in a corridor, plain
//! PIBT lets the higher one push the other back forever; here it detects that case (the corridor
//! has no side cell to step aside to until a branch) and swaps the roles so that the pusher
//! backs up and the two pass each other at the branch.
//!
//! The step is reusable by any planner that can give each agent a distance-to-goal: implement
//! [`AgentDistances`] (a [`DistanceTable`] already does) and call [`Pibt::step`].
//!
//! Recursion depth can reach the number of agents in one chain of pushes: run large fleets
//! (thousands of agents) on a thread with a big stack (the CLI uses 512 MiB).

use super::instance::{Cell, Grid, NONE};
use crate::distance::DistanceTable;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What PIBT needs to know about each agent: its goal and the distance of any cell to it.
pub trait AgentDistances {
    /// Distance from `v` to agent `agent`'s goal (`u32::MAX` if unreachable).
    fn dist(&self, agent: usize, v: Cell) -> u32;
    /// Agent `agent`'s goal.
    fn goal(&self, agent: usize) -> Cell;
}

impl AgentDistances for DistanceTable<'_> {
    #[inline]
    fn dist(&self, agent: usize, v: Cell) -> u32 {
        self.get(agent, v)
    }
    #[inline]
    fn goal(&self, agent: usize) -> Cell {
        DistanceTable::goal(self, agent)
    }
}

/// Reusable PIBT step planner: owns its scratch arrays (sized by the grid) and a seeded RNG for
/// tie-breaking, so repeated calls allocate nothing and are deterministic.
#[derive(Debug)]
pub struct Pibt<'g> {
    grid: &'g Grid,
    occ_now: Vec<u32>,
    occ_next: Vec<u32>,
    rng: ChaCha8Rng,
    /// Enables the swap technique (on by default).
    pub swap: bool,
}

impl<'g> Pibt<'g> {
    pub fn new(grid: &'g Grid, seed: u64) -> Self {
        Self {
            grid,
            occ_now: vec![NONE; grid.size()],
            occ_next: vec![NONE; grid.size()],
            rng: ChaCha8Rng::seed_from_u64(seed),
            swap: true,
        }
    }

    /// Plans one step. `from[i]` is agent `i`'s cell; `order` lists every agent, highest
    /// priority first; `fixed` are constraints `(agent, next cell)` applied before planning
    /// (used by LaCAM; pass `&[]` for plain PIBT). Tie-breaks draw from the planner's seeded RNG.
    ///
    /// On success `to` holds a next configuration free of vertex and swap conflicts with every
    /// move a wait or a step to a 4-neighbour, and `true` is returned. Returns `false` if the
    /// constraints conflict or cannot be met (then `to` is unspecified).
    pub fn step<D: AgentDistances>(
        &mut self,
        dist: &D,
        from: &[Cell],
        order: &[u32],
        fixed: &[(u32, Cell)],
        to: &mut Vec<Cell>,
    ) -> bool {
        let n = from.len();
        to.clear();
        to.resize(n, NONE);
        for (i, &v) in from.iter().enumerate() {
            self.occ_now[v as usize] = i as u32;
        }
        let mut ok = true;
        for &(i, u) in fixed {
            let (iu, uu) = (i as usize, u as usize);
            if self.occ_next[uu] != NONE || to[iu] != NONE || !self.grid.is_step(from[iu], u) {
                ok = false;
                break;
            }
            let j = self.occ_now[uu];
            if j != NONE && j != i && to[j as usize] == from[iu] {
                ok = false;
                break;
            }
            self.occ_next[uu] = i;
            to[iu] = u;
        }
        if ok {
            for &i in order {
                if to[i as usize] == NONE && !self.plan(dist, i, from, to) {
                    ok = false;
                    break;
                }
            }
        }
        // Reset the scratch arrays touched.
        for &v in from {
            self.occ_now[v as usize] = NONE;
        }
        for &v in to.iter() {
            if v != NONE {
                self.occ_next[v as usize] = NONE;
            }
        }
        ok && to.iter().all(|&v| v != NONE)
    }

    /// The recursive PIBT call for agent `i`: reserves a next cell, pushing lower agents.
    fn plan<D: AgentDistances>(
        &mut self,
        dist: &D,
        i: u32,
        from: &[Cell],
        to: &mut [Cell],
    ) -> bool {
        let iu = i as usize;
        let v = from[iu];
        // Candidates: stay or move, nearest the goal first; ties broken in favour of free cells,
        // then at random.
        let mut cand = [(0u64, NONE); 5];
        let mut n = 0;
        for &u in self.grid.neighbors(v).iter().chain(std::iter::once(&v)) {
            let occupied = (self.occ_now[u as usize] != NONE && u != v) as u64;
            let key = ((dist.dist(iu, u) as u64) << 32)
                | (occupied << 31)
                | (self.rng.random::<u32>() >> 1) as u64;
            cand[n] = (key, u);
            n += 1;
        }
        let cand = &mut cand[..n];
        cand.sort_unstable_by_key(|c| c.0);
        let swap_agent = if self.swap {
            self.swap_agent(dist, i, v, cand[0].1, from, to)
        } else {
            NONE
        };
        if swap_agent != NONE {
            cand.reverse();
        }
        for &(_, u) in cand.iter() {
            if self.occ_next[u as usize] != NONE {
                continue;
            }
            let j = self.occ_now[u as usize];
            if j != NONE && j != i && to[j as usize] == v {
                continue; // j already moves into our cell: taking its cell would swap
            }
            self.occ_next[u as usize] = i;
            to[iu] = u;
            if j != NONE && j != i && to[j as usize] == NONE && !self.plan(dist, j, from, to) {
                continue;
            }
            // Pull the swap partner into the cell we leave.
            if swap_agent != NONE
                && to[swap_agent as usize] == NONE
                && self.occ_next[v as usize] == NONE
            {
                self.occ_next[v as usize] = swap_agent;
                to[swap_agent as usize] = v;
            }
            return true;
        }
        self.occ_next[v as usize] = i;
        to[iu] = v;
        false
    }

    /// The agent to swap with, if agent `i` (at `v`, wanting `best`) faces a head-on situation
    /// that pushing alone cannot resolve; [`NONE`] otherwise.
    fn swap_agent<D: AgentDistances>(
        &self,
        dist: &D,
        i: u32,
        v: Cell,
        best: Cell,
        from: &[Cell],
        to: &[Cell],
    ) -> u32 {
        if best == v {
            return NONE;
        }
        let j = self.occ_now[best as usize];
        if j != NONE
            && to[j as usize] == NONE
            && self.swap_required(dist, i, j, v, from[j as usize])
            && self.swap_possible(dist, from[j as usize], v)
        {
            return j;
        }
        // Clearing: a neighbour behind us that wants to go where we are heading.
        for &u in self.grid.neighbors(v) {
            let k = self.occ_now[u as usize];
            if k != NONE
                && best != from[k as usize]
                && self.swap_required(dist, k, i, v, best)
                && self.swap_possible(dist, best, v)
            {
                return k;
            }
        }
        NONE
    }

    /// Is `c` a dead-end cell holding an agent already at its goal (it need not move)?
    #[inline]
    fn parked<D: AgentDistances>(&self, dist: &D, c: Cell) -> bool {
        let a = self.occ_now[c as usize];
        self.grid.degree(c) == 1 && a != NONE && dist.goal(a as usize) == c
    }

    /// The single way on from `puller` away from `pusher` (ignoring parked dead ends), or the
    /// count of ways when it is not exactly one.
    #[inline]
    fn way_on<D: AgentDistances>(&self, dist: &D, pusher: Cell, puller: Cell) -> (usize, Cell) {
        let mut n = 0;
        let mut next = NONE;
        for &u in self.grid.neighbors(puller) {
            if u != pusher && !self.parked(dist, u) {
                n += 1;
                next = u;
            }
        }
        (n, next)
    }

    /// Simulates `pusher` (at `pusher_at`) pushing `puller` (at `puller_at`) along a corridor:
    /// is a swap needed for both to make progress?
    fn swap_required<D: AgentDistances>(
        &self,
        dist: &D,
        pusher: u32,
        puller: u32,
        pusher_at: Cell,
        puller_at: Cell,
    ) -> bool {
        let (pu, pl) = (pusher as usize, puller as usize);
        let (mut a, mut b) = (pusher_at, puller_at);
        let mut steps = 0usize;
        while dist.dist(pu, b) < dist.dist(pu, a) {
            let (n, next) = self.way_on(dist, a, b);
            if n >= 2 {
                return false; // the puller can step aside
            }
            if n == 0 {
                break;
            }
            a = b;
            b = next;
            steps += 1;
            if steps > self.grid.size() {
                break;
            }
        }
        dist.dist(pl, a) < dist.dist(pl, b)
            && (dist.dist(pu, a) == 0 || dist.dist(pu, b) < dist.dist(pu, a))
    }

    /// Can the two agents pass each other: going back from `puller_at` away from `pusher_at`,
    /// is there a branch before a dead end?
    fn swap_possible<D: AgentDistances>(&self, dist: &D, pusher_at: Cell, puller_at: Cell) -> bool {
        let (mut a, mut b) = (pusher_at, puller_at);
        let mut steps = 0usize;
        while b != pusher_at {
            let (n, next) = self.way_on(dist, a, b);
            if n >= 2 {
                return true;
            }
            if n == 0 {
                return false;
            }
            a = b;
            b = next;
            steps += 1;
            if steps > self.grid.size() {
                return false;
            }
        }
        false
    }
}
