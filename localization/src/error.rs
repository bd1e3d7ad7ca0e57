//! Errors of the localization crate: bad input says what and where; nothing here panics on it.

use std::path::PathBuf;

/// Every error of `courier-localization`.
#[derive(Debug, thiserror::Error)]
pub enum LocalizationError {
    /// A sensor message that cannot be used (non-finite geometry, empty scan, time going back).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A parameter outside its valid range.
    #[error("invalid parameter {name}: {message}")]
    InvalidParameter { name: &'static str, message: String },
    /// A malformed text file (relations, poses), with the 1-based line.
    #[error("{}:{line}: {message}", file.display())]
    Format {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// A trajectory lacks a pose that an evaluation needs.
    #[error("missing pose: {0}")]
    MissingPose(String),
    /// The optimizer met a numerically singular system.
    #[error("pose-graph optimization failed: {0}")]
    Optimization(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Core(#[from] courier_core::CoreError),
}

impl LocalizationError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = LocalizationError> = std::result::Result<T, E>;
