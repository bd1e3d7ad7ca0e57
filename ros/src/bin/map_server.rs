//! `map_server`: reads a Nav2 map (`.yaml` + `.pgm`) and publishes it as nav_msgs/OccupancyGrid
//! on `map` (reliable, transient-local), like nav2_map_server but as a plain (not lifecycle)
//! node. Parameters: `yaml_filename` (required), `topic_name` (default `map`), `frame_id`
//! (default `map`).
//!
//!     ros2 run courier_ros map_server --ros-args -p yaml_filename:=/path/map.yaml

use anyhow::{Context as _, Result, anyhow};
use courier_core::Stamp;
use courier_core::formats::nav2;
use courier_ros::map::{MapMsgFields, MapServerParams};
use courier_ros::ros2::{map_qos, occupancy_grid_msg};
use std::time::Duration;

fn main() -> Result<()> {
    let ctx = r2r::Context::create()?;
    let mut node = r2r::Node::create(ctx, "map_server", "")?;
    let defaults = MapServerParams::default();
    let string = |name: &str| -> Result<Option<String>> { Ok(node.get_parameter(name)?) };
    let params = MapServerParams {
        yaml_filename: string("yaml_filename")?
            .context("parameter yaml_filename (path to a Nav2 map .yaml) is not set")?,
        topic_name: string("topic_name")?.unwrap_or(defaults.topic_name),
        frame_id: string("frame_id")?.unwrap_or(defaults.frame_id),
    };
    let map = nav2::read_map(&params.yaml_filename)?;

    let now = {
        let clock = node.get_ros_clock();
        let mut clock = clock
            .lock()
            .map_err(|_| anyhow!("ROS clock lock poisoned"))?;
        clock.get_now()?
    };
    let stamp = Stamp::from_nanos(i64::try_from(now.as_nanos()).unwrap_or(i64::MAX));
    let fields = MapMsgFields::from_grid(&map.grid, &params.frame_id, stamp)?;
    let topic = params.topic_name;
    let publisher =
        node.create_publisher::<r2r::nav_msgs::msg::OccupancyGrid>(&topic, map_qos())?;
    publisher.publish(&occupancy_grid_msg(fields))?;
    r2r::log_info!(
        node.logger(),
        "published {} ({} x {} cells) on {topic}",
        params.yaml_filename,
        map.grid.width(),
        map.grid.height()
    );
    // Transient-local durability keeps the message for late subscribers while the node lives.
    loop {
        node.spin_once(Duration::from_millis(500));
    }
}
