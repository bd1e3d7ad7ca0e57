//! The Hybrid-A* search over SE(2): continuous poses, pruned on a lattice of (x, y, heading)
//! bins, expanded with motion primitives whose headings land exactly on the bins.

use super::error::{PlanError, check_finite};
use super::footprint::{Footprint, FootprintSpec};
use super::grid::CollisionGrid;
use super::heuristic::{CurveTable, HolonomicHeuristic};
use super::reeds_shepp::{CurvePath, Steer, advance};
use super::{dubins, reeds_shepp, smooth};
use courier_core::geometry::normalize_angle;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::f64::consts::TAU;

/// How the vehicle steers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kinematics {
    /// Car-like: only arcs of radius ≥ `min_turning_radius`.
    Ackermann,
    /// Differential drive: the same arcs plus turning in place.
    DiffDrive,
}

/// Hybrid-A* parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HybridParams {
    /// Vehicle kind (default Ackermann).
    pub kinematics: Kinematics,
    /// Minimum turning radius in metres (default 1.0).
    pub min_turning_radius: f64,
    /// Whether the vehicle may drive backward (default true: Reeds-Shepp; false: Dubins).
    pub allow_reverse: bool,
    /// Footprint polygon, body frame (default 0.7 m × 0.5 m centred).
    pub footprint: FootprintSpec,
    /// Heading bins over 2π (default 72, i.e. 5°).
    pub heading_bins: usize,
    /// Heading bins turned by one full-lock primitive (default 2, so arcs are r·10°).
    pub bins_per_primitive: usize,
    /// Also expand half-lock arcs (twice the radius) (default false).
    pub half_lock: bool,
    /// Size of the (x, y) pruning lattice in metres (default 0.15).
    pub lattice_resolution: f64,
    /// Cost factor for driving backward (default 2.0).
    pub reverse_penalty: f64,
    /// Added cost (m) for a change of direction (default 1.0).
    pub direction_change_penalty: f64,
    /// Cost factor for arcs (default 1.05).
    pub turn_penalty: f64,
    /// Cost (m) per radian of turning in place, diff drive only (default 0.5).
    pub rotate_penalty: f64,
    /// Weight on the heuristic (default 1.5; 1.0 is admissible).
    pub heuristic_weight: f64,
    /// Half-width (m) of the non-holonomic heuristic table (default 5.0).
    pub curve_table_extent: f64,
    /// Step (m) of the non-holonomic heuristic table (default 0.1).
    pub curve_table_step: f64,
    /// Cost factor of the holonomic heuristic next to obstacles: steps closer than the
    /// footprint's circumscribed radius + 0.1 m cost up to 1 + this (default 12.0; 0 keeps the
    /// heuristic admissible).
    pub heuristic_obstacle_penalty: f64,
    /// Try an analytic expansion when the heuristic is below this (m) (default 10.0).
    pub analytic_max_distance: f64,
    /// Give up after this many expansions (default 200 000).
    pub max_expansions: usize,
    /// Spacing (m) of the output path poses (default 0.05).
    pub path_step: f64,
    /// Smoothing iterations (default 30; 0 disables).
    pub smoothing_iterations: usize,
}

impl Default for HybridParams {
    fn default() -> Self {
        Self {
            kinematics: Kinematics::Ackermann,
            min_turning_radius: 1.0,
            allow_reverse: true,
            footprint: FootprintSpec::default(),
            heading_bins: 72,
            bins_per_primitive: 2,
            half_lock: false,
            lattice_resolution: 0.15,
            reverse_penalty: 2.0,
            direction_change_penalty: 1.0,
            turn_penalty: 1.05,
            rotate_penalty: 0.5,
            heuristic_weight: 1.5,
            curve_table_extent: 5.0,
            curve_table_step: 0.1,
            heuristic_obstacle_penalty: 12.0,
            analytic_max_distance: 10.0,
            max_expansions: 200_000,
            path_step: 0.05,
            smoothing_iterations: 30,
        }
    }
}

