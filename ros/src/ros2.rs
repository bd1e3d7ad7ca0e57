//! r2r glue: ROS-free field structs → r2r messages, and QoS profiles the nodes share.

use crate::map::MapMsgFields;
use r2r::{builtin_interfaces, geometry_msgs, nav_msgs, std_msgs};

/// A latched map topic, as nav2_map_server publishes it: reliable, transient-local, depth 1, so
/// late subscribers still get the map.
pub fn map_qos() -> r2r::QosProfile {
    r2r::QosProfile::default()
        .keep_last(1)
        .reliable()
        .transient_local()
}

/// The nav_msgs/OccupancyGrid message for `f`.
pub fn occupancy_grid_msg(f: MapMsgFields) -> nav_msgs::msg::OccupancyGrid {
    let stamp = builtin_interfaces::msg::Time {
        sec: f.stamp.0,
        nanosec: f.stamp.1,
    };
    let [px, py, pz] = f.origin_position;
    let [qx, qy, qz, qw] = f.origin_orientation;
    nav_msgs::msg::OccupancyGrid {
        header: std_msgs::msg::Header {
            stamp: stamp.clone(),
            frame_id: f.frame_id,
        },
        info: nav_msgs::msg::MapMetaData {
            map_load_time: stamp,
            resolution: f.resolution,
            width: f.width,
            height: f.height,
            origin: geometry_msgs::msg::Pose {
                position: geometry_msgs::msg::Point {
                    x: px,
                    y: py,
                    z: pz,
                },
                orientation: geometry_msgs::msg::Quaternion {
                    x: qx,
                    y: qy,
                    z: qz,
                    w: qw,
                },
            },
        },
        data: f.data,
    }
}
