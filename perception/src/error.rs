//! The perception crate's error type.

use thiserror::Error;

/// What went wrong, and where.
#[derive(Debug, Error, PartialEq)]
pub enum PerceptionError {
    /// A point cloud whose per-point fields have different lengths.
    #[error("point cloud '{frame}' is inconsistent: {what}")]
    InconsistentCloud { frame: String, what: String },
    /// A parameter outside its valid range.
    #[error("parameter {name} = {value} is invalid: {why}")]
    BadParameter {
        name: &'static str,
        value: String,
        why: &'static str,
    },
    /// A message older than the previous one given to a stateful core.
    #[error("{what} stamp {stamp_ns} ns is before the previous one ({previous_ns} ns)")]
    TimeWentBackwards {
        what: &'static str,
        stamp_ns: i64,
        previous_ns: i64,
    },
    /// A mask or label array whose length does not match its cloud.
    #[error("{what} has {got} entries but the cloud has {expected} points")]
    LengthMismatch {
        what: &'static str,
        got: usize,
        expected: usize,
    },
}

/// Result with [`PerceptionError`].
pub type Result<T, E = PerceptionError> = std::result::Result<T, E>;

pub(crate) fn check_cloud(cloud: &courier_core::msgs::PointCloud) -> Result<()> {
    if cloud.is_consistent() {
        return Ok(());
    }
    Err(PerceptionError::InconsistentCloud {
        frame: cloud.frame_id.clone(),
        what: format!(
            "x {} / y {} / z {} / intensity {} / ring {:?} / time {:?} entries",
            cloud.x.len(),
            cloud.y.len(),
            cloud.z.len(),
            cloud.intensity.len(),
            cloud.ring.as_ref().map(Vec::len),
            cloud.time.as_ref().map(Vec::len)
        ),
    })
}
