//! PIBT over *operations* (after EPIBT, Yukhnevich & Andreychuk, the approach of the LoRR 2024
//! winners): each robot picks a short sequence of `W` actions (e.g. "turn, forward, forward")
//! instead of one action, and holds the cells it passes at steps 1..=W. Only the first action
//! of each operation is executed; the next step plans again.
//!
//! Every robot starts the step holding the rest of the operation it held in the last step
//! (operation inheritance: the last step's plan, less the action just done, plus a wait), or
//! else its cell for the whole window ("stay"). Robots thus carry on with manoeuvres that
//! take several steps (turn, then leave; wait, then follow) unless a better one is found:
//! RANDOM-03/04 1864 / 1888 tasks without, 1906 / 2122 with it (the planner uses it in dense
//! fleets only: `PlannerParams::window_inherit_min_density`). In the first
//! pass robots plan in priority order, closest to their goal first (a robot about to finish
//! frees its task soonest); with an age priority ([`Epibt::with_age_priority`], dense fleets
//! only), robots that have held their goal too long go before them, so that robots pushed
//! away from their goals do not starve. A robot takes its best operation that collides with
//! nobody, or with exactly one robot that has not planned yet: it then takes that robot's
//! place and the displaced robot plans in turn, keeping clear of it (a chain of pushes,
//! undone link by link when its end finds no way). Operations that would displace two
//! robots, or a robot that has planned, are skipped. A robot whose search fails keeps what
//! it held and can still be displaced by a later robot; if that is "stay", at the end it
//! may turn in place toward its way. Robots without a goal plan last and move as little as
//! they can, unless they are restless ([`Epibt::with_restless_idle`], nearly full maps
//! only): then they move as early as they can, into whatever free cell they find.
//!
//! Then, while tries remain, an improvement phase re-plans robots drawn at random from those
//! with a goal: such a robot may displace any robot (which re-plans in turn, and so on), and
//! the change is kept only if the score — Σ weight × (value of staying − value of the held
//! operation), the weight falling with the robot's rank in the priority order — does not
//! fall.
//!
//! Under the rotation model this is what one-step PIBT lacks: a pushed robot can answer
//! "turn, then leave" and its pusher "wait, then enter".
//!
//! Every returned action set is conflict-free: each robot always holds one trajectory, and a
//! trajectory is only taken after it was checked against all others (vertex and swap
//! conflicts at every step of the window).

use super::motion::{Action, AgentState, MotionModel, apply};
use super::wlns::cost_to_go;
use crate::distance::{DistanceCache, Table, cost_or_far};
use courier_core::GridMap;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;
use std::time::Instant;

const NONE: u32 = u32::MAX;
/// Longest operation (steps). 6 steps (706 operations under the rotation model, against
/// 216) planned RANDOM-03 no better than 5 (990 against 991 tasks at step 360) at 2.5 times
/// the CPU.
const MAX_W: usize = 5;
/// A robot's cells at steps 0..=W; entries past W repeat the last cell. A fixed array, so
/// trying and keeping candidates does not allocate (malloc/free were ~15 % of GAME's planning).
type Traj = [u32; MAX_W + 1];

/// One candidate operation of a robot: its cells at steps 0..=W and its value (lower is
/// better, see [`Epibt::rank`]).
#[derive(Debug, Clone)]
struct Cand {
    op: u16,
    traj: Traj,
    /// Heading at the end.
    dir: u8,
    value: i64,
}

/// Scale of the cost-to-go in an operation's value; below it, ties break on the operation's
/// static order (moving earlier is better).
const STEP: i64 = 1024;
/// A robot without a goal: a step nearer the parking outweighs moving for the whole window.
const PARK_PULL: i64 = 8;
/// Operations tried at most in one improvement attempt.
const IMPROVE_TRIES: usize = 1000;

/// How hard one step's plan tries; counts, not times, so that runs are reproducible.
#[derive(Debug, Clone, Copy)]
pub struct Effort {
    /// Operations tried at most in one root robot's chain of pushes in the first pass.
    pub budget_per_root: usize,
    /// Improvement attempts after the first pass.
    pub improve_tries: usize,
}

