//! Errors of the fleet crate: every bad input says what was wrong and where (which agent, which
//! cell, which step).

/// Every error of `courier-fleet`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FleetError {
    /// A MAPF instance that cannot be solved or is malformed (checked before any search).
    #[error("invalid MAPF instance: {0}")]
    Instance(String),
    /// A MAPF solution that breaks the rules (see [`crate::mapf::validate`]).
    #[error("invalid MAPF solution: {0}")]
    Solution(String),
    /// Bad parameters (e.g. a negative time limit).
    #[error("invalid parameter: {0}")]
    Param(String),
}

/// Result with a [`FleetError`].
pub type Result<T, E = FleetError> = std::result::Result<T, E>;
