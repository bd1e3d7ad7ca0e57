//! Courier's ROS 2 hosts. Without the `ros2` feature this crate holds only the ROS-free parts
//! (message field mappings that are plain Rust, tested without ROS); with it, r2r node
//! executables wrap the node cores: subscribe, convert, call, convert, publish.
//!
//! Nodes: `map_server` (reads a Nav2 map `.yaml` + `.pgm` and publishes `nav_msgs/OccupancyGrid`
//! on `map`, transient-local and reliable, like nav2_map_server).

pub mod map;
#[cfg(feature = "ros2")]
pub mod ros2;

/// Every error of `courier-ros`.
#[derive(Debug, thiserror::Error)]
pub enum RosError {
    #[error("map of {width} x {height} cells does not fit nav_msgs/OccupancyGrid (u32 sizes)")]
    MapTooLarge { width: usize, height: usize },
    #[error("map resolution {0} is not a positive finite number")]
    BadResolution(f64),
}