impl HybridParams {
    pub fn validate(&self) -> Result<(), PlanError> {
        let pos = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(PlanError::InvalidParam {
                    name,
                    reason: format!("must be finite and > 0, got {v}"),
                })
            }
        };
        pos("min_turning_radius", self.min_turning_radius)?;
        pos("lattice_resolution", self.lattice_resolution)?;
        pos("curve_table_step", self.curve_table_step)?;
        pos("path_step", self.path_step)?;
        check_finite(
            "hybrid penalties",
            &[
                self.reverse_penalty,
                self.direction_change_penalty,
                self.turn_penalty,
                self.rotate_penalty,
                self.heuristic_weight,
                self.curve_table_extent,
                self.analytic_max_distance,
            ],
        )?;
        if self.reverse_penalty < 1.0
            || self.turn_penalty < 1.0
            || self.direction_change_penalty < 0.0
            || self.rotate_penalty < 0.0
            || self.heuristic_obstacle_penalty < 0.0
            || self.heuristic_weight <= 0.0
        {
            return Err(PlanError::InvalidParam {
                name: "hybrid penalties",
                reason: "reverse/turn penalties must be ≥ 1, the others ≥ 0, the weight > 0".into(),
            });
        }
        if self.heading_bins < 8 || self.bins_per_primitive == 0 {
            return Err(PlanError::InvalidParam {
                name: "heading_bins",
                reason: format!(
                    "need ≥ 8 bins and ≥ 1 bin per primitive, got {} and {}",
                    self.heading_bins, self.bins_per_primitive
                ),
            });
        }
        Ok(())
    }
}

/// A planned path in the grid frame: poses (x, y, θ) with their driving direction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocalPath {
    pub poses: Vec<[f64; 3]>,
    /// true = forward, per pose (the direction used to reach it; the first copies the second).
    pub forward: Vec<bool>,
    pub expansions: usize,
}

/// One motion primitive in the body frame.
#[derive(Debug, Clone, Copy)]
struct Primitive {
    /// Signed arc length (m), negative backward; 0 for a turn in place.
    length: f64,
    /// Heading change in bins.
    dbins: i64,
    /// Curvature steer for re-sampling.
    steer: Steer,
    /// Turn-in-place angle (rad) when `length == 0`.
    rotate: f64,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    pose: [f64; 3],
    heading: u32,
    g: f64,
    parent: u32,
    prim: u8,
}

#[derive(Debug, PartialEq)]
struct Open {
    f: f64,
    g: f64,
    node: u32,
}
impl Eq for Open {}
impl Ord for Open {
    fn cmp(&self, o: &Self) -> Ordering {
        // Min-heap on f, ties broken towards larger g (deeper nodes), then by node id.
        o.f.total_cmp(&self.f)
            .then(self.g.total_cmp(&o.g))
            .then(o.node.cmp(&self.node))
    }
}
impl PartialOrd for Open {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Hybrid-A* with everything that depends only on the vehicle precomputed: primitives, the
/// footprint's cell offsets per heading bin and the non-holonomic heuristic table. Reuses its
/// scratch memory across queries.
#[derive(Debug, Clone)]
pub struct HybridAStar {
    pub params: HybridParams,
    pub footprint: Footprint,
    table: CurveTable,
    primitives: Vec<Primitive>,
    /// Per primitive: its collision-check poses (every ≤ one grid cell) in the frame of its
    /// start pose, so expanding a node needs no trigonometry.
    samples: Vec<Vec<[f64; 3]>>,
    /// Lattice bookkeeping: stamp per lattice state, and the node index stored there.
    stamp: Vec<u32>,
    slot: Vec<u32>,
    query: u32,
    nodes: Vec<Node>,
}

impl HybridAStar {
    /// The holonomic heuristic for `goal` (grid frame) on `grid`, with this planner's settings.
    pub fn holonomic_heuristic(&self, grid: &CollisionGrid, goal: [f64; 3]) -> HolonomicHeuristic {
        let factor = ((self.params.lattice_resolution / grid.resolution).round() as usize).max(1);
        HolonomicHeuristic::compute(
            grid,
            factor,
            self.footprint.inscribed,
            [goal[0], goal[1]],
            self.footprint.circumscribed + 0.1,
            self.params.heuristic_obstacle_penalty,
        )
    }