/// The operation planner (state reused across steps).
#[derive(Debug)]
pub struct Epibt {
    w: usize,
    /// The operations; `ops[0]` waits throughout ("stay").
    ops: Vec<Vec<Action>>,
    /// Tie-break of each operation: higher for operations that move earlier.
    eager: Vec<i64>,
    /// `res[c * W + t - 1]`: robot holding cell `c` at step t (1..=W).
    res: Vec<u32>,
    /// Robot in each cell now (step 0).
    occ: Vec<u32>,
    /// `next_op[k]`: operation `k` without its first action and with a wait appended, if
    /// that is an operation too.
    next_op: Vec<Option<u16>>,
    /// Operation inheritance: robots start the step from the rest of their last operation.
    inherits: bool,
    /// Per robot, from the last plan: the pose it should have now and the rest of the
    /// operation it held, which it holds again at the start of this step.
    inherit: Vec<Option<(AgentState, u16)>>,
    /// See [`Self::with_age_priority`].
    age_priority: u32,
    /// See [`Self::with_restless_idle`].
    restless_idle: bool,
}

struct Ctx<'a> {
    map: &'a GridMap,
    model: MotionModel,
    states: &'a [AgentState],
    goals: &'a [Option<u32>],
    tables: &'a [Option<Arc<Table>>],
    cache: &'a DistanceCache,
    /// Distance to the parking of robots without a goal ([`super::park`]), if any.
    park: Option<Arc<Table>>,
    rng: &'a mut ChaCha8Rng,
    planned: Vec<bool>,
    /// Operation each robot holds (0 = stay), its trajectory and value.
    chosen: Vec<u16>,
    traj: Vec<Traj>,
    value: Vec<i64>,
    /// Value of staying, and the robot's weight in the score.
    stay: Vec<i64>,
    power: Vec<f64>,
    /// Σ power × (stay − value) over the robots: what the plan gains over waiting.
    score: f64,
    cands: Vec<Option<Vec<Cand>>>,
    budget: usize,
    /// Improvement attempts: robots already re-planned in the current attempt.
    visited: Vec<u32>,
    attempt: u32,
}

/// How a search for one robot ended.
#[derive(PartialEq)]
enum Outcome {
    /// It holds a new operation and the score did not fall: keep everything.
    Accepted,
    /// The chain ended but the score fell (or the budget ran out): undo everything.
    Rejected,
    /// No operation of this robot fits: the caller tries its next one.
    Failed,
}

/// True if the rotation-model operation `op` is worth trying: it does not end in turns
/// (the next step's plan decides those), does not turn back and forth or three times
/// without moving in between.
fn useful(op: &[Action]) -> bool {
    let is_turn = |a: &Action| matches!(a, Action::Clockwise | Action::CounterClockwise);
    if op
        .iter()
        .rev()
        .take_while(|a| **a != Action::Forward)
        .any(is_turn)
    {
        return false;
    }
    op.split(|a| *a == Action::Forward).all(|run| {
        let cw = run.iter().filter(|a| **a == Action::Clockwise).count();
        let ccw = run
            .iter()
            .filter(|a| **a == Action::CounterClockwise)
            .count();
        !(cw > 0 && ccw > 0) && cw + ccw <= 2
    })
}

