//! Errors of the simulator.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{}: {message}", path.display())]
    Scenario { path: PathBuf, message: String },
    #[error("unknown scenario {name:?}; bundled scenarios: {known}")]
    UnknownScenario { name: String, known: String },
    #[error("invalid scenario: {0}")]
    Invalid(String),
    #[error(transparent)]
    Core(#[from] courier_core::CoreError),
    #[error("recording: {0}")]
    Record(String),
    #[error("{0}")]
    Fleet(String),
}

pub type Result<T, E = SimError> = std::result::Result<T, E>;