    /// Prepares the planner for a grid of `resolution` m per cell.
    pub fn new(params: HybridParams, resolution: f64) -> Result<Self, PlanError> {
        params.validate()?;
        let footprint = Footprint::new(&params.footprint, resolution, params.heading_bins)?;
        let table = CurveTable::new(
            params.min_turning_radius,
            params.allow_reverse,
            params.curve_table_extent,
            params.curve_table_step,
            params.heading_bins,
        );
        let dtheta = TAU / params.heading_bins as f64;
        let k = params.bins_per_primitive as i64;
        let len = params.min_turning_radius * k as f64 * dtheta;
        let mut steers = vec![(Steer::Left, k), (Steer::Straight, 0), (Steer::Right, -k)];
        if params.half_lock && k % 2 == 0 {
            steers.push((Steer::Left, k / 2));
            steers.push((Steer::Right, -k / 2));
        }
        let mut primitives = Vec::new();
        for dir in [1.0, -1.0] {
            if dir < 0.0 && !params.allow_reverse {
                continue;
            }
            for &(steer, db) in &steers {
                primitives.push(Primitive {
                    length: dir * len,
                    dbins: (dir as i64) * db,
                    steer,
                    rotate: 0.0,
                });
            }
        }
        if params.kinematics == Kinematics::DiffDrive {
            for s in [1i64, -1] {
                primitives.push(Primitive {
                    length: 0.0,
                    dbins: s,
                    steer: Steer::Straight,
                    rotate: s as f64 * dtheta,
                });
            }
        }
        let mut me = Self {
            params,
            footprint,
            table,
            primitives,
            samples: Vec::new(),
            stamp: Vec::new(),
            slot: Vec::new(),
            query: 0,
            nodes: Vec::new(),
        };
        me.samples = me
            .primitives
            .iter()
            .map(|p| {
                let mut out = Vec::new();
                me.primitive_poses([0.0, 0.0, 0.0], p, resolution, &mut out);
                out
            })
            .collect();
        Ok(me)
    }

    /// The turn radius of a primitive's arc (∞ for straight).
    fn arc_radius(&self, p: &Primitive) -> f64 {
        if p.dbins == 0 || p.length == 0.0 {
            f64::INFINITY
        } else {
            (p.length / (p.dbins as f64 * TAU / self.params.heading_bins as f64)).abs()
        }
    }

    /// Poses along a primitive from `from`, every ≤ `step` metres, ending at the exact end.
    fn primitive_poses(&self, from: [f64; 3], p: &Primitive, step: f64, out: &mut Vec<[f64; 3]>) {
        out.clear();
        if p.length == 0.0 {
            let n = ((p.rotate.abs() / 0.05).ceil() as usize).max(1);
            for i in 1..=n {
                out.push([from[0], from[1], from[2] + p.rotate * i as f64 / n as f64]);
            }
            return;
        }
        let r = self.arc_radius(p);
        let n = ((p.length.abs() / step).ceil() as usize).max(1);
        for i in 1..=n {
            let d = p.length * i as f64 / n as f64;
            out.push(if r.is_finite() {
                advance(from, p.steer, d, r)
            } else {
                advance(from, Steer::Straight, d, 1.0)
            });
        }
    }

    /// Heuristic from grid-frame pose `p` (heading sine and cosine `sc`) to the goal.
    #[inline]
    fn heuristic(
        &self,
        holo: &HolonomicHeuristic,
        p: [f64; 3],
        sc: (f64, f64),
        goal: [f64; 3],
    ) -> f64 {
        let h = holo.at(p[0], p[1]);
        let nh = self
            .table
            .lookup_sc(p, sc.0, sc.1, goal)
            .unwrap_or_else(|| (goal[0] - p[0]).hypot(goal[1] - p[1]));
        h.max(nh)
    }

    /// The shortest analytic curve to the goal, if it is collision-free.
    fn analytic(&self, grid: &CollisionGrid, from: [f64; 3], goal: [f64; 3]) -> Option<CurvePath> {
        let r = self.params.min_turning_radius;
        let paths = if self.params.allow_reverse {
            reeds_shepp::all_paths(from, goal, r)
        } else {
            dubins::all_paths(from, goal, r)
        };
        let step = grid.resolution.min(self.params.path_step);
        paths.into_iter().take(3).find(|path| {
            path.sample(from, step)
                .iter()
                .all(|(q, _)| self.footprint.is_free(grid, *q))
        })
    }

