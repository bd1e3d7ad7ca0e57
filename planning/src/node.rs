//! Node cores of the planning stack: [`Planner`] (map, pose, goal, obstacles → path) and
//! [`Controller`] (path, pose, obstacles → twist). Plain structs with typed inputs and outputs;
//! a host (ROS node, simulator, CLI) feeds them. Bad input gives a [`PlanError`], never a panic.

use crate::hybrid::error::check_finite;
use crate::hybrid::heuristic::HolonomicHeuristic;
use crate::hybrid::{CollisionGrid, HybridAStar, HybridParams, PlanError};
use courier_core::path::Path2;
use courier_core::{OccupancyGrid, Pose2, Stamp};
use serde::{Deserialize, Serialize};

/// Parameters of the [`Planner`] node core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlannerParams {
    /// Hybrid-A* settings (vehicle, footprint, search).
    pub hybrid: HybridParams,
    /// Occupancy values at or above this are obstacles (default 65, Nav2's occupied_thresh).
    pub occupied_threshold: i8,
    /// Whether unknown cells (−1) are obstacles (default true).
    pub unknown_is_blocked: bool,
    /// Frame id written into output paths (default "map").
    pub frame_id: String,
}

impl Default for PlannerParams {
    fn default() -> Self {
        Self {
            hybrid: HybridParams::default(),
            occupied_threshold: 65,
            unknown_is_blocked: true,
            frame_id: "map".into(),
        }
    }
}

/// A planned path: map-frame poses and the direction driven to reach each one.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPath {
    pub path: Path2,
    /// true = forward, one per pose.
    pub forward: Vec<bool>,
    /// Search expansions used.
    pub expansions: usize,
}

/// The planning node core: keeps the map, its distance field, the vehicle's precomputed
/// tables, and the holonomic heuristic of the last goal.
#[derive(Debug)]
pub struct Planner {
    pub params: PlannerParams,
    astar: Option<HybridAStar>,
    grid: Option<CollisionGrid>,
    /// (goal lattice cell, heuristic) of the last goal on the static map.
    cached: Option<((i64, i64), HolonomicHeuristic)>,
}

impl Planner {
    pub fn new(params: PlannerParams) -> Result<Self, PlanError> {
        params.hybrid.validate()?;
        Ok(Self {
            params,
            astar: None,
            grid: None,
            cached: None,
        })
    }

    /// Sets the static map (precomputes its distance field, and the vehicle tables when the
    /// resolution changes).
    pub fn set_map(&mut self, map: &OccupancyGrid) -> Result<(), PlanError> {
        let grid = CollisionGrid::from_occupancy(
            map,
            self.params.occupied_threshold,
            self.params.unknown_is_blocked,
        )?;
        if self
            .grid
            .as_ref()
            .is_none_or(|g| g.resolution != grid.resolution)
            || self.astar.is_none()
        {
            self.astar = Some(HybridAStar::new(
                self.params.hybrid.clone(),
                grid.resolution,
            )?);
        }
        self.grid = Some(grid);
        self.cached = None;
        Ok(())
    }

    /// The collision world (after [`Planner::set_map`]).
    pub fn grid(&self) -> Option<&CollisionGrid> {
        self.grid.as_ref()
    }

    /// Plans from `start` to `goal` (map frame) around the map and the extra obstacle points
    /// (map frame, e.g. from a scan).
    pub fn plan(
        &mut self,
        stamp: Stamp,
        start: &Pose2,
        goal: &Pose2,
        obstacles: &[[f64; 2]],
    ) -> Result<PlannedPath, PlanError> {
        check_finite("start pose", &[start.x(), start.y(), start.theta()])?;
        check_finite("goal pose", &[goal.x(), goal.y(), goal.theta()])?;
        let (Some(base), Some(astar)) = (self.grid.as_ref(), self.astar.as_mut()) else {
            return Err(PlanError::InvalidParam {
                name: "map",
                reason: "no map set: call set_map first".into(),
            });
        };
        let (s, g) = (base.to_local(start), base.to_local(goal));
        for (what, p) in [("start", s), ("goal", g)] {
            if base.index_of(p[0], p[1]).is_none() {
                let m = if what == "start" { start } else { goal };
                return Err(PlanError::OffMap {
                    what,
                    x: m.x(),
                    y: m.y(),
                });
            }
        }
        let factor =
            ((self.params.hybrid.lattice_resolution / base.resolution).round() as usize).max(1);
        let clearance = astar.footprint.inscribed;
        let local = if obstacles.is_empty() {
            let cell = (
                (g[0] / (base.resolution * factor as f64)).floor() as i64,
                (g[1] / (base.resolution * factor as f64)).floor() as i64,
            );
            if self.cached.as_ref().is_none_or(|(c, _)| *c != cell) {
                let h = HolonomicHeuristic::compute(base, factor, clearance, [g[0], g[1]]);
                self.cached = Some((cell, h));
            }
            let (_, holo) = self
                .cached
                .as_ref()
                .expect("the cache was filled just above");
            astar.plan(base, holo, s, g)
        } else {
            let mut grid = base.clone();
            grid.add_obstacle_points(obstacles)?;
            let holo = HolonomicHeuristic::compute(&grid, factor, clearance, [g[0], g[1]]);
            astar.plan(&grid, &holo, s, g)
        };
        let local = local.map_err(|e| to_map_error(e, base))?;
        Ok(PlannedPath {
            path: Path2 {
                stamp,
                frame_id: self.params.frame_id.clone(),
                poses: local.poses.iter().map(|&p| base.to_map(p)).collect(),
            },
            forward: local.forward,
            expansions: local.expansions,
        })
    }
}

/// Reports collision positions in the map frame rather than the grid frame.
fn to_map_error(e: PlanError, grid: &CollisionGrid) -> PlanError {
    match e {
        PlanError::InCollision { what, x, y, theta } => {
            let p = grid.to_map([x, y, theta]);
            PlanError::InCollision {
                what,
                x: p.x(),
                y: p.y(),
                theta: p.theta(),
            }
        }
        other => other,
    }
}
