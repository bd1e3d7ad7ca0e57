//! Windowed PIBT over *operations* (after EPIBT, the approach of the LoRR 2024 winners): each
//! robot picks a short sequence of `W` actions (e.g. "turn, forward, forward") instead of one
//! action, reserving the cells it occupies at steps 1..=W. PIBT's priority inheritance works on
//! whole operations: an operation that crosses the cell of a robot not yet planned makes that
//! robot plan (recursively) an operation that keeps clear of it; if it cannot, everything the
//! branch planned is undone and the next operation is tried. Only the first action of each
//! operation is executed; the next step plans again.
//!
//! Under the rotation model this is what one-step PIBT lacks: a pushed robot can answer "turn,
//! then leave" and its pusher "wait, then enter", so pushes work although a robot must turn
//! before it moves sideways.
//!
//! Every returned action set is conflict-free: a robot's operation is checked against all
//! reservations (vertex and swap conflicts at every step of the window), a robot not yet
//! planned can always stay (nobody reserves its cell without planning it first), and a root
//! robot whose search fails or runs out of budget stays.

use super::motion::{Action, AgentState, MotionModel, apply, neighbor, turns};
use crate::distance::{DistanceCache, Table, UNREACHABLE};
use courier_core::GridMap;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Instant;

const NONE: u32 = u32::MAX;
const UNPLANNED: u8 = 0;
const IN_PROGRESS: u8 = 1;
const DONE: u8 = 2;

/// One candidate operation of a robot, with its trajectory and rank.
#[derive(Debug, Clone)]
struct Cand {
    op: u16,
    /// Cells at steps 0..=W.
    traj: Vec<u32>,
    key: (u64, u64, u32, u32),
}

/// The operation planner (state reused across steps).
#[derive(Debug)]
pub struct Epibt {
    w: usize,
    ops: Vec<Vec<Action>>,
    cells: usize,
    /// `res[(t - 1) * cells + c]`: robot holding cell `c` at step t (1..=W).
    res: Vec<u32>,
    occ: Vec<u32>,
}

struct Ctx<'a> {
    map: &'a GridMap,
    model: MotionModel,
    states: &'a [AgentState],
    goals: &'a [Option<u32>],
    tables: &'a [Option<Arc<Table>>],
    cache: &'a DistanceCache,
    rng: &'a mut ChaCha8Rng,
    status: Vec<u8>,
    chosen: Vec<u32>,
    traj: Vec<Vec<u32>>,
    cands: Vec<Option<Vec<Cand>>>,
    trail: Vec<usize>,
    budget: usize,
    /// Actions of robots set aside by [`Epibt::prepare_blocker`].
    forced: Vec<Option<Action>>,
}

impl Epibt {
    /// Operations of `w` steps (1..=4) for `model`, without duplicates (two operations with
    /// the same cells at every step and the same final orientation) and without turn pairs
    /// that cancel out.
    pub fn new(map: &GridMap, model: MotionModel, w: usize) -> Self {
        let w = w.clamp(1, 4);
        let alphabet: Vec<Action> = match model {
            MotionModel::Rotation => vec![
                Action::Forward,
                Action::Clockwise,
                Action::CounterClockwise,
                Action::Wait,
            ],
            MotionModel::FourConnected => {
                let mut a: Vec<Action> = (0..4).map(Action::Move).collect();
                a.push(Action::Wait);
                a
            }
        };
        let mut ops: Vec<Vec<Action>> = vec![vec![]];
        for _ in 0..w {
            ops = ops
                .into_iter()
                .flat_map(|p| {
                    alphabet.iter().map(move |&a| {
                        let mut q = p.clone();
                        q.push(a);
                        q
                    })
                })
                .collect();
        }
        ops.retain(|op| {
            !op.windows(2).any(|p| {
                matches!(
                    (p[0], p[1]),
                    (Action::Clockwise, Action::CounterClockwise)
                        | (Action::CounterClockwise, Action::Clockwise)
                )
            })
        });
        let cells = map.width * map.height;
        Self {
            w,
            ops,
            cells,
            res: vec![NONE; w * cells],
            occ: vec![NONE; cells],
        }
    }

