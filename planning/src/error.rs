//! The one error type of the planning crate.

/// What went wrong while planning, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanningError {
    /// A start or goal cell lies outside the map.
    #[error("{what} ({x}, {y}) lies outside the {width}x{height} map")]
    OffMap {
        what: &'static str,
        x: i64,
        y: i64,
        width: usize,
        height: usize,
    },
    /// A start or goal cell is an obstacle.
    #[error("{what} ({x}, {y}) is a blocked cell")]
    Blocked { what: &'static str, x: i64, y: i64 },
    /// No path joins start and goal under the movement rules.
    #[error("no path from ({}, {}) to ({}, {})", start.0, start.1, goal.0, goal.1)]
    Unreachable {
        start: (usize, usize),
        goal: (usize, usize),
    },
    /// A parameter is out of its valid range (NaN, negative, inconsistent with another).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: &'static str, reason: String },
    /// An input message holds a value that cannot be used (NaN coordinate, wrong size, …).
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: String, reason: String },
}

/// Result with [`PlanningError`] as the default error.
pub type Result<T, E = PlanningError> = std::result::Result<T, E>;
