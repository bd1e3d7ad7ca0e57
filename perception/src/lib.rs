//! Courier perception: point clouds → ground / obstacles → clusters → tracked objects, and laser
//! scans → costmap input. Node core: `Perception` (see issue 6).

pub mod error;
pub mod geom;
pub mod ground;

pub use error::{PerceptionError, Result};
pub use ground::{GroundParams, GroundSegmenter, GroundStats};