    /// Actions for all robots, planned in `order` (highest priority first). `budget_per_root`
    /// bounds the operations tried in one root's search (reproducible); past `deadline` the
    /// robots not planned yet wait.
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &mut self,
        map: &GridMap,
        model: MotionModel,
        states: &[AgentState],
        goals: &[Option<u32>],
        tables: &[Option<Arc<Table>>],
        cache: &DistanceCache,
        order: &[usize],
        rng: &mut ChaCha8Rng,
        budget_per_root: usize,
        deadline: Option<Instant>,
    ) -> Vec<Action> {
        let n = states.len();
        for (i, s) in states.iter().enumerate() {
            self.occ[s.loc as usize] = i as u32;
        }
        let mut ctx = Ctx {
            map,
            model,
            states,
            goals,
            tables,
            cache,
            rng,
            status: vec![UNPLANNED; n],
            chosen: vec![NONE; n],
            traj: vec![Vec::new(); n],
            cands: vec![None; n],
            trail: Vec::new(),
            budget: 0,
            forced: vec![None; n],
        };
        for (k, &i) in order.iter().enumerate() {
            if ctx.status[i] != UNPLANNED {
                continue;
            }
            if k % 32 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            ctx.budget = budget_per_root;
            ctx.trail.clear();
            if !self.pibt(&mut ctx, i) {
                // Nobody reserved i's cell without planning i: staying is free. It turns
                // as its best operation that starts in place would (a changed heading can
                // open a way next step; always waiting would keep a jam as it is).
                let stay = vec![states[i].loc; self.w + 1];
                self.reserve(i, &stay);
                ctx.traj[i] = stay;
                ctx.status[i] = DONE;
                ctx.chosen[i] = ctx.cands[i]
                    .as_ref()
                    .and_then(|c| c.iter().find(|c| c.traj[1] == states[i].loc))
                    .map_or(NONE, |c| c.op as u32);
                self.prepare_blocker(&mut ctx, i);
            }
        }
        let mut actions = vec![Action::Wait; n];
        for i in 0..n {
            if ctx.status[i] == DONE && ctx.chosen[i] != NONE {
                actions[i] = self.ops[ctx.chosen[i] as usize][0];
            }
            if let Some(a) = ctx.forced[i] {
                actions[i] = a;
            }
            if ctx.status[i] == DONE {
                for t in 1..=self.w {
                    let c = ctx.traj[i][t] as usize;
                    self.res[(t - 1) * self.cells + c] = NONE;
                }
            }
            self.occ[states[i].loc as usize] = NONE;
        }
        actions
    }

    /// After root `i` failed: the first robot not yet planned on its best operation's cells
    /// stays and turns toward a neighbour other than `i`'s cell, preferring a free one, so a
    /// way can open over the next steps (as a pushed robot does in one-step PIBT; without it
    /// jams that need more than the window to clear never do).
    fn prepare_blocker(&mut self, ctx: &mut Ctx, i: usize) {
        if ctx.model != MotionModel::Rotation {
            return;
        }
        let Some(best) = ctx.cands[i].as_ref().and_then(|c| c.first()) else {
            return;
        };
        let Some(j) = best.traj.iter().skip(1).find_map(|&c| {
            let j = self.occ[c as usize];
            (j != NONE && j as usize != i && ctx.status[j as usize] == UNPLANNED)
                .then_some(j as usize)
        }) else {
            return;
        };
        let s = ctx.states[j];
        let from = ctx.states[i].loc;
        let turn = (0..4u8)
            .filter_map(|k| neighbor(ctx.map, s.loc, k).map(|u| (k, u)))
            .filter(|&(k, u)| k != s.dir && u != from)
            .min_by_key(|&(k, u)| {
                let busy = self.occ[u as usize] != NONE || self.res[u as usize] != NONE;
                (busy, turns(s.dir, k), k)
            })
            .map(|(k, _)| super::motion::turn_toward(s.dir, k));
        let stay = vec![s.loc; self.w + 1];
        self.reserve(j, &stay);
        ctx.traj[j] = stay;
        ctx.status[j] = DONE;
        ctx.chosen[j] = NONE;
        ctx.forced[j] = turn;
    }

    fn reserve(&mut self, i: usize, traj: &[u32]) {
        for (t, &c) in traj.iter().enumerate().skip(1) {
            self.res[(t - 1) * self.cells + c as usize] = i as u32;
        }
    }

    fn unreserve(&mut self, i: usize, traj: &[u32]) {
        for (t, &c) in traj.iter().enumerate().skip(1) {
            let r = &mut self.res[(t - 1) * self.cells + c as usize];
            if *r == i as u32 {
                *r = NONE;
            }
        }
    }

    /// Robot holding cell `c` at step `t` (0 = now: planned or in-progress robots only).
    fn holder(&self, ctx: &Ctx, t: usize, c: u32) -> u32 {
        if t == 0 {
            let j = self.occ[c as usize];
            if j != NONE && ctx.status[j as usize] != UNPLANNED {
                j
            } else {
                NONE
            }
        } else {
            self.res[(t - 1) * self.cells + c as usize]
        }
    }

    /// True if `traj` of robot `i` collides with a reservation (vertex or swap).
    fn conflicts(&self, ctx: &Ctx, i: usize, traj: &[u32]) -> bool {
        let me = i as u32;
        for t in 1..traj.len() {
            let c = traj[t];
            let r = self.res[(t - 1) * self.cells + c as usize];
            if r != NONE && r != me {
                return true;
            }
            let prev = traj[t - 1];
            if prev != c {
                let j = self.holder(ctx, t - 1, c);
                if j != NONE && j != me && self.res[(t - 1) * self.cells + prev as usize] == j {
                    return true;
                }
            }
        }
        false
    }

    fn pibt(&mut self, ctx: &mut Ctx, i: usize) -> bool {
        ctx.status[i] = IN_PROGRESS;
        ctx.trail.push(i);
        let mark = ctx.trail.len();
        if ctx.cands[i].is_none() {
            let c = self.rank(ctx, i);
            ctx.cands[i] = Some(c);
        }
        let cands = ctx.cands[i].take().unwrap_or_default();
        let mut ok = false;
        for cand in &cands {
            if ctx.budget == 0 {
                break;
            }
            ctx.budget -= 1;
            if self.conflicts(ctx, i, &cand.traj) {
                continue;
            }
            self.reserve(i, &cand.traj);
            ctx.traj[i] = cand.traj.clone();
            ctx.chosen[i] = cand.op as u32;
            let mut good = true;
            for t in 1..cand.traj.len() {
                let j = self.occ[cand.traj[t] as usize];
                if j != NONE
                    && j as usize != i
                    && ctx.status[j as usize] == UNPLANNED
                    && !self.pibt(ctx, j as usize)
                {
                    good = false;
                    break;
                }
            }
            if good {
                ok = true;
                break;
            }
            // Undo the branch: every robot planned since, then this operation.
            while ctx.trail.len() > mark {
                let k = ctx.trail.pop().expect("trail is longer than mark");
                let tr = std::mem::take(&mut ctx.traj[k]);
                self.unreserve(k, &tr);
                ctx.status[k] = UNPLANNED;
                ctx.chosen[k] = NONE;
            }
            let tr = std::mem::take(&mut ctx.traj[i]);
            self.unreserve(i, &tr);
            ctx.chosen[i] = NONE;
        }
        ctx.cands[i] = Some(cands);
        if ok {
            ctx.status[i] = DONE;
        } else {
            ctx.status[i] = UNPLANNED;
            ctx.trail.pop();
        }
        ok
    }

    /// Distance of cell `c` to robot `i`'s goal.
    fn dist(ctx: &Ctx, i: usize, c: u32) -> u64 {
        match (ctx.goals[i], &ctx.tables[i]) {
            (Some(_), Some(t)) => match t.get(c) {
                UNREACHABLE => 1 << 20,
                d => d as u64,
            },
            (Some(g), None) => ctx.cache.manhattan(c, g) as u64,
            (None, _) => 0,
        }
    }

    /// Orientation-aware cost-to-go of robot `i` at `s` (0 at its goal).
    fn h(ctx: &Ctx, i: usize, s: AgentState) -> u64 {
        if ctx.goals[i] == Some(s.loc) {
            return 0;
        }
        match ctx.model {
            MotionModel::FourConnected => Self::dist(ctx, i, s.loc),
            MotionModel::Rotation => (0..4u8)
                .filter_map(|k| {
                    neighbor(ctx.map, s.loc, k)
                        .map(|u| turns(s.dir, k) as u64 + 1 + Self::dist(ctx, i, u))
                })
                .min()
                .unwrap_or(1 << 20),
        }
    }

    /// The legal operations of robot `i`, best first: reaching the goal sooner, else a lower
    /// cost-to-go at the window's end, then progress made earlier, then fewer cells now
    /// occupied by others, then at random.
    fn rank(&self, ctx: &mut Ctx, i: usize) -> Vec<Cand> {
        let s0 = ctx.states[i];
        let mut out = Vec::with_capacity(self.ops.len());
        let mut seen = std::collections::HashSet::new();
        'ops: for (k, op) in self.ops.iter().enumerate() {
            let mut s = s0;
            let mut traj = Vec::with_capacity(self.w + 1);
            traj.push(s.loc);
            let mut reached = None;
            let mut progress = 0u64;
            let mut busy = 0u32;
            for (t, &a) in op.iter().enumerate() {
                let Ok(n) = apply(ctx.map, ctx.model, s, a) else {
                    continue 'ops;
                };
                s = n;
                traj.push(s.loc);
                if reached.is_none() && ctx.goals[i] == Some(s.loc) {
                    reached = Some(t as u64 + 1);
                }
                progress += Self::h(ctx, i, s);
                let o = self.occ[s.loc as usize];
                if o != NONE && o as usize != i {
                    busy += 1;
                }
            }
            if !seen.insert((traj.clone(), s.dir)) {
                continue;
            }
            let primary = match (ctx.goals[i], reached) {
                (Some(_), Some(t)) => t,
                (Some(_), None) => self.w as u64 + Self::h(ctx, i, s),
                // No goal: stay out of the way, moving as little as possible.
                (None, _) => {
                    progress = traj.iter().filter(|&&c| c != s0.loc).count() as u64;
                    u64::from(s.loc != s0.loc)
                }
            };
            out.push(Cand {
                op: k as u16,
                traj,
                key: (primary, progress, busy, ctx.rng.random()),
            });
        }
        out.sort_by_key(|c| c.key);
        out
    }
}
