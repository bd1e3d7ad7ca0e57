//! Windowed large-neighbourhood search over the next `h` steps (after WPPL, Jiang et al. 2024,
//! the LoRR 2023 winners' planner): PIBT rolled out for `h` steps gives every robot a window
//! path; then, while time remains, a few robots at a time are replanned by space-time A*
//! against the others' window paths, and the new paths are kept when they lower the summed
//! window cost. Only the first step of each path is executed; the next step starts afresh.
//!
//! A robot's window cost is the step it first reaches its goal, or `h` plus its cost-to-go
//! from where the window leaves it. Paths are free of vertex and edge conflicts at every step
//! of the window, so the executed step is legal by construction.

use super::motion::{Action, AgentState, MotionModel, direction_to, neighbor, turns};
use crate::distance::{DistanceCache, Table, cost_or_far};
use crate::mapf::lacam::IdentityMap;
use courier_core::GridMap;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Instant;

const NONE: u32 = u32::MAX;
/// [`distance::FAR`](crate::distance::FAR) as a step cost.
const FAR: u64 = crate::distance::FAR as u64;

/// What one step of planning needs to price a robot's state.
pub(super) struct Costs<'a> {
    pub map: &'a GridMap,
    pub model: MotionModel,
    pub goals: &'a [Option<u32>],
    pub tables: &'a [Option<Arc<Table>>],
    pub cache: &'a DistanceCache,
}

/// Steps from `s` to the goal of `table`: exact where the table is heading-aware (turns
/// included), else the best first move's turns + 1 + `dist` of the cell it enters
/// (4-connected: `dist` of `s`'s cell, a lower bound). [`FAR`] stands for unreachable.
pub(super) fn cost_to_go(
    map: &GridMap,
    model: MotionModel,
    table: Option<&Arc<Table>>,
    s: AgentState,
    dist: impl Fn(u32) -> u64,
) -> u64 {
    if let Some(d) = table.and_then(|t| t.get_heading(s.loc, s.dir)) {
        return cost_or_far(d);
    }
    match model {
        MotionModel::FourConnected => dist(s.loc),
        MotionModel::Rotation => (0..4u8)
            .filter_map(|k| neighbor(map, s.loc, k).map(|u| turns(s.dir, k) as u64 + 1 + dist(u)))
            .min()
            .unwrap_or(FAR),
    }
}

impl Costs<'_> {
    /// Grid distance of cell `c` to robot `i`'s goal (true table if held, else Manhattan).
    fn dist(&self, i: usize, c: u32) -> u64 {
        match (self.goals[i], &self.tables[i]) {
            (Some(_), Some(t)) => cost_or_far(t.get(c)),
            (Some(g), None) => self.cache.manhattan(c, g) as u64,
            (None, _) => 0,
        }
    }

    /// Lower bound on the steps robot `i` needs from `s` to its goal (0 without a goal).
    pub fn to_go(&self, i: usize, s: AgentState) -> u64 {
        match self.goals[i] {
            None => 0,
            Some(g) if g == s.loc => 0,
            Some(_) => cost_to_go(self.map, self.model, self.tables[i].as_ref(), s, |c| {
                self.dist(i, c)
            }),
        }
    }

    /// Window cost of robot `i`'s path (`path[t]` = state at step t, t = 0..=h).
    fn path_cost(&self, i: usize, path: &[AgentState]) -> u64 {
        let Some(g) = self.goals[i] else { return 0 };
        match path.iter().position(|s| s.loc == g) {
            Some(t) => t as u64,
            None => {
                let last = path.len() - 1;
                last as u64 + self.to_go(i, path[last])
            }
        }
    }

    /// States reachable from `s` in one step (waiting first), ignoring other robots.
    fn successors(&self, s: AgentState, out: &mut Vec<AgentState>) {
        out.clear();
        out.push(s);
        match self.model {
            MotionModel::FourConnected => {
                for k in 0..4 {
                    if let Some(loc) = neighbor(self.map, s.loc, k) {
                        out.push(AgentState { loc, dir: 0 });
                    }
                }
            }
            MotionModel::Rotation => {
                if let Some(loc) = neighbor(self.map, s.loc, s.dir) {
                    out.push(AgentState { loc, dir: s.dir });
                }
                out.push(AgentState {
                    loc: s.loc,
                    dir: (s.dir + 1) % 4,
                });
                out.push(AgentState {
                    loc: s.loc,
                    dir: (s.dir + 3) % 4,
                });
            }
        }
    }
}

