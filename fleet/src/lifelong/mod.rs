//! Lifelong operation, the warehouse case: tasks (sequences of errands) arrive over time, a
//! scheduler gives them to robots, a planner gives every robot an action each step within a
//! time budget, and a [`Simulator`] executes the actions, rejecting any illegal set (vertex or
//! edge conflict, a move into an obstacle or off the map, an action foreign to the motion
//! model). The score is the number of tasks completed. Rules follow the League of Robot Runners
//! (LoRR) 2024 competition (the planner picks which robot does which task) and 2023
//! (round-robin single errands); see [`crate::lorr`] for the instance files.
//!
//! ```
//! use courier_fleet::lifelong::{self, LifelongParams, Problem};
//! use courier_core::GridMap;
//! let map = GridMap::new(4, 3, vec![true; 12]);
//! let problem = Problem::generate("demo", map, 3, 7).unwrap();
//! let m = lifelong::run(&problem, 60, &LifelongParams::default(), |_, _| {}).unwrap();
//! assert!(m.tasks_completed > 0);
//! ```

mod epibt;
mod motion;
mod nearest;
mod park;
mod pibt;
mod problem;
mod runner;
mod scheduler;
mod sim;
mod wlns;

// The bounded table cache lives in `crate::distance` (shared with MAPF); re-exported here.
pub use crate::distance::DistanceCache;
pub use motion::{Action, AgentState, MotionModel, apply, direction_to, neighbor, turns};
pub use pibt::{Planner, PlannerParams};
pub use problem::{Problem, TaskRules, TaskTerms};
pub use runner::{LifelongParams, Metrics, StepStats, Summary, run};
pub use scheduler::{JAM_WINDOW, Scheduler, SchedulerMethod, SchedulerParams};
pub use sim::{PoolTask, Simulator, StepOutcome, TaskTimes};

use courier_core::error::{CoreError, FormatError};
use std::path::{Path, PathBuf};

/// Every error of lifelong operation.
#[derive(Debug, thiserror::Error)]
pub enum LifelongError {
    /// A malformed input file, with file and line.
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The simulator refused a step: the plan is illegal.
    #[error("illegal plan at step {step}: agent {agent}: {reason}")]
    IllegalPlan {
        step: usize,
        agent: usize,
        reason: String,
    },
    /// The scheduler proposed an assignment the rules forbid.
    #[error("illegal schedule at step {step}: agent {agent}: {reason}")]
    IllegalSchedule {
        step: usize,
        agent: usize,
        reason: String,
    },
    #[error("invalid input: {0}")]
    Invalid(String),
    /// An error of the shared fleet building blocks (e.g. a map too large for `u32` cell ids).
    #[error(transparent)]
    Fleet(#[from] crate::error::FleetError),
}

impl LifelongError {
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}
