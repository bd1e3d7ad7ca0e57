//! 2D SLAM from a planar laser and wheel odometry.
//!
//! * Local SLAM: every scan is matched against the older of two active submaps (probability
//!   grids, hit/miss odds updates) by a small correlative search around the odometry prediction
//!   and Levenberg-Marquardt refinement on the bicubic-interpolated grid, with the prediction
//!   as a prior. Scans that pass a motion filter become pose-graph nodes and are inserted into
//!   both active submaps; a submap is finished after `2 × scans_per_submap` insertions.
//! * Global SLAM: a pose graph of submap and node poses, with node→submap constraints from
//!   local SLAM, constraints between consecutive nodes, and loop closures found by
//!   branch-and-bound matching of nodes against finished submaps (multi-resolution max grids),
//!   accepted above a score threshold and refined on the grid. A sparse Levenberg-Marquardt
//!   back-end with a Huber kernel on loop closures optimises the graph every
//!   `optimize_every_n_nodes` nodes and at [`Slam2d::finish`].
//!
//! [`Slam2d`] is the node core: feed `on_odometry`/`on_scan` in time order, call `finish`,
//! then read `trajectory()` and `map()`.

pub mod bnb;
pub mod grid;
pub mod map_io;
pub mod matcher;
pub mod pose_graph;
pub mod relations;
pub mod sparse;

use crate::error::{LocalizationError, Result};
use bnb::{BnbWindow, Precomputed};
use courier_core::maps::OccupancyGrid;
use courier_core::msgs::{LaserScan, WheelOdometry};
use courier_core::{Pose2, Stamp};
use grid::{GridTables, ProbGrid};
use matcher::{CorrelativeParams, RefineParams};
use nalgebra::Point2;
use pose_graph::{Constraint, PoseGraph, RobustKernel, SolverParams};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Loop-closure search options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopClosureParams {
    /// Only nodes within this distance (m) of a submap's origin are matched against it.
    pub max_distance: f64,
    /// Fraction of the node/submap pairs within `max_distance` searched in the small window
    /// around the current estimate (cheap; finds closures once the graph is consistent).
    pub sampling_ratio: f64,
    /// Fraction of the pairs whose small-window search failed that are searched again in the
    /// full window (expensive; finds closures after long drift).
    pub global_sampling_ratio: f64,
    /// Half-widths of the small window (m, degrees).
    pub local_linear_window: f64,
    pub local_angular_window_deg: f64,
    /// Half-width of the translation window (m) of the branch-and-bound search.
    pub linear_window: f64,
    /// Half-width of the rotation window (degrees).
    pub angular_window_deg: f64,
    /// Smallest rotation step (degrees); the step is otherwise one cell at the farthest point.
    pub min_angular_step_deg: f64,
    /// Scan points are thinned to one per cell of this size (m) for the search (0: all).
    pub voxel_size: f64,
    /// A match is accepted when its mean cell probability reaches this.
    pub min_score: f64,
    /// Levels of the precomputed max-grids (the coarsest covers 2^(depth−1) cells).
    pub branch_and_bound_depth: usize,
    /// Refinement of an accepted match on the submap grid.
    pub refine: RefineParams,
}

impl Default for LoopClosureParams {
    fn default() -> Self {
        Self {
            max_distance: 15.0,
            sampling_ratio: 0.35,
            global_sampling_ratio: 0.1,
            local_linear_window: 1.0,
            local_angular_window_deg: 10.0,
            linear_window: 7.0,
            angular_window_deg: 30.0,
            min_angular_step_deg: 0.5,
            voxel_size: 0.1,
            min_score: 0.55,
            branch_and_bound_depth: 7,
            refine: RefineParams {
                occupied_weight: 20.0,
                translation_weight: 10.0,
                rotation_weight: 1.0,
                max_iterations: 20,
            },
        }
    }
}

