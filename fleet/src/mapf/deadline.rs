//! When a search must stop: a wall-clock instant, or a budget of this thread's CPU time (for
//! benchmarks on a shared machine, where wall time depends on the other processes).

use std::time::{Duration, Instant};

/// A time limit checked inside the solvers' loops.
#[derive(Debug, Clone)]
pub enum Deadline {
    /// Stop at this wall-clock instant.
    Wall(Instant),
    /// Stop when the calling thread has used `budget` of CPU time since `start`. Only
    /// meaningful on the thread that created it.
    ThreadCpu {
        start: cpu_time::ThreadTime,
        budget: Duration,
    },
}

impl Deadline {
    /// `seconds` of wall time from now.
    pub fn wall_in(seconds: f64) -> Self {
        Deadline::Wall(Instant::now() + Duration::from_secs_f64(seconds.clamp(0.0, 1e9)))
    }
    /// `seconds` of this thread's CPU time from now.
    pub fn cpu_in(seconds: f64) -> Self {
        Deadline::ThreadCpu {
            start: cpu_time::ThreadTime::now(),
            budget: Duration::from_secs_f64(seconds.clamp(0.0, 1e9)),
        }
    }
    /// Never (for tests and unbounded runs).
    pub fn never() -> Self {
        Self::wall_in(1e9)
    }
    /// Has the limit passed?
    #[inline]
    pub fn passed(&self) -> bool {
        match self {
            Deadline::Wall(t) => Instant::now() >= *t,
            Deadline::ThreadCpu { start, budget } => start.elapsed() >= *budget,
        }
    }
}