/// The action that takes a robot from `a` to `b` (one step of a window path).
fn action_between(model: MotionModel, width: usize, a: AgentState, b: AgentState) -> Action {
    if a.loc != b.loc {
        match model {
            MotionModel::Rotation => Action::Forward,
            MotionModel::FourConnected => {
                direction_to(width, a.loc, b.loc).map_or(Action::Wait, Action::Move)
            }
        }
    } else if a.dir == b.dir || model == MotionModel::FourConnected {
        Action::Wait
    } else if b.dir == (a.dir + 1) % 4 {
        Action::Clockwise
    } else {
        Action::CounterClockwise
    }
}

/// LNS statistics of the last step (the tests check the search with them).
#[derive(Debug, Clone, Copy, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) struct LnsStats {
    pub iterations: usize,
    pub accepted: usize,
    /// Summed window cost after the PIBT rollout and after the search.
    pub initial_cost: u64,
    pub final_cost: u64,
}

/// An open-list entry: (f, deeper first, fewer moves, node index).
type OpenEntry = (u64, Reverse<u16>, u16, u32);

/// The search's buffers, kept between searches so that a search allocates only its path.
#[derive(Debug, Default)]
struct Scratch {
    nodes: Vec<Node>,
    best: IdentityMap<u32>,
    open: BinaryHeap<Reverse<OpenEntry>>,
    succ: Vec<AgentState>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    s: AgentState,
    t: u16,
    reached: bool,
    g: u32,
    moves: u16,
    parent: u32,
}

/// The window search with its buffers (kept across steps).
#[derive(Debug)]
pub(super) struct WindowLns {
    h: usize,
    cells: usize,
    /// `res[t * cells + loc]`: the robot at `loc` at step `t` of the window.
    res: Vec<u32>,
    paths: Vec<Vec<AgentState>>,
    /// Each robot's state now (its paths' first state).
    starts: Vec<AgentState>,
    costs: Vec<u64>,
    lower: Vec<u64>,
    goals: Vec<Option<u32>>,
    /// A robot's path holds its cells only until it reaches its goal (at least one step): it
    /// gets its next errand there and leaves, so it does not block the rest of the window.
    release_at_goal: bool,
    pub stats: LnsStats,
}

impl WindowLns {
    pub fn new(map: &GridMap, h: usize, release_at_goal: bool) -> Self {
        let cells = map.width * map.height;
        Self {
            h: h.max(1),
            cells,
            res: vec![NONE; (h.max(1) + 1) * cells],
            paths: Vec::new(),
            starts: Vec::new(),
            costs: Vec::new(),
            lower: Vec::new(),
            goals: Vec::new(),
            release_at_goal,
            stats: LnsStats::default(),
        }
    }

    pub fn window(&self) -> usize {
        self.h
    }

    /// The last step at which robot `i`'s path holds its cell.
    fn held_until(&self, i: usize) -> usize {
        let arrival = match self.goals[i] {
            Some(g) if self.release_at_goal => self.paths[i].iter().position(|s| s.loc == g),
            _ => None,
        };
        arrival.map_or(self.h, |t| t.clamp(1, self.h))
    }

    fn reserve(&mut self, i: usize) {
        let until = self.held_until(i);
        for (t, s) in self.paths[i].iter().enumerate().take(until + 1) {
            self.res[t * self.cells + s.loc as usize] = i as u32;
        }
    }

    fn unreserve(&mut self, i: usize) {
        let until = self.held_until(i);
        for (t, s) in self.paths[i].iter().enumerate().take(until + 1) {
            let r = &mut self.res[t * self.cells + s.loc as usize];
            if *r == i as u32 {
                *r = NONE;
            }
        }
    }