/// Weights (1/m, 1/rad: inverse standard deviations) of the pose-graph constraints.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConstraintWeights {
    /// Between consecutive nodes, from local SLAM.
    pub consecutive_translation: f64,
    pub consecutive_rotation: f64,
    /// From a submap to a node inserted into it.
    pub intra_translation: f64,
    pub intra_rotation: f64,
    /// Loop closures.
    pub loop_translation: f64,
    pub loop_rotation: f64,
    /// Huber threshold on the weighted loop-closure residual norm.
    pub loop_huber: f64,
}

impl Default for ConstraintWeights {
    fn default() -> Self {
        Self {
            consecutive_translation: 100.0,
            consecutive_rotation: 300.0,
            intra_translation: 30.0,
            intra_rotation: 100.0,
            loop_translation: 30.0,
            loop_rotation: 100.0,
            loop_huber: 1.0,
        }
    }
}

/// Parameters of [`Slam2d`]; every field has a documented default that serves indoor 2D
/// laser logs (SICK-class scanners, 180 beams or more, wheel odometry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Slam2dParams {
    /// Pose of the laser in the robot frame (x m, y m, θ rad). Default: at the robot origin.
    pub laser_offset: [f64; 3],
    /// Returns closer than this (m) are dropped (counted as out of range). Default 0.05.
    pub min_range: f64,
    /// Returns beyond this (m) are treated as no-return. Default 30.
    pub max_range: f64,
    /// No-return beams clear free space up to this length (m); 0 disables. Default 5.
    pub missing_ray_length: f64,
    /// Grid cell size (m). Default 0.05.
    pub resolution: f64,
    /// Probability a hit / a miss assigns (odds update). Defaults 0.55 / 0.49.
    pub hit_probability: f32,
    pub miss_probability: f32,
    /// Nodes a submap takes before the next one starts (it is finished after twice as many).
    pub scans_per_submap: usize,
    /// A scan becomes a node when the robot moved this far (m) …
    pub motion_filter_distance: f64,
    /// … or turned this much (degrees) …
    pub motion_filter_angle_deg: f64,
    /// … or this much time (s) passed since the last node.
    pub motion_filter_time: f64,
    /// Run the correlative search before refinement (robust to odometry slips).
    pub use_correlative_search: bool,
    /// Scan points are thinned to one per cell of this size (m) for the correlative search
    /// (0: all points; thinning to 0.1 m saves ~5 % of the time on Intel but costs accuracy).
    pub correlative_voxel_size: f64,
    pub correlative: CorrelativeParams,
    pub local_refine: RefineParams,
    pub loop_closure: LoopClosureParams,
    pub weights: ConstraintWeights,
    /// Optimise the pose graph after this many new nodes.
    pub optimize_every_n_nodes: usize,
    pub solver: SolverParams,
    /// The final optimisation at `finish`.
    pub final_solver: SolverParams,
}

impl Default for Slam2dParams {
    fn default() -> Self {
        Self {
            laser_offset: [0.0; 3],
            min_range: 0.05,
            max_range: 30.0,
            missing_ray_length: 5.0,
            resolution: 0.05,
            hit_probability: 0.55,
            miss_probability: 0.49,
            scans_per_submap: 90,
            motion_filter_distance: 0.2,
            motion_filter_angle_deg: 1.0,
            motion_filter_time: 5.0,
            use_correlative_search: true,
            correlative_voxel_size: 0.0,
            correlative: CorrelativeParams::default(),
            local_refine: RefineParams::default(),
            loop_closure: LoopClosureParams::default(),
            weights: ConstraintWeights::default(),
            optimize_every_n_nodes: 90,
            solver: SolverParams::default(),
            final_solver: SolverParams {
                max_iterations: 100,
                relative_tolerance: 1e-9,
            },
        }
    }
}

