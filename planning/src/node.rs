//! Node cores of the planning stack: [`Planner`] (map, pose, goal, obstacles → path) and
//! [`Controller`] (path, pose, obstacles → twist). Plain structs with typed inputs and outputs;
//! a host (ROS node, simulator, CLI) feeds them. Bad input gives a [`PlanError`], never a panic.

use crate::control::{ControlParams, FollowPath, FollowerKind, Mppi, RegulatedPurePursuit, World};
use crate::hybrid::error::check_finite;
use crate::hybrid::heuristic::HolonomicHeuristic;
use crate::hybrid::{CollisionGrid, Footprint, HybridAStar, HybridParams, PlanError};
use courier_core::path::Path2;
use courier_core::{OccupancyGrid, Pose2, Stamp, Twist2};
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
        self.set_grid(grid)
    }

    /// Sets the collision world directly, e.g. built from a costmap's lethal cells with
    /// [`CollisionGrid::from_cells`].
    pub fn set_grid(&mut self, grid: CollisionGrid) -> Result<(), PlanError> {
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
        let local = if obstacles.is_empty() {
            let cell = (
                (g[0] / (base.resolution * factor as f64)).floor() as i64,
                (g[1] / (base.resolution * factor as f64)).floor() as i64,
            );
            if self.cached.as_ref().is_none_or(|(c, _)| *c != cell) {
                let h = astar.holonomic_heuristic(base, g);
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
            let holo = astar.holonomic_heuristic(&grid, g);
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

/// The controller's output for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlOutput {
    pub stamp: Stamp,
    pub twist: Twist2,
    /// The end of the path is reached (the twist then brings the vehicle to rest).
    pub goal_reached: bool,
}

#[derive(Debug, Clone)]
enum Follower {
    PurePursuit(RegulatedPurePursuit),
    Mppi(Box<Mppi>),
}

/// The path-following node core: path + pose + obstacles → twist, within the limits.
#[derive(Debug)]
pub struct Controller {
    pub params: ControlParams,
    footprint: Footprint,
    follower: Follower,
    path: Option<FollowPath>,
    grid: Option<CollisionGrid>,
    last: Option<(Stamp, Twist2)>,
}

impl Controller {
    pub fn new(params: ControlParams) -> Result<Self, PlanError> {
        check_finite(
            "control limits",
            &[
                params.limits.max_speed,
                params.limits.max_reverse_speed,
                params.limits.max_yaw_rate,
                params.limits.max_accel,
                params.limits.max_decel,
                params.limits.max_yaw_accel,
                params.control_period,
            ],
        )?;
        let l = &params.limits;
        if [
            l.max_speed,
            l.max_yaw_rate,
            l.max_accel,
            l.max_decel,
            l.max_yaw_accel,
            params.control_period,
        ]
        .iter()
        .any(|&v| v <= 0.0)
            || l.max_reverse_speed < 0.0
        {
            return Err(PlanError::InvalidParam {
                name: "limits",
                reason: format!("speeds, accelerations and the period must be > 0: {l:?}"),
            });
        }
        let footprint = Footprint::new(&params.footprint, 0.05, 72)?;
        let follower = match params.kind {
            FollowerKind::PurePursuit => Follower::PurePursuit(RegulatedPurePursuit::new()),
            FollowerKind::Mppi => Follower::Mppi(Box::new(Mppi::new(&params.mppi))),
        };
        Ok(Self {
            params,
            footprint,
            follower,
            path: None,
            grid: None,
            last: None,
        })
    }

    /// Sets the static map checked along the path ahead.
    pub fn set_map(&mut self, map: &OccupancyGrid) -> Result<(), PlanError> {
        let g = CollisionGrid::from_occupancy(map, 65, true)?;
        self.footprint = Footprint::new(&self.params.footprint, g.resolution, 72)?;
        self.grid = Some(g);
        Ok(())
    }

    /// Sets the path to follow (map frame), with the driving direction per pose if known.
    pub fn set_path(&mut self, path: &Path2, forward: Option<&[bool]>) -> Result<(), PlanError> {
        if path.poses.is_empty() {
            return Err(PlanError::InvalidPath("the path has no poses".into()));
        }
        for (i, p) in path.poses.iter().enumerate() {
            if !p.is_finite() {
                return Err(PlanError::InvalidPath(format!(
                    "pose {i} is not finite: {p:?}"
                )));
            }
        }
        if let Some(f) = forward
            && f.len() != path.poses.len()
        {
            return Err(PlanError::InvalidPath(format!(
                "{} directions for {} poses",
                f.len(),
                path.poses.len()
            )));
        }
        self.path = Some(FollowPath::new(&path.poses, forward));
        match &mut self.follower {
            Follower::PurePursuit(f) => f.progress = 0,
            Follower::Mppi(f) => **f = Mppi::new(&self.params.mppi),
        }
        Ok(())
    }

    /// One control step at `stamp` for the vehicle at `pose` (map frame), with obstacle points
    /// (map frame) seen now.
    pub fn compute(
        &mut self,
        stamp: Stamp,
        pose: &Pose2,
        obstacles: &[[f64; 2]],
    ) -> Result<ControlOutput, PlanError> {
        check_finite("pose", &[pose.x(), pose.y(), pose.theta()])?;
        for p in obstacles {
            check_finite("obstacle point", p)?;
        }
        let path = self
            .path
            .as_ref()
            .ok_or_else(|| PlanError::InvalidPath("no path set: call set_path first".into()))?;
        let (dt, prev) = match self.last {
            Some((t, tw)) => {
                let dt = stamp.seconds_since(t);
                if dt.is_nan() || dt <= 0.0 {
                    return Err(PlanError::InvalidParam {
                        name: "stamp",
                        reason: format!("{stamp} is not after the previous step {t}"),
                    });
                }
                (dt.min(1.0), tw)
            }
            None => (self.params.control_period, Twist2::default()),
        };
        let world = World {
            grid: self.grid.as_ref(),
            points: obstacles,
        };
        let p = [pose.x(), pose.y(), pose.theta()];
        let (twist, goal_reached) = match &mut self.follower {
            Follower::PurePursuit(f) => {
                f.command(&self.params, &self.footprint, path, &world, p, prev, dt)
            }
            Follower::Mppi(f) => {
                f.command(&self.params, &self.footprint, path, &world, p, prev, dt)
            }
        };
        self.last = Some((stamp, twist));
        Ok(ControlOutput {
            stamp,
            twist,
            goal_reached,
        })
    }
}
