//! Courier's ROS 2 hosts. Without the `ros2` feature this crate holds only the ROS-free parts
//! (message field mappings that are plain Rust); with it, r2r node executables wrap the node
//! cores: subscribe, convert, call, convert, publish.
