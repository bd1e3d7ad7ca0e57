//! Courier localization: sensors → pose. 2D scan matching and pose-graph SLAM, localization on a
//! known map, error-state Kalman fusion, 3D LiDAR odometry (see issue 5).

pub mod amcl;
pub mod error;
pub mod fusion;
pub mod lidar_odometry;
pub mod sim_sequences;
pub mod slam2d;

pub use error::{LocalizationError, Result};