impl Slam2dParams {
    fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, message: &str| {
            Err(LocalizationError::InvalidParameter {
                name,
                message: message.to_string(),
            })
        };
        if !(self.resolution > 0.0 && self.resolution.is_finite()) {
            return bad("resolution", "must be positive");
        }
        if !(self.max_range > self.min_range && self.min_range >= 0.0) {
            return bad("max_range", "must exceed min_range ≥ 0");
        }
        if !(self.hit_probability > 0.5 && self.hit_probability < 1.0) {
            return bad("hit_probability", "must be in (0.5, 1)");
        }
        if !(self.miss_probability > 0.0 && self.miss_probability < 0.5) {
            return bad("miss_probability", "must be in (0, 0.5)");
        }
        if self.scans_per_submap == 0 {
            return bad("scans_per_submap", "must be at least 1");
        }
        if !(1..=12).contains(&self.loop_closure.branch_and_bound_depth) {
            return bad("loop_closure.branch_and_bound_depth", "must be in 1..=12");
        }
        if self.laser_offset.iter().any(|v| !v.is_finite()) {
            return bad("laser_offset", "must be finite");
        }
        Ok(())
    }
}

/// The estimate returned for each scan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoseEstimate {
    pub stamp: Stamp,
    /// Robot pose in the map frame (current global estimate).
    pub pose: Pose2,
    /// Robot pose in the local SLAM frame (continuous, drifts).
    pub local_pose: Pose2,
    /// Mean map probability at the matched scan points (0 when there was no map yet).
    pub match_score: f64,
    /// True if the scan became a pose-graph node.
    pub is_node: bool,
}

/// Counters of what happened; bad beams are skipped and counted here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Slam2dStats {
    pub scans: usize,
    pub nodes: usize,
    pub submaps: usize,
    /// Beams whose range was NaN or infinite.
    pub nan_beams: usize,
    /// Beams closer than `min_range` or the scan's `range_min` (or negative).
    pub out_of_range_beams: usize,
    /// Beams at or beyond the scan's / the parameters' maximum range.
    pub no_return_beams: usize,
    /// Scans whose stamp is older than an earlier scan's (processed in arrival order).
    pub out_of_order_scans: usize,
    pub loop_closure_searches: usize,
    /// Of those, searches repeated in the full window.
    pub global_loop_closure_searches: usize,
    pub loop_closures: usize,
    pub optimizations: usize,
}

#[derive(Debug, Clone)]
struct Node {
    stamp: Stamp,
    local: Pose2,
    var: usize,
    /// Beam end points and shortened no-return ends, robot frame.
    hits: Vec<[f64; 2]>,
    free_ends: Vec<[f64; 2]>,
}

#[derive(Debug, Clone)]
struct Submap {
    /// Pose of the submap frame in the local SLAM frame.
    local: Pose2,
    grid: ProbGrid,
    var: usize,
    first_node: usize,
    inserted: usize,
    precomputed: Option<Precomputed>,
    sampler: Sampler,
}

/// Accepts a fixed fraction of the pulses it sees, evenly spread (deterministic).
#[derive(Debug, Clone, Copy, Default)]
struct Sampler {
    pulses: u64,
    samples: u64,
}