    /// Plans from `start` to `goal` (grid frame). The holonomic heuristic must have been
    /// computed for this goal on this grid.
    pub fn plan(
        &mut self,
        grid: &CollisionGrid,
        holo: &HolonomicHeuristic,
        start: [f64; 3],
        goal: [f64; 3],
    ) -> Result<LocalPath, PlanError> {
        check_finite("start", &start)?;
        check_finite("goal", &goal)?;
        for (what, p) in [("start", start), ("goal", goal)] {
            if grid.index_of(p[0], p[1]).is_none() {
                return Err(PlanError::OffMap {
                    what,
                    x: p[0],
                    y: p[1],
                });
            }
            if !self.footprint.is_free(grid, p) {
                return Err(PlanError::InCollision {
                    what,
                    x: p[0],
                    y: p[1],
                    theta: p[2],
                });
            }
        }
        if !holo.at(start[0], start[1]).is_finite() {
            return Err(PlanError::NoPath {
                expansions: 0,
                reason: "the goal cannot be reached from the start even ignoring heading",
            });
        }
        let bins = self.params.heading_bins;
        let dtheta = TAU / bins as f64;
        let lat = self.params.lattice_resolution;
        let (lw, lh) = (
            (grid.extent().0 / lat).ceil() as usize,
            (grid.extent().1 / lat).ceil() as usize,
        );
        let states = lw * lh * bins;
        if self.stamp.len() != states {
            self.stamp = vec![0; states];
            self.slot = vec![0; states];
            self.query = 0;
        }
        self.query = self.query.wrapping_add(1);
        if self.query == 0 {
            self.stamp.fill(0);
            self.query = 1;
        }
        let q = self.query;
        // Headings are start + k·Δθ exactly; the footprint bin of heading index k is the bin
        // nearest to that angle.
        let start_bin = ((start[2] / dtheta).round() as i64).rem_euclid(bins as i64) as u32;
        let offset = start[2] - start_bin as f64 * dtheta;
        let theta_of = |k: u32| offset + k as f64 * dtheta;
        let key = |p: [f64; 3], k: u32| -> Option<usize> {
            let (cx, cy) = ((p[0] / lat).floor(), (p[1] / lat).floor());
            if cx < 0.0 || cy < 0.0 || cx >= lw as f64 || cy >= lh as f64 {
                return None;
            }
            Some(((cy as usize * lw) + cx as usize) * bins + k as usize)
        };
        let goal_bin = ((normalize_angle(goal[2] - offset) / dtheta).round() as i64)
            .rem_euclid(bins as i64) as u32;
        let goal_key = key(goal, goal_bin);

        self.nodes.clear();
        let mut open = BinaryHeap::new();
        let w = self.params.heuristic_weight;
        self.nodes.push(Node {
            pose: [start[0], start[1], theta_of(start_bin)],
            heading: start_bin,
            g: 0.0,
            parent: u32::MAX,
            prim: u8::MAX,
        });
        let trig: Vec<(f64, f64)> = (0..bins as u32).map(|k| theta_of(k).sin_cos()).collect();
        let h0 = self.heuristic(holo, start, trig[start_bin as usize], goal);
        open.push(Open {
            f: w * h0,
            g: 0.0,
            node: 0,
        });
        if let Some(k) = key(start, start_bin) {
            self.stamp[k] = q;
            self.slot[k] = 0;
        }
        let mut buf = Vec::with_capacity(16);
        let mut expansions = 0usize;
        let mut since_analytic = 0usize;
        while let Some(Open { g, node, .. }) = open.pop() {
            let n = self.nodes[node as usize];
            if g > n.g + 1e-9 || key(n.pose, n.heading).is_some_and(|k| self.slot[k] != node) {
                continue; // a cheaper node has since taken this lattice state
            }
            expansions += 1;
            if expansions > self.params.max_expansions {
                return Err(PlanError::NoPath {
                    expansions,
                    reason: "expansion budget exhausted",
                });
            }
            // Analytic expansion, more often as the goal gets closer.
            let h = self.heuristic(holo, n.pose, trig[n.heading as usize], goal);
            since_analytic += 1;
            let every = ((h / 2.0).floor() as usize).max(1);
            if h <= self.params.analytic_max_distance && since_analytic >= every {
                since_analytic = 0;
                if let Some(curve) = self.analytic(grid, n.pose, goal) {
                    return Ok(self.finish(grid, node, Some((n.pose, curve)), expansions));
                }
            }
            if key(n.pose, n.heading) == goal_key
                && normalize_angle(n.pose[2] - goal[2]).abs() <= dtheta
            {
                return Ok(self.finish(grid, node, None, expansions));
            }
            let parent_forward = if n.prim == u8::MAX {
                None
            } else {
                Some(self.primitives[n.prim as usize].length >= 0.0)
            };
            let (sn, cs) = trig[n.heading as usize];
            for pi in 0..self.primitives.len() {
                let p = self.primitives[pi];
                buf.clear();
                buf.extend(self.samples[pi].iter().map(|b| {
                    [
                        n.pose[0] + cs * b[0] - sn * b[1],
                        n.pose[1] + sn * b[0] + cs * b[1],
                        n.pose[2] + b[2],
                    ]
                }));
                let nk = (n.heading as i64 + p.dbins).rem_euclid(bins as i64) as u32;
                let Some(&last) = buf.last() else { continue };
                let end = [last[0], last[1], theta_of(nk)];
                let Some(k) = key(end, nk) else { continue };
                if !buf.iter().all(|&pose| self.footprint.is_free(grid, pose)) {
                    continue;
                }
                let mut cost = if p.length == 0.0 {
                    self.params.rotate_penalty * p.rotate.abs()
                } else {
                    let mut c = p.length.abs();
                    if p.length < 0.0 {
                        c *= self.params.reverse_penalty;
                    }
                    if p.dbins != 0 {
                        c *= self.params.turn_penalty;
                    }
                    c
                };
                let fwd = p.length >= 0.0;
                if p.length != 0.0 && parent_forward.is_some_and(|f| f != fwd) {
                    cost += self.params.direction_change_penalty;
                }
                let ng = n.g + cost;
                if self.stamp[k] == q {
                    let existing = self.slot[k] as usize;
                    if self.nodes[existing].g <= ng + 1e-9 {
                        continue;
                    }
                    if existing == node as usize {
                        continue;
                    }
                }
                let idx = self.nodes.len() as u32;
                self.nodes.push(Node {
                    pose: end,
                    heading: nk,
                    g: ng,
                    parent: node,
                    prim: pi as u8,
                });
                self.stamp[k] = q;
                self.slot[k] = idx;
                let hh = self.heuristic(holo, end, trig[nk as usize], goal);
                if hh.is_finite() {
                    open.push(Open {
                        f: ng + w * hh,
                        g: ng,
                        node: idx,
                    });
                }
            }
        }
        Err(PlanError::NoPath {
            expansions,
            reason: "search space exhausted: the goal is unreachable",
        })
    }

