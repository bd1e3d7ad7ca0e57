//! The typed errors of Hybrid-A*, road routing, path following and the node cores.

use thiserror::Error;

/// What went wrong in planning or control: says what and where, never panics.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PlanError {
    /// A pose, twist or parameter held NaN or infinity.
    #[error("{what} is not finite: {value}")]
    NonFinite { what: &'static str, value: String },
    /// A start or goal lies outside the map.
    #[error("{what} ({x:.3}, {y:.3}) lies off the map")]
    OffMap { what: &'static str, x: f64, y: f64 },
    /// A start or goal footprint overlaps an obstacle.
    #[error("{what} ({x:.3}, {y:.3}, θ={theta:.3}) is in collision")]
    InCollision {
        what: &'static str,
        x: f64,
        y: f64,
        theta: f64,
    },
    /// The search ran out of states or budget without reaching the goal.
    #[error("no path found after {expansions} expansions ({reason})")]
    NoPath {
        expansions: usize,
        reason: &'static str,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name}: {reason}")]
    InvalidParam { name: &'static str, reason: String },
    /// The input path is empty or unusable.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// An OpenStreetMap file could not be read.
    #[error("OSM {location}: {message}")]
    Osm { location: String, message: String },
    /// A road-graph node id is unknown.
    #[error("unknown road node {0}")]
    UnknownNode(i64),
    /// A stop cannot be reached from another in the road graph.
    #[error("stop {to} cannot be reached from stop {from}")]
    Unreachable { from: usize, to: usize },
}

/// Checks that every value is finite; names the first offender.
pub(crate) fn check_finite(what: &'static str, values: &[f64]) -> Result<(), PlanError> {
    if values.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(PlanError::NonFinite {
            what,
            value: format!("{values:?}"),
        })
    }
}