impl Sampler {
    fn pulse(&mut self, ratio: f64) -> bool {
        self.pulses += 1;
        if (self.samples as f64) / (self.pulses as f64) < ratio {
            self.samples += 1;
            true
        } else {
            false
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct ScanRecord {
    stamp: Stamp,
    node: usize,
    local: Pose2,
}

/// The 2D SLAM node core.
#[derive(Debug)]
pub struct Slam2d {
    params: Slam2dParams,
    tables: GridTables,
    laser_offset: Pose2,
    submaps: Vec<Submap>,
    /// Indices of the active submaps, oldest first.
    active: Vec<usize>,
    nodes: Vec<Node>,
    graph: PoseGraph,
    scans: Vec<ScanRecord>,
    odom_buffer: VecDeque<(Stamp, Pose2)>,
    last_odom: Option<Pose2>,
    last_local: Pose2,
    last_stamp: Option<Stamp>,
    local_to_global: Pose2,
    nodes_since_optimization: usize,
    stats: Slam2dStats,
    cell_buf: Vec<(i64, i64)>,
    voxel_buf: Vec<[f64; 2]>,
    /// Per submap: sampler of the full-window loop-closure searches.
    global_samplers: Vec<Sampler>,
}

impl Slam2d {
    pub fn new(params: Slam2dParams) -> Result<Self> {
        params.validate()?;
        let [ox, oy, ot] = params.laser_offset;
        Ok(Self {
            tables: GridTables::new(params.hit_probability, params.miss_probability),
            laser_offset: Pose2::new(ox, oy, ot),
            params,
            submaps: Vec::new(),
            active: Vec::new(),
            nodes: Vec::new(),
            graph: PoseGraph::default(),
            scans: Vec::new(),
            odom_buffer: VecDeque::new(),
            last_odom: None,
            last_local: Pose2::identity(),
            last_stamp: None,
            local_to_global: Pose2::identity(),
            nodes_since_optimization: 0,
            stats: Slam2dStats::default(),
            cell_buf: Vec::new(),
            voxel_buf: Vec::new(),
            global_samplers: Vec::new(),
        })
    }

    pub fn params(&self) -> &Slam2dParams {
        &self.params
    }

    pub fn stats(&self) -> Slam2dStats {
        self.stats
    }

    /// Sets the laser's pose in the robot frame (e.g. from a log's laser and odometry poses).
    pub fn set_laser_offset(&mut self, offset: Pose2) -> Result<()> {
        if !offset.is_finite() {
            return Err(LocalizationError::InvalidInput(
                "laser offset is not finite".into(),
            ));
        }
        self.laser_offset = offset;
        self.params.laser_offset = [offset.x(), offset.y(), offset.theta()];
        Ok(())
    }

    /// Buffers a wheel-odometry pose; scans without their own odometry pose interpolate these.
    pub fn on_odometry(&mut self, odom: &WheelOdometry) -> Result<()> {
        if !odom.pose.is_finite() {
            return Err(LocalizationError::InvalidInput(format!(
                "odometry at {} has a non-finite pose",
                odom.stamp
            )));
        }
        if let Some(&(t, _)) = self.odom_buffer.back()
            && odom.stamp < t
        {
            return Err(LocalizationError::InvalidInput(format!(
                "odometry at {} is older than the previous one at {t}",
                odom.stamp
            )));
        }
        self.odom_buffer.push_back((odom.stamp, odom.pose));
        while self.odom_buffer.len() > 1000 {
            self.odom_buffer.pop_front();
        }
        Ok(())
    }

    /// The odometry pose at `t` interpolated from the buffer (the nearest end outside it).
    fn odometry_at(&self, t: Stamp) -> Option<Pose2> {
        let b = &self.odom_buffer;
        let k = b.partition_point(|&(s, _)| s <= t);
        match (k.checked_sub(1).and_then(|i| b.get(i)), b.get(k)) {
            (Some(&(t0, p0)), Some(&(t1, p1))) => {
                let span = t1.seconds_since(t0);
                let a = if span > 0.0 {
                    t.seconds_since(t0) / span
                } else {
                    0.0
                };
                let d = p0.between(&p1);
                Some(p0 * Pose2::new(a * d.x(), a * d.y(), a * d.theta()))
            }
            (Some(&(_, p)), None) | (None, Some(&(_, p))) => Some(p),
            (None, None) => None,
        }
    }

    /// Processes one scan. `odom_pose` is the robot's odometry pose at the scan's time if the
    /// source gives one (CARMEN logs do); otherwise buffered odometry is interpolated, and
    /// without any odometry the scan is matched from the previous pose.
    pub fn on_scan(&mut self, scan: &LaserScan, odom_pose: Option<Pose2>) -> Result<PoseEstimate> {
        if !(scan.angle_min.is_finite()
            && scan.angle_increment.is_finite()
            && scan.range_min.is_finite()
            && !scan.range_max.is_nan())
        {
            return Err(LocalizationError::InvalidInput(format!(
                "scan at {} has non-finite geometry",
                scan.stamp
            )));
        }
        // Real logs (Intel's among them) have scans a few ms out of order: they are processed
        // in arrival order and counted.
        if let Some(t) = self.last_stamp
            && scan.stamp < t
        {
            self.stats.out_of_order_scans += 1;
        }
        let odom = match odom_pose {
            Some(p) if !p.is_finite() => {
                return Err(LocalizationError::InvalidInput(format!(
                    "scan at {} has a non-finite odometry pose",
                    scan.stamp
                )));
            }
            Some(p) => Some(p),
            None => self.odometry_at(scan.stamp),
        };
        let (hits, free_ends) = self.scan_points(scan);

        let predicted = match (self.last_odom, odom) {
            (Some(a), Some(b)) => self.last_local * a.between(&b),
            _ => self.last_local,
        };
        let mut local = predicted;
        let mut match_score = 0.0;
        if let Some(&s) = self.active.first()
            && !hits.is_empty()
        {
            let sm = &self.submaps[s];
            let init = sm.local.between(&predicted);
            let start = if self.params.use_correlative_search {
                // The coarse search needs no more than one point per voxel.
                voxel_filter(
                    &hits,
                    self.params.correlative_voxel_size,
                    &mut self.voxel_buf,
                );
                matcher::correlative(
                    &sm.grid,
                    &self.tables,
                    &self.voxel_buf,
                    &init,
                    &self.params.correlative,
                    &mut self.cell_buf,
                )
                .0
            } else {
                init
            };
            // As in Cartographer, the translation is pulled towards the prediction and the
            // heading towards the correlative result.
            let target = Pose2::new(init.x(), init.y(), start.theta());
            let refined = matcher::refine(
                &sm.grid,
                &self.tables,
                &hits,
                &start,
                &target,
                &self.params.local_refine,
            );
            match_score = matcher::score(&sm.grid, &self.tables, &hits, &refined);
            local = sm.local * refined;
        }
        self.last_local = local;
        if odom.is_some() {
            self.last_odom = odom;
        }
        self.last_stamp = Some(self.last_stamp.map_or(scan.stamp, |t| t.max(scan.stamp)));
        self.stats.scans += 1;

        let is_node = match self.nodes.last() {
            None => true,
            Some(n) => {
                let d = n.local.between(&local);
                d.translation().norm() > self.params.motion_filter_distance
                    || d.theta().abs() > self.params.motion_filter_angle_deg.to_radians()
                    || scan.stamp.seconds_since(n.stamp) > self.params.motion_filter_time
            }
        };
        if is_node {
            self.add_node(scan.stamp, local, hits, free_ends)?;
        }
        let node = self.nodes.len() - 1;
        self.scans.push(ScanRecord {
            stamp: scan.stamp,
            node,
            local,
        });
        Ok(PoseEstimate {
            stamp: scan.stamp,
            pose: self.global_of(node, &local),
            local_pose: local,
            match_score,
            is_node,
        })
    }

    /// Global pose of a local pose recorded after node `node`.
    fn global_of(&self, node: usize, local: &Pose2) -> Pose2 {
        let n = &self.nodes[node];
        self.graph.poses[n.var] * n.local.between(local)
    }

    /// Valid beam end points (robot frame) and shortened no-return rays; counts bad beams.
    fn scan_points(&mut self, scan: &LaserScan) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
        let mut hits = Vec::with_capacity(scan.ranges.len());
        let mut free = Vec::new();
        let min_r = self.params.min_range.max(scan.range_min as f64);
        let max_r = self.params.max_range.min(scan.range_max as f64);
        for (i, &r) in scan.ranges.iter().enumerate() {
            let r = r as f64;
            let a = scan.angle_min as f64 + i as f64 * scan.angle_increment as f64;
            let dir = Point2::new(a.cos(), a.sin());
            if !r.is_finite() {
                self.stats.nan_beams += 1;
                continue;
            }
            if r < min_r {
                self.stats.out_of_range_beams += 1;
                continue;
            }
            if r >= max_r {
                self.stats.no_return_beams += 1;
                if self.params.missing_ray_length > 0.0 {
                    let len = self.params.missing_ray_length;
                    let p = self
                        .laser_offset
                        .transform_point(&Point2::new(dir.x * len, dir.y * len));
                    free.push([p.x, p.y]);
                }
                continue;
            }
            let p = self
                .laser_offset
                .transform_point(&Point2::new(dir.x * r, dir.y * r));
            hits.push([p.x, p.y]);
        }
        (hits, free)
    }

    fn add_node(
        &mut self,
        stamp: Stamp,
        local: Pose2,
        hits: Vec<[f64; 2]>,
        free_ends: Vec<[f64; 2]>,
    ) -> Result<()> {
        let idx = self.nodes.len();
        let w = self.params.weights;
        if self
            .active
            .last()
            .is_none_or(|&s| self.submaps[s].inserted >= self.params.scans_per_submap)
        {
            let sl = Pose2::new(local.x(), local.y(), 0.0);
            let fixed = self.submaps.is_empty();
            let var = self.graph.add_pose(self.local_to_global * sl, fixed);
            self.submaps.push(Submap {
                local: sl,
                grid: ProbGrid::new(self.params.resolution, [0.0, 0.0]),
                var,
                first_node: idx,
                inserted: 0,
                precomputed: None,
                sampler: Sampler::default(),
            });
            self.active.push(self.submaps.len() - 1);
            self.global_samplers.push(Sampler::default());
            self.stats.submaps += 1;
        }
        let var = self.graph.add_pose(self.local_to_global * local, false);
        let sensor_robot = self.laser_offset.translation();
        for &s in &self.active {
            let sm = &mut self.submaps[s];
            let t = sm.local.between(&local);
            let tp = |p: &[f64; 2]| {
                let q = t.transform_point(&Point2::new(p[0], p[1]));
                [q.x, q.y]
            };
            let sensor = tp(&[sensor_robot.x, sensor_robot.y]);
            let h: Vec<[f64; 2]> = hits.iter().map(tp).collect();
            let f: Vec<[f64; 2]> = free_ends.iter().map(tp).collect();
            sm.grid.insert(&self.tables, sensor, &h, &f);
            sm.inserted += 1;
            self.graph.add_constraint(Constraint {
                a: sm.var,
                b: var,
                z: t,
                translation_weight: w.intra_translation,
                rotation_weight: w.intra_rotation,
                kernel: RobustKernel::None,
            })?;
        }
        if let Some(prev) = self.nodes.last() {
            self.graph.add_constraint(Constraint {
                a: prev.var,
                b: var,
                z: prev.local.between(&local),
                translation_weight: w.consecutive_translation,
                rotation_weight: w.consecutive_rotation,
                kernel: RobustKernel::None,
            })?;
        }
        self.nodes.push(Node {
            stamp,
            local,
            var,
            hits,
            free_ends,
        });
        self.stats.nodes += 1;

        // Finish the oldest active submap once it has seen two submaps' worth of scans, and
        // look for the earlier nodes in it.
        if let Some(&s) = self.active.first()
            && self.submaps[s].inserted >= 2 * self.params.scans_per_submap
        {
            self.active.remove(0);
            let depth = self.params.loop_closure.branch_and_bound_depth;
            let pre = Precomputed::new(&self.submaps[s].grid, &self.tables, depth);
            self.submaps[s].precomputed = Some(pre);
            let first = self.submaps[s].first_node;
            for n in 0..first {
                self.try_loop_closure(n, s)?;
            }
        }
        // Look for the new node in every finished submap.
        for s in 0..self.submaps.len() {
            if self.submaps[s].precomputed.is_some() {
                self.try_loop_closure(idx, s)?;
            }
        }
        self.nodes_since_optimization += 1;
        if self.nodes_since_optimization >= self.params.optimize_every_n_nodes.max(1) {
            let p = self.params.solver;
            self.optimize(&p)?;
        }
        Ok(())
    }

    /// Tries to match node `n` against finished submap `s`; adds a loop-closure constraint
    /// when the match is good enough.
    fn try_loop_closure(&mut self, n: usize, s: usize) -> Result<()> {
        let lp = self.params.loop_closure;
        if self.submaps[s].precomputed.is_none() || self.nodes[n].hits.is_empty() {
            return Ok(());
        }
        let rel =
            self.graph.poses[self.submaps[s].var].between(&self.graph.poses[self.nodes[n].var]);
        if rel.translation().norm() > lp.max_distance {
            return Ok(());
        }
        if !self.submaps[s].sampler.pulse(lp.sampling_ratio) {
            return Ok(());
        }
        let node = &self.nodes[n];
        let sm = &self.submaps[s];
        let Some(pre) = &sm.precomputed else {
            return Ok(());
        };
        self.stats.loop_closure_searches += 1;
        let max_r = node
            .hits
            .iter()
            .map(|p| p[0].hypot(p[1]))
            .fold(0.0, f64::max)
            .max(self.params.resolution);
        let r = self.params.resolution;
        let step = (1.0 - r * r / (2.0 * max_r * max_r))
            .acos()
            .max(lp.min_angular_step_deg.to_radians());
        let window = |linear: f64, angular_deg: f64| {
            let angular = angular_deg.to_radians();
            let cells = (linear / r).max(angular * max_r / r).max(1.0);
            BnbWindow {
                linear,
                // The coarsest level just covers the window.
                max_level: cells.log2().ceil() as usize,
                angular,
                angular_step: step,
                min_score: lp.min_score,
            }
        };
        voxel_filter(&node.hits, lp.voxel_size, &mut self.voxel_buf);
        let local = window(lp.local_linear_window, lp.local_angular_window_deg);
        let mut found = bnb::search(pre, &self.voxel_buf, &rel, &local);
        if found.is_none() && self.global_samplers[s].pulse(lp.global_sampling_ratio) {
            self.stats.global_loop_closure_searches += 1;
            let global = window(lp.linear_window, lp.angular_window_deg);
            found = bnb::search(pre, &self.voxel_buf, &rel, &global);
        }
        let Some((found, _)) = found else {
            return Ok(());
        };
        let (node, sm) = (&self.nodes[n], &self.submaps[s]);
        let refined = matcher::refine(
            &sm.grid,
            &self.tables,
            &node.hits,
            &found,
            &found,
            &lp.refine,
        );
        let w = self.params.weights;
        let (a, b) = (sm.var, node.var);
        self.graph.add_constraint(Constraint {
            a,
            b,
            z: refined,
            translation_weight: w.loop_translation,
            rotation_weight: w.loop_rotation,
            kernel: RobustKernel::Huber(w.loop_huber),
        })?;
        self.stats.loop_closures += 1;
        Ok(())
    }

    /// Optimises the pose graph and updates the local→global transform of new nodes.
    fn optimize(&mut self, p: &SolverParams) -> Result<()> {
        self.graph.optimize(p)?;
        self.stats.optimizations += 1;
        self.nodes_since_optimization = 0;
        if let Some(n) = self.nodes.last() {
            self.local_to_global = self.graph.poses[n.var] * n.local.inverse();
        }
        Ok(())
    }

    /// Ends the run: optimises the graph to convergence (loop closures were searched as nodes
    /// and submaps came in).
    pub fn finish(&mut self) -> Result<()> {
        let p = self.params.final_solver;
        self.optimize(&p)
    }

    /// The optimised robot pose of every scan, in input order.
    pub fn trajectory(&self) -> Vec<(Stamp, Pose2)> {
        self.scans
            .iter()
            .map(|r| (r.stamp, self.global_of(r.node, &r.local)))
            .collect()
    }

    /// Number of pose-graph constraints (of all kinds).
    pub fn constraint_count(&self) -> usize {
        self.graph.constraints.len()
    }

    /// The global map: all nodes' scans inserted at their optimised poses.
    pub fn map(&self) -> OccupancyGrid {
        let mut g = ProbGrid::new(self.params.resolution, [0.0, 0.0]);
        let sensor = self.laser_offset.translation();
        for n in &self.nodes {
            let t = self.graph.poses[n.var];
            let tp = |p: &[f64; 2]| {
                let q = t.transform_point(&Point2::new(p[0], p[1]));
                [q.x, q.y]
            };
            let h: Vec<[f64; 2]> = n.hits.iter().map(tp).collect();
            let f: Vec<[f64; 2]> = n.free_ends.iter().map(tp).collect();
            g.insert(&self.tables, tp(&[sensor.x, sensor.y]), &h, &f);
        }
        g.to_occupancy(&self.tables)
    }
}

/// Keeps the first point in each `size`-metre cell (all points when `size` ≤ 0).
fn voxel_filter(points: &[[f64; 2]], size: f64, out: &mut Vec<[f64; 2]>) {
    out.clear();
    if size <= 0.0 {
        out.extend_from_slice(points);
        return;
    }
    let mut seen = std::collections::HashSet::with_capacity(points.len());
    for p in points {
        let key = ((p[0] / size).floor() as i64, (p[1] / size).floor() as i64);
        if seen.insert(key) {
            out.push(*p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::Twist2;
    use courier_core::geometry::Covariance3;

    #[test]
    fn scans_without_odometry_interpolate_buffered_odometry() {
        let mut slam = Slam2d::new(Slam2dParams::default()).expect("valid params");
        for (t, x) in [(0, 0.0), (1_000_000_000, 1.0)] {
            slam.on_odometry(&WheelOdometry {
                stamp: Stamp(t),
                pose: Pose2::new(x, 0.0, 0.0),
                twist: Twist2::default(),
                pose_covariance: Covariance3::identity(),
                twist_covariance: Covariance3::identity(),
            })
            .expect("finite odometry");
        }
        let p = slam
            .odometry_at(Stamp(250_000_000))
            .expect("inside the buffer");
        assert!((p.x() - 0.25).abs() < 1e-12);
        let late = slam
            .odometry_at(Stamp(5_000_000_000))
            .expect("clamped to the end");
        assert!((late.x() - 1.0).abs() < 1e-12);
        let bad = WheelOdometry {
            stamp: Stamp(2_000_000_000),
            pose: Pose2::new(f64::NAN, 0.0, 0.0),
            twist: Twist2::default(),
            pose_covariance: Covariance3::identity(),
            twist_covariance: Covariance3::identity(),
        };
        assert!(slam.on_odometry(&bad).is_err());
    }

    #[test]
    fn voxel_filter_keeps_one_point_per_cell() {
        let pts = [[0.01, 0.01], [0.02, 0.03], [0.5, 0.5], [-0.01, 0.0]];
        let mut out = Vec::new();
        voxel_filter(&pts, 0.1, &mut out);
        assert_eq!(out, vec![[0.01, 0.01], [0.5, 0.5], [-0.01, 0.0]]);
        voxel_filter(&pts, 0.0, &mut out);
        assert_eq!(out.len(), 4);
    }
}
