//! Courier perception: point clouds → ground / obstacles → clusters → tracked objects, and laser
//! scans → costmap input.
//!
//! The node core is [`Perception`] (PointCloud in; ground mask, obstacles and tracks out). Its
//! stages are usable alone: [`preprocess`] (crops, ego removal, voxel grid), [`ground`]
//! (Patchwork++-style ground segmentation), [`cluster`] (Euclidean / DBSCAN), [`boxes`]
//! (L-shape oriented boxes), [`tracking`] (Kalman filters + Hungarian association), and
//! [`scan`] (LaserScan → base-frame obstacle points for a costmap).

pub mod boxes;
pub mod cluster;
pub mod error;
pub mod geom;
pub mod ground;
pub mod node;
pub mod preprocess;
pub mod scan;
pub mod tracking;

pub use error::{PerceptionError, Result};
pub use ground::{GroundParams, GroundSegmenter, GroundStats};
pub use node::{Obstacle, Perception, PerceptionOutput, PerceptionParams};
