//! Courier's headless fleet simulation: worlds, vehicle models, contact checks, scenario files,
//! metrics and Rerun recording, stepping the real fleet stack in the loop. Ground truth (where
//! robots are) stays apart from what robots believe (their localization estimate).

pub mod agv;
pub mod collision;
pub mod error;
pub mod metrics;
pub mod record;
pub mod run;
pub mod scenario;
pub mod sensors;
pub mod warehouse;

pub use error::SimError;
pub use metrics::Metrics;
pub use scenario::Scenario;