    /// Rebuilds the path from node `last` (plus the analytic tail) and smooths it.
    fn finish(
        &self,
        grid: &CollisionGrid,
        last: u32,
        tail: Option<([f64; 3], CurvePath)>,
        expansions: usize,
    ) -> LocalPath {
        let mut chain = Vec::new();
        let mut i = last;
        while i != u32::MAX {
            chain.push(i);
            i = self.nodes[i as usize].parent;
        }
        chain.reverse();
        let mut poses = vec![self.nodes[chain[0] as usize].pose];
        let mut forward = vec![true];
        let mut buf = Vec::new();
        let step = self.params.path_step;
        for w in chain.windows(2) {
            let (a, b) = (self.nodes[w[0] as usize], self.nodes[w[1] as usize]);
            let p = self.primitives[b.prim as usize];
            self.primitive_poses(a.pose, &p, step, &mut buf);
            if let Some(l) = buf.last_mut() {
                *l = b.pose;
            }
            for &q in &buf {
                poses.push(q);
                forward.push(p.length >= 0.0);
            }
        }
        if let Some((from, curve)) = tail {
            for (q, f) in curve.sample(from, step).into_iter().skip(1) {
                poses.push(q);
                forward.push(f);
            }
        }
        if forward.len() > 1 {
            forward[0] = forward[1];
        }
        for p in &mut poses {
            p[2] = normalize_angle(p[2]);
        }
        let mut path = LocalPath {
            poses,
            forward,
            expansions,
        };
        if self.params.smoothing_iterations > 0 {
            smooth::smooth(
                &mut path,
                grid,
                &self.footprint,
                1.0 / self.params.min_turning_radius,
                self.params.smoothing_iterations,
            );
        }
        path
    }
}