    /// Improves the `rollout` window paths (one per robot, `h + 1` states each, conflict-free)
    /// for at most `max_iterations` neighbourhoods of `size` robots or until `deadline`, and
    /// returns each robot's first action.
    #[allow(clippy::too_many_arguments)]
    pub fn improve(
        &mut self,
        c: &Costs,
        rollout: Vec<Vec<AgentState>>,
        size: usize,
        max_iterations: usize,
        deadline: Option<Instant>,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Action> {
        let n = rollout.len();
        self.starts = rollout.iter().map(|p| p[0]).collect();
        self.goals = c.goals.to_vec();
        self.paths = rollout;
        for i in 0..n {
            self.reserve(i);
        }
        self.costs = (0..n).map(|i| c.path_cost(i, &self.paths[i])).collect();
        self.lower = (0..n)
            .map(|i| c.to_go(i, self.paths[i][0]).min(self.costs[i]))
            .collect();
        let mut total: u64 = self.costs.iter().sum();
        self.stats = LnsStats {
            initial_cost: total,
            ..Default::default()
        };
        let mut buf = Scratch::default();
        let mut members = Vec::new();
        let mut old = Vec::new();
        for it in 0..max_iterations {
            if it % 8 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            // Seed: a robot drawn with probability proportional to its delay.
            let delay_sum: u64 = (0..n).map(|i| self.costs[i] - self.lower[i]).sum();
            if delay_sum == 0 {
                break;
            }
            self.stats.iterations += 1;
            let mut pick = rng.random_range(0..delay_sum);
            let seed = (0..n)
                .find(|&i| {
                    let d = self.costs[i] - self.lower[i];
                    if pick < d {
                        true
                    } else {
                        pick -= d;
                        false
                    }
                })
                .unwrap_or(0);
            // The robots in its way: those on the cells of its best path ignoring everyone.
            members.clear();
            members.push(seed);
            if let Some(ideal) = self.search(c, seed, false, &mut buf) {
                'collect: for s in &ideal {
                    for t in 0..=self.h {
                        let r = self.res[t * self.cells + s.loc as usize];
                        if r != NONE && !members.contains(&(r as usize)) {
                            members.push(r as usize);
                            if members.len() >= size {
                                break 'collect;
                            }
                        }
                    }
                }
            }
            if members.len() < 2 {
                continue;
            }
            // Repair: replan the members in random order against everyone else; keep the
            // new paths only if they lower the summed cost.
            let before: u64 = members.iter().map(|&i| self.costs[i]).sum();
            old.clear();
            for &i in &members {
                self.unreserve(i);
                old.push((i, std::mem::take(&mut self.paths[i]), self.costs[i]));
            }
            members.shuffle(rng);
            let mut after = 0;
            let mut complete = true;
            for &i in &members {
                let Some(p) = self.search(c, i, true, &mut buf) else {
                    complete = false;
                    break;
                };
                self.costs[i] = c.path_cost(i, &p);
                after += self.costs[i];
                self.paths[i] = p;
                self.reserve(i);
            }
            if complete && after < before {
                total = total - before + after;
                self.stats.accepted += 1;
            } else {
                for &i in &members {
                    self.unreserve(i);
                }
                for (i, p, cost) in old.drain(..) {
                    self.paths[i] = p;
                    self.costs[i] = cost;
                    self.reserve(i);
                }
            }
        }
        self.stats.final_cost = total;
        let actions = (0..n)
            .map(|i| action_between(c.model, c.map.width, self.paths[i][0], self.paths[i][1]))
            .collect();
        for i in 0..n {
            self.unreserve(i);
        }
        actions
    }