impl Epibt {
    /// Operations of `w` steps (1..=5) for `model`: "stay" first, then the useful ones;
    /// `inherits`: with operation inheritance.
    pub fn new(map: &GridMap, model: MotionModel, w: usize, inherits: bool) -> Self {
        let w = w.clamp(1, MAX_W);
        let alphabet: Vec<Action> = match model {
            MotionModel::Rotation => vec![
                Action::Wait,
                Action::Forward,
                Action::Clockwise,
                Action::CounterClockwise,
            ],
            MotionModel::FourConnected => {
                let mut a = vec![Action::Wait];
                a.extend((0..4).map(Action::Move));
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
        // `ops[0]` is all waits (the alphabet starts with Wait).
        ops.retain(|op| model != MotionModel::Rotation || useful(op));
        // Moves early count most, waits and turns a little against.
        let weight = |op: &Vec<Action>| -> i64 {
            let late = |t: usize| (w - t) as i64;
            op.iter()
                .enumerate()
                .map(|(t, a)| match a {
                    Action::Forward | Action::Move(_) => 10 * late(t),
                    Action::Wait => -late(t),
                    _ => -2 * late(t),
                })
                .sum()
        };
        let mut by_weight: Vec<usize> = (0..ops.len()).collect();
        by_weight.sort_by_key(|&k| (weight(&ops[k]), k));
        let mut eager = vec![0; ops.len()];
        for (rank, &k) in by_weight.iter().enumerate() {
            eager[k] = rank as i64;
        }
        let index: std::collections::HashMap<&[Action], u16> = ops
            .iter()
            .enumerate()
            .map(|(k, op)| (op.as_slice(), k as u16))
            .collect();
        let next_op = ops
            .iter()
            .map(|op| {
                let mut rest = op[1..].to_vec();
                rest.push(Action::Wait);
                index.get(rest.as_slice()).copied()
            })
            .collect();
        let cells = map.width * map.height;
        Self {
            w,
            ops,
            eager,
            res: vec![NONE; w * cells],
            occ: vec![NONE; cells],
            next_op,
            inherits,
            inherit: Vec::new(),
            age_priority: 0,
            restless_idle: false,
        }
    }

    /// Robots that have held their goal for more than `steps` steps plan first, the longest
    /// waiting first (0: off).
    pub fn with_age_priority(mut self, steps: u32) -> Self {
        self.age_priority = steps;
        self
    }

    /// Steps a robot may hold one goal before it plans first (0: never).
    pub fn age_priority(&self) -> u32 {
        self.age_priority
    }

    /// Robots without a goal move as early as they can instead of as little as they can (in
    /// the first pass too, not only when pushed), so that the few free cells of a nearly
    /// full map keep travelling through the fleet.
    pub fn with_restless_idle(mut self, on: bool) -> Self {
        self.restless_idle = on;
        self
    }

    /// Whether robots without a goal move as early as they can.
    pub fn restless_idle(&self) -> bool {
        self.restless_idle
    }

    /// Steps of each operation.
    pub fn window(&self) -> usize {
        self.w
    }

    /// Whether robots start each step from the rest of their last operation.
    pub fn inherits(&self) -> bool {
        self.inherits
    }

    /// Actions for all robots, with `effort` (which stops at `deadline`).
    #[allow(clippy::too_many_arguments)]
    pub fn plan(
        &mut self,
        map: &GridMap,
        model: MotionModel,
        states: &[AgentState],
        goals: &[Option<u32>],
        tables: &[Option<Arc<Table>>],
        cache: &DistanceCache,
        park: Option<Arc<Table>>,
        tie: &[u32],
        waited: &[u32],
        rng: &mut ChaCha8Rng,
        effort: Effort,
        deadline: Option<Instant>,
    ) -> Vec<Action> {
        let n = states.len();
        let mut ctx = Ctx {
            map,
            model,
            states,
            goals,
            tables,
            cache,
            park,
            rng,
            planned: vec![false; n],
            chosen: vec![0; n],
            traj: states.iter().map(|s| [s.loc; MAX_W + 1]).collect(),
            value: vec![0; n],
            stay: vec![0; n],
            power: vec![0.0; n],
            score: 0.0,
            cands: vec![None; n],
            budget: 0,
            visited: vec![0; n],
            attempt: 0,
        };
        // Closest to its goal first: a robot about to finish frees its task soonest. But a
        // robot that has waited too long for its goal goes before them, the longest first,
        // so that the robots pushed away from their goals are not starved.
        let mut order: Vec<(bool, bool, i64, u32, usize, i64)> = (0..n)
            .map(|i| {
                let h = Self::h(&ctx, i, states[i]) as i64;
                let w = waited.get(i).copied().unwrap_or(0);
                let late = self.age_priority > 0 && w > self.age_priority;
                let key = if late { -i64::from(w) } else { h };
                (goals[i].is_none(), !late, key, tie[i], i, h)
            })
            .collect();
        order.sort_unstable();
        for (k, &(idle, _, _, _, i, h)) in order.iter().enumerate() {
            ctx.stay[i] = if idle { 0 } else { h * STEP };
            ctx.value[i] = ctx.stay[i];
            if !idle {
                let p = (n - k) as f64 / n as f64;
                ctx.power[i] = p * p;
            }
        }
        for (i, s) in states.iter().enumerate() {
            self.occ[s.loc as usize] = i as u32;
        }
        self.hold_start(&mut ctx);
        let out_of_time =
            |k: usize| k.is_multiple_of(32) && deadline.is_some_and(|d| Instant::now() >= d);
        for (k, &(_, _, _, _, i, _)) in order.iter().enumerate() {
            if out_of_time(k) {
                break;
            }
            if ctx.planned[i] {
                continue;
            }
            ctx.budget = effort.budget_per_root;
            let before = ctx.score;
            self.release(&mut ctx, i);
            if self.search(&mut ctx, i, before, false) != Outcome::Accepted {
                self.hold(&mut ctx, i);
            }
        }
        // Improvement: re-plan robots with a goal at random, letting them displace any robot
        // (which then re-plans in turn); keep a change when the score does not fall. An idle
        // root weighs nothing in the score and prefers to stay, so its attempt is wasted; it
        // still moves when displaced. Roots from the working robots only took RANDOM-03/04/05
        // from 1935 / 2200 / 1210 (by step 1000) to 1952 / 2275 / 1276 tasks.
        let roots: Vec<usize> = (0..n).filter(|&i| goals[i].is_some()).collect();
        if !roots.is_empty() {
            for k in 0..effort.improve_tries {
                if out_of_time(k) {
                    break;
                }
                let i = roots[ctx.rng.random_range(0..roots.len())];
                ctx.attempt += 1;
                ctx.budget = IMPROVE_TRIES;
                let before = ctx.score;
                let old = (ctx.chosen[i], ctx.traj[i], ctx.value[i]);
                self.release(&mut ctx, i);
                if self.search(&mut ctx, i, before, true) != Outcome::Accepted {
                    (ctx.chosen[i], ctx.traj[i], ctx.value[i]) = old;
                    self.hold(&mut ctx, i);
                }
            }
        }
        // What each robot inherits next step: the rest of its operation, if it executes the
        // operation's first action (a robot that stays may turn instead, below).
        self.inherit.clear();
        if self.inherits {
            self.inherit.extend((0..n).map(|i| {
                let k = ctx.chosen[i] as usize;
                let next = self.next_op[k].filter(|&m| k != 0 && m != 0)?;
                let s = apply(map, model, states[i], self.ops[k][0]).ok()?;
                Some((s, next))
            }));
        }
        let mut actions = vec![Action::Wait; n];
        for i in 0..n {
            if let Some(&a) = self.ops[ctx.chosen[i] as usize].first() {
                actions[i] = a;
            }
            if ctx.chosen[i] == 0 && model == MotionModel::Rotation && goals[i].is_some() {
                // A robot that stays may still turn toward its way (it keeps its cell).
                let s = states[i];
                let h0 = Self::h(&ctx, i, s);
                let turned = |dir: u8| Self::h(&ctx, i, AgentState { loc: s.loc, dir });
                let (cw, ccw) = (turned((s.dir + 1) % 4), turned((s.dir + 3) % 4));
                if cw < h0 && cw <= ccw {
                    actions[i] = Action::Clockwise;
                } else if ccw < h0 {
                    actions[i] = Action::CounterClockwise;
                }
            }
            self.release(&mut ctx, i);
            self.occ[states[i].loc as usize] = NONE;
        }
        actions
    }

    /// Every robot takes its first trajectory of the step: with inheritance, the rest of the
    /// operation it held in the last plan (if it is where that plan put it), else "stay".
    /// The last plan was conflict-free over steps 1..=W, so its rests are too over 0..=W-1,
    /// and each ends in a wait; still every inherited trajectory is checked, and a robot
    /// whose "stay" meets one makes that robot stay too (so a plan from other inputs, or a
    /// robot that was moved, cannot lead to a conflict).
    fn hold_start(&mut self, ctx: &mut Ctx) {
        let n = ctx.states.len();
        let inherited: Vec<Option<Cand>> = (0..n)
            .map(|i| {
                let (s, k) = (*self.inherit.get(i)?)?;
                let fits = self.inherit.len() == n && s == ctx.states[i];
                fits.then(|| self.cand(ctx, i, k as usize)).flatten()
            })
            .collect();
        for (i, c) in inherited.iter().enumerate() {
            if c.is_none() {
                self.hold(ctx, i);
            }
        }
        let mut staying = Vec::new();
        for (i, c) in inherited.into_iter().enumerate() {
            let Some(c) = c else { continue };
            if self.blockers(i, &c.traj) == Ok(None) {
                (ctx.chosen[i], ctx.traj[i], ctx.value[i]) = (c.op, c.traj, c.value);
                self.hold(ctx, i);
            } else {
                staying.push(i);
            }
        }
        while let Some(i) = staying.pop() {
            let c = ctx.states[i].loc;
            for t in 1..=self.w {
                let j = self.res[self.at(t, c)];
                if j != NONE && j as usize != i {
                    let j = j as usize;
                    self.release(ctx, j);
                    ctx.chosen[j] = 0;
                    ctx.traj[j] = [ctx.states[j].loc; MAX_W + 1];
                    ctx.value[j] = ctx.stay[j];
                    staying.push(j);
                }
            }
            self.hold(ctx, i);
        }
    }

    /// Index in `res` of cell `c` at step `t` (1..=W): a cell's steps are adjacent, so a
    /// trajectory's checks touch few cache lines.
    fn at(&self, t: usize, c: u32) -> usize {
        c as usize * self.w + (t - 1)
    }

    /// Robot `i` holds its trajectory.
    fn hold(&mut self, ctx: &mut Ctx, i: usize) {
        for t in 1..=self.w {
            let k = self.at(t, ctx.traj[i][t]);
            self.res[k] = i as u32;
        }
        ctx.score += ctx.power[i] * (ctx.stay[i] - ctx.value[i]) as f64;
    }

    /// Robot `i` lets go of its trajectory.
    fn release(&mut self, ctx: &mut Ctx, i: usize) {
        for t in 1..=self.w {
            let k = self.at(t, ctx.traj[i][t]);
            let r = &mut self.res[k];
            if *r == i as u32 {
                *r = NONE;
            }
        }
        ctx.score -= ctx.power[i] * (ctx.stay[i] - ctx.value[i]) as f64;
    }

    /// The robots `traj` of robot `i` collides with (vertex or swap): `Ok(None)` for none,
    /// `Ok(Some(j))` for exactly one, `Err(())` for more.
    fn blockers(&self, i: usize, traj: &Traj) -> Result<Option<u32>, ()> {
        let me = i as u32;
        let mut found = NONE;
        let mut note = |j: u32| {
            if j == NONE || j == me || j == found {
                Ok(())
            } else if found == NONE {
                found = j;
                Ok(())
            } else {
                Err(())
            }
        };
        for t in 1..=self.w {
            let c = traj[t];
            note(self.res[self.at(t, c)])?;
            let prev = traj[t - 1];
            if prev != c {
                // Who is in `c` at step t - 1 and in `prev` at step t swaps with us.
                let before = if t == 1 {
                    self.occ[c as usize]
                } else {
                    self.res[self.at(t - 1, c)]
                };
                if before != NONE && self.res[self.at(t, prev)] == before {
                    note(before)?;
                }
            }
        }
        Ok((found != NONE).then_some(found))
    }

    /// Plans robot `i` (which holds nothing) with its best operation that fits, possibly by
    /// displacing one robot that then plans in turn (a chain). In the first pass (`improve`
    /// false) only robots not planned yet can be displaced and any chain that ends is kept
    /// (keeping only chains that raise the score there took RANDOM-03 from 1199 to 424
    /// tasks). In an improvement attempt any robot not yet re-planned in it can be displaced,
    /// though each displacement is skipped at random one time in five (so repeated attempts
    /// explore different chains), and the chain is kept only if the score ends at least at
    /// `before`.
    fn search(&mut self, ctx: &mut Ctx, i: usize, before: f64, improve: bool) -> Outcome {
        if ctx.cands[i].is_none() {
            let c = self.rank(ctx, i);
            ctx.cands[i] = Some(c);
        }
        let cands = ctx.cands[i].take().unwrap_or_default();
        let old = (ctx.chosen[i], ctx.traj[i], ctx.value[i]);
        let was_planned = ctx.planned[i];
        ctx.planned[i] = true;
        ctx.visited[i] = ctx.attempt;
        let mut outcome = Outcome::Failed;
        for cand in &cands {
            if ctx.budget == 0 {
                outcome = Outcome::Rejected;
                break;
            }
            ctx.budget -= 1;
            let Ok(blocker) = self.blockers(i, &cand.traj) else {
                continue;
            };
            (ctx.chosen[i], ctx.traj[i], ctx.value[i]) = (cand.op, cand.traj, cand.value);
            match blocker {
                None => {
                    self.hold(ctx, i);
                    if !improve || ctx.score >= before - 1e-9 {
                        outcome = Outcome::Accepted;
                    } else {
                        self.release(ctx, i);
                        outcome = Outcome::Rejected;
                    }
                    break;
                }
                Some(j) => {
                    let j = j as usize;
                    let free = if improve {
                        ctx.visited[j] != ctx.attempt && ctx.rng.random_range(0..5) != 0
                    } else {
                        !ctx.planned[j]
                    };
                    if !free {
                        continue;
                    }
                    let old_j = (ctx.chosen[j], ctx.traj[j], ctx.value[j]);
                    self.release(ctx, j);
                    self.hold(ctx, i);
                    outcome = self.search(ctx, j, before, improve);
                    if outcome == Outcome::Accepted {
                        break;
                    }
                    self.release(ctx, i);
                    (ctx.chosen[j], ctx.traj[j], ctx.value[j]) = old_j;
                    self.hold(ctx, j);
                    if outcome == Outcome::Rejected {
                        break;
                    }
                }
            }
        }
        ctx.cands[i] = Some(cands);
        if outcome != Outcome::Accepted {
            ctx.planned[i] = was_planned;
            (ctx.chosen[i], ctx.traj[i], ctx.value[i]) = old;
        }
        outcome
    }

    /// Distance of cell `c` to robot `i`'s goal.
    fn dist(ctx: &Ctx, i: usize, c: u32) -> u64 {
        match (ctx.goals[i], &ctx.tables[i]) {
            (Some(_), Some(t)) => cost_or_far(t.get(c)),
            (Some(g), None) => ctx.cache.manhattan(c, g) as u64,
            (None, _) => match &ctx.park {
                Some(t) => cost_or_far(t.get(c)),
                None => 0,
            },
        }
    }

    /// Orientation-aware cost-to-go of robot `i` at `s` (0 at its goal, or for a robot without
    /// a goal on a parking cell or without parking): read at its heading from a heading-aware
    /// table, else the best first move's turns + 1 + cell distance.
    fn h(ctx: &Ctx, i: usize, s: AgentState) -> u64 {
        let parked = ctx.goals[i].is_none() && Self::dist(ctx, i, s.loc) == 0;
        if parked || ctx.goals[i] == Some(s.loc) {
            return 0;
        }
        cost_to_go(ctx.map, ctx.model, ctx.tables[i].as_ref(), s, |c| {
            Self::dist(ctx, i, c)
        })
    }

    /// The legal operations of robot `i` other than "stay", best (lowest value) first. With
    /// a goal: [`STEP`] × the cost-to-go at the window's end (passing the goal at step t
    /// counts as t − W − 1), less the operation's eagerness (moving earlier is better). A
    /// robot without a goal prefers ending near the parking, if any, and then moving least
    /// (staying is not among these operations, but one that moves last is: its first action
    /// is a wait, so such a robot stays unless pushed aside), or, restless
    /// ([`Self::with_restless_idle`]), moving earliest.
    fn rank(&self, ctx: &Ctx, i: usize) -> Vec<Cand> {
        // Operations with the same cells and end heading are one: keep the first.
        let mut out: Vec<Cand> = (1..self.ops.len())
            .filter_map(|k| self.cand(ctx, i, k))
            .collect();
        out.sort_unstable_by_key(|c| (c.traj, c.dir, c.op));
        out.dedup_by_key(|c| (c.traj, c.dir));
        out.sort_unstable_by_key(|c| (c.value, c.op));
        out
    }

    /// Operation `k` of robot `i` with its trajectory and value, if it is legal.
    fn cand(&self, ctx: &Ctx, i: usize, k: usize) -> Option<Cand> {
        let s0 = ctx.states[i];
        let w = self.w as i64;
        let mut s = s0;
        let mut traj = [s.loc; MAX_W + 1];
        let mut reached = None;
        for (t, &a) in self.ops[k].iter().enumerate() {
            s = apply(ctx.map, ctx.model, s, a).ok()?;
            traj[t + 1..].fill(s.loc);
            if reached.is_none() && ctx.goals[i] == Some(s.loc) {
                reached = Some(t as i64 + 1);
            }
        }
        let value = match (ctx.goals[i], reached) {
            (Some(_), Some(t)) => (t - w - 1) * STEP - self.eager[k],
            (Some(_), None) => Self::h(ctx, i, s) as i64 * STEP - self.eager[k],
            (None, _) => {
                // Restless, only eagerness counts past the parking: it moves at once.
                let moved = if self.restless_idle {
                    0
                } else {
                    traj[..=self.w].iter().filter(|&&c| c != s0.loc).count() as i64
                };
                let park = Self::h(ctx, i, s) as i64 * PARK_PULL;
                (park + moved) * STEP - self.eager[k]
            }
        };
        Some(Cand {
            op: k as u16,
            traj,
            dir: s.dir,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn useful_operations_do_not_end_in_turns_or_turn_back() {
        use Action::{Clockwise as R, CounterClockwise as C, Forward as F, Wait as W};
        assert!(useful(&[R, F, F]));
        assert!(useful(&[R, R, F]));
        assert!(useful(&[W, W, W]));
        assert!(!useful(&[F, F, R]));
        assert!(!useful(&[R, W, W]));
        assert!(!useful(&[R, C, F]));
        assert!(!useful(&[R, R, R, F]));
        let map = GridMap::new(5, 5, vec![true; 25]);
        let e = Epibt::new(&map, MotionModel::Rotation, 3, true);
        assert!(e.ops[0].iter().all(|a| *a == W));
        assert_eq!(e.ops.len(), 20);
        // Each operation's rest (with a wait appended) is an operation again.
        assert!(e.next_op.iter().all(|k| k.is_some()));
        let k = e.ops.iter().position(|op| op == &[R, F, F]).unwrap();
        assert_eq!(e.ops[e.next_op[k].unwrap() as usize], [F, F, W]);
        // The longest operations: 5 steps (longer requests are cut to it).
        let e = Epibt::new(&map, MotionModel::Rotation, 9, true);
        assert_eq!((e.window(), e.ops.len()), (5, 216));
        assert!(e.next_op.iter().all(|k| k.is_some()));
    }

    /// An open map with robots' goals and their distance tables, planned under the rotation
    /// model without parking or deadline.
    struct Scene {
        map: GridMap,
        cache: DistanceCache,
        goals: Vec<Option<u32>>,
        tables: Vec<Option<Arc<Table>>>,
    }

    impl Scene {
        fn open(width: usize, height: usize, goals: Vec<Option<u32>>) -> Self {
            let map = GridMap::new(width, height, vec![true; width * height]);
            let grid = crate::mapf::Grid::new(&map).unwrap();
            let mut cache = DistanceCache::new(grid, 1 << 20);
            let tables = goals
                .iter()
                .map(|g| g.and_then(|g| cache.ensure(g)))
                .collect();
            Self {
                map,
                cache,
                goals,
                tables,
            }
        }

        fn plan(
            &self,
            e: &mut Epibt,
            states: &[AgentState],
            waited: &[u32],
            rng: &mut ChaCha8Rng,
            effort: Effort,
        ) -> Vec<Action> {
            let tie: Vec<u32> = (0..states.len() as u32).collect();
            e.plan(
                &self.map,
                MotionModel::Rotation,
                states,
                &self.goals,
                &self.tables,
                &self.cache,
                None,
                &tie,
                waited,
                rng,
                effort,
                None,
            )
        }
    }

    #[test]
    fn a_robot_that_waited_too_long_plans_before_closer_ones() {
        use rand::SeedableRng;
        // An open 3 x 3 map; both robots want the centre (4) at step 1. Robot 0 (west of it,
        // facing east) is bound for the east cell (5), 2 steps away; robot 1 (north of it,
        // facing south) for the centre itself, 1 step away, so it plans first and robot 0
        // must wait for it; once robot 0 has waited longer than the age priority, it goes
        // first and robot 1 waits.
        let scene = Scene::open(3, 3, vec![Some(5), Some(4)]);
        let states = [AgentState { loc: 3, dir: 0 }, AgentState { loc: 1, dir: 1 }];
        let forward = |age_priority: u32, waited: &[u32]| {
            let mut e = Epibt::new(&scene.map, MotionModel::Rotation, 3, false)
                .with_age_priority(age_priority);
            let effort = Effort {
                budget_per_root: 100,
                improve_tries: 0,
            };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let a = scene.plan(&mut e, &states, waited, &mut rng, effort);
            [a[0] == Action::Forward, a[1] == Action::Forward]
        };
        assert_eq!(forward(0, &[500, 0]), [false, true]);
        assert_eq!(forward(100, &[100, 0]), [false, true]);
        assert_eq!(forward(100, &[101, 0]), [true, false]);
    }

    #[test]
    fn a_restless_idle_robot_moves_into_a_free_cell_at_once() {
        use rand::SeedableRng;
        // A 4 x 1 corridor: an idle robot at its west end facing east, nobody else. Calm, it
        // stays (it only moves when pushed aside); restless, it moves east at once.
        let scene = Scene::open(4, 1, vec![None]);
        let states = [AgentState { loc: 0, dir: 0 }];
        let first = |restless: bool| {
            let mut e =
                Epibt::new(&scene.map, MotionModel::Rotation, 3, true).with_restless_idle(restless);
            let effort = Effort {
                budget_per_root: 100,
                improve_tries: 10,
            };
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            scene.plan(&mut e, &states, &[0], &mut rng, effort)[0]
        };
        assert_eq!(first(false), Action::Wait);
        assert_eq!(first(true), Action::Forward);
    }

    /// Vertex or swap conflict of `actions` from `states`, if any.
    fn conflict(map: &GridMap, states: &[AgentState], actions: &[Action]) -> Option<String> {
        let next: Vec<AgentState> = states
            .iter()
            .zip(actions)
            .map(|(&s, &a)| apply(map, MotionModel::Rotation, s, a).unwrap())
            .collect();
        for i in 0..next.len() {
            for j in 0..i {
                if next[i].loc == next[j].loc {
                    return Some(format!("robots {j} and {i} meet at {}", next[i].loc));
                }
                if next[i].loc == states[j].loc && next[j].loc == states[i].loc {
                    return Some(format!("robots {j} and {i} swap"));
                }
            }
        }
        None
    }

    #[test]
    fn inherited_operations_stay_conflict_free_when_robots_are_not_where_planned() {
        use rand::SeedableRng;
        // A crowded open 6 x 6 map: every step some robots are turned by hand before the next
        // plan, so their inherited operations no longer fit and they must stay; trajectories
        // the others inherit that enter their cells must give way too.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 20;
        let mut states: Vec<AgentState> = (0..n as u32)
            .map(|k| AgentState {
                loc: k * 36 / n as u32,
                dir: (k % 4) as u8,
            })
            .collect();
        let goals = (0..n).map(|k| Some(((k * 7 + 5) % 36) as u32)).collect();
        let scene = Scene::open(6, 6, goals);
        let map = &scene.map;
        let mut e = Epibt::new(map, MotionModel::Rotation, 3, true);
        let (mut inherited, mut moved) = (0, 0);
        for step in 0..60 {
            let before = e.inherit.iter().flatten().count();
            let effort = Effort {
                budget_per_root: 200,
                improve_tries: 500,
            };
            let actions = scene.plan(&mut e, &states, &[], &mut rng, effort);
            assert_eq!(conflict(map, &states, &actions), None, "step {step}");
            inherited += before;
            moved += actions.iter().filter(|a| **a == Action::Forward).count();
            for (s, &a) in states.iter_mut().zip(&actions) {
                *s = apply(map, MotionModel::Rotation, *s, a).unwrap();
            }
            for k in [step % n, (step * 7 + 3) % n] {
                states[k].dir = (states[k].dir + 1) % 4;
            }
        }
        assert!(inherited > 0 && moved > 0, "{inherited} {moved}");
    }
}