    /// Space-time A* for robot `i` over the window from its path's first state; with
    /// `avoid`, around the other robots' reserved paths (vertex and edge conflicts).
    fn search(
        &self,
        c: &Costs,
        i: usize,
        avoid: bool,
        scratch: &mut Scratch,
    ) -> Option<Vec<AgentState>> {
        let start = self.starts[i];
        let goal = c.goals[i];
        let Scratch {
            nodes,
            best,
            open,
            succ,
        } = scratch;
        nodes.clear();
        best.clear();
        open.clear();
        let key = |s: AgentState, t: u16, reached: bool| -> u64 {
            (((t as u64 * self.cells as u64 + s.loc as u64) * 4 + s.dir as u64) << 1)
                | reached as u64
        };
        let reached0 = goal.is_none_or(|g| g == start.loc);
        nodes.push(Node {
            s: start,
            t: 0,
            reached: reached0,
            g: 0,
            moves: 0,
            parent: NONE,
        });
        let h0 = if reached0 { 0 } else { c.to_go(i, start) };
        open.push(Reverse((h0, Reverse(0), 0, 0)));
        best.insert(key(start, 0, reached0), 0);
        while let Some(Reverse((_, _, _, idx))) = open.pop() {
            let n = nodes[idx as usize];
            if best.get(&key(n.s, n.t, n.reached)) != Some(&idx) {
                continue;
            }
            let released = self.release_at_goal && goal.is_some() && n.reached && n.t >= 1;
            if n.t as usize == self.h || released {
                let mut path = vec![n.s; self.h + 1];
                let mut k = idx;
                while k != NONE {
                    let m = nodes[k as usize];
                    path[m.t as usize] = m.s;
                    k = m.parent;
                }
                return Some(path);
            }
            let t1 = n.t as usize + 1;
            c.successors(n.s, succ);
            for &s in succ.iter() {
                if avoid {
                    let r = self.res[t1 * self.cells + s.loc as usize];
                    if r != NONE && r != i as u32 {
                        continue;
                    }
                    if s.loc != n.s.loc {
                        let b = self.res[n.t as usize * self.cells + s.loc as usize];
                        if b != NONE
                            && b != i as u32
                            && self.res[t1 * self.cells + n.s.loc as usize] == b
                        {
                            continue;
                        }
                    }
                }
                let reached = n.reached || goal == Some(s.loc);
                let g = if n.reached { n.g } else { t1 as u32 };
                let f = g as u64 + if reached { 0 } else { c.to_go(i, s) };
                let k = key(s, t1 as u16, reached);
                let moves = n.moves + u16::from(s != n.s);
                if let Some(&o) = best.get(&k) {
                    let on = nodes[o as usize];
                    if (on.g, on.moves) <= (g, moves) {
                        continue;
                    }
                }
                let id = nodes.len() as u32;
                nodes.push(Node {
                    s,
                    t: t1 as u16,
                    reached,
                    g,
                    moves,
                    parent: idx,
                });
                best.insert(k, id);
                open.push(Reverse((f, Reverse(t1 as u16), moves, id)));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapf::Grid;
    use rand::SeedableRng;

    /// True if the window paths are free of vertex and edge conflicts while they hold their
    /// cells (`until[i]`: robot i's last held step) and every step is a legal move of `model`.
    fn conflict_free(
        map: &GridMap,
        model: MotionModel,
        paths: &[Vec<AgentState>],
        until: &[usize],
    ) -> bool {
        let h = paths[0].len() - 1;
        for t in 0..=h {
            let mut cells: Vec<u32> = (0..paths.len())
                .filter(|&i| until[i] >= t)
                .map(|i| paths[i][t].loc)
                .collect();
            cells.sort_unstable();
            if cells.windows(2).any(|w| w[0] == w[1]) {
                return false;
            }
        }
        let c = Costs {
            map,
            model,
            goals: &[],
            tables: &[],
            cache: &DistanceCache::new(Grid::new(map).unwrap(), 0),
        };
        let mut succ = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            for t in 0..h {
                c.successors(p[t], &mut succ);
                if !succ.contains(&p[t + 1]) {
                    return false;
                }
                for (j, q) in paths.iter().enumerate() {
                    let held = until[i] > t && until[j] > t;
                    let swap = q[t].loc == p[t + 1].loc && q[t + 1].loc == p[t].loc;
                    if i != j && held && p[t].loc != p[t + 1].loc && swap {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The cost-to-go counts every turn where the table is heading-aware, and only the
    /// first move's turns where it is not (a lower bound).
    #[test]
    fn cost_to_go_counts_turns_with_heading_tables() {
        let map = GridMap::new(5, 5, vec![true; 25]);
        let goal = 2 * 5 + 4; // (4, 2)
        let goals = [Some(goal)];
        // At (0, 0) facing west: turn south, 2 forward, turn east, 4 forward = 8 steps.
        let west = AgentState { loc: 0, dir: 2 };
        let mut want = Vec::new();
        for headings in [true, false] {
            let mut cache = DistanceCache::new(Grid::new(&map).unwrap(), 1 << 20);
            cache.set_headings(headings);
            let tables = [cache.ensure(goal)];
            let c = Costs {
                map: &map,
                model: MotionModel::Rotation,
                goals: &goals,
                tables: &tables,
                cache: &cache,
            };
            want.push(c.to_go(0, west));
            assert_eq!(c.to_go(0, AgentState { loc: goal, dir: 1 }), 0);
        }
        // Without headings: 1 turn + 1 step to (0, 1) + 5 cells from there.
        assert_eq!(want, [8, 7]);
    }

    /// From an all-wait start (legal but poor), the search must lower the cost a lot and keep
    /// the window paths legal, in both motion models, with and without releasing cells at goals.
    #[test]
    fn lns_improves_all_wait_paths_and_keeps_them_conflict_free() {
        // 12 x 8 with a wall that has two gaps.
        let (w, hgt) = (12usize, 8usize);
        let free: Vec<bool> = (0..w * hgt)
            .map(|k| !(k % w == 5 && k / w != 2 && k / w != 6))
            .collect();
        let map = GridMap::new(w, hgt, free.clone());
        let free_cells: Vec<u32> = (0..(w * hgt) as u32)
            .filter(|&k| free[k as usize])
            .collect();
        let cases = [MotionModel::Rotation, MotionModel::FourConnected]
            .into_iter()
            .flat_map(|m| [(m, false), (m, true)]);
        for (model, release) in cases {
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let mut cells = free_cells.clone();
            cells.shuffle(&mut rng);
            let n = 20;
            let starts: Vec<AgentState> = cells[..n]
                .iter()
                .map(|&loc| AgentState { loc, dir: 0 })
                .collect();
            let goals: Vec<Option<u32>> = cells[n..2 * n].iter().map(|&g| Some(g)).collect();
            let mut cache = DistanceCache::new(Grid::new(&map).unwrap(), 1 << 20);
            let tables: Vec<_> = goals.iter().map(|g| cache.ensure(g.unwrap())).collect();
            let c = Costs {
                map: &map,
                model,
                goals: &goals,
                tables: &tables,
                cache: &cache,
            };
            let h = 8;
            let waits: Vec<Vec<AgentState>> = starts.iter().map(|&s| vec![s; h + 1]).collect();
            let mut lns = WindowLns::new(&map, h, release);
            let actions = lns.improve(&c, waits, 6, 500, None, &mut rng);
            let s = lns.stats;
            assert!(s.accepted > 0, "{s:?}");
            assert!(s.final_cost * 10 < s.initial_cost * 8, "{s:?}");
            let recomputed: u64 = (0..n).map(|i| c.path_cost(i, &lns.paths[i])).sum();
            assert_eq!(recomputed, s.final_cost);
            assert!(lns.paths.iter().zip(&starts).all(|(p, s)| p[0] == *s));
            let until: Vec<usize> = (0..n).map(|i| lns.held_until(i)).collect();
            assert_eq!(until.iter().any(|&u| u < h), release, "{model:?}");
            assert!(
                conflict_free(&map, model, &lns.paths, &until),
                "{model:?} {release}"
            );
            for (i, a) in actions.iter().enumerate() {
                let next = crate::lifelong::apply(&map, model, starts[i], *a).unwrap();
                assert_eq!(next.loc, lns.paths[i][1].loc);
            }
            assert!(
                lns.res.iter().all(|&r| r == NONE),
                "reservations left behind"
            );
        }
    }
}
