//! OccupancyGrid → nav_msgs/OccupancyGrid fields, in plain Rust (no ROS types), so the mapping
//! is tested without ROS and the r2r glue only copies fields.

use crate::RosError;
use courier_core::{OccupancyGrid, Stamp};
use serde::{Deserialize, Serialize};

/// Parameters of the `map_server` node (the `ros__parameters` of `map_server` in
/// `launch/params/*.yaml`), named as nav2_map_server names them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapServerParams {
    /// Path of the Nav2 map `.yaml` to serve. Default: empty (must be set).
    pub yaml_filename: String,
    /// Topic to publish on. Default: `map`.
    pub topic_name: String,
    /// Frame of the map. Default: `map` (REP-105).
    pub frame_id: String,
}

impl Default for MapServerParams {
    fn default() -> Self {
        Self {
            yaml_filename: String::new(),
            topic_name: "map".into(),
            frame_id: "map".into(),
        }
    }
}

/// The fields of a nav_msgs/OccupancyGrid message (header, info, data).
#[derive(Debug, Clone, PartialEq)]
pub struct MapMsgFields {
    pub frame_id: String,
    /// header.stamp and info.map_load_time as (sec, nanosec).
    pub stamp: (i32, u32),
    pub resolution: f32,
    pub width: u32,
    pub height: u32,
    /// info.origin.position (x, y, z).
    pub origin_position: [f64; 3],
    /// info.origin.orientation (x, y, z, w): a rotation about z by the origin's yaw.
    pub origin_orientation: [f64; 4],
    /// Row-major from the origin: `data[row * width + col]`, row 0 at the origin (bottom).
    pub data: Vec<i8>,
}

impl MapMsgFields {
    /// The message fields for `grid` in frame `frame_id`, stamped `stamp`.
    pub fn from_grid(grid: &OccupancyGrid, frame_id: &str, stamp: Stamp) -> Result<Self, RosError> {
        let too_large = || RosError::MapTooLarge {
            width: grid.width(),
            height: grid.height(),
        };
        let width = u32::try_from(grid.width()).map_err(|_| too_large())?;
        let height = u32::try_from(grid.height()).map_err(|_| too_large())?;
        if !(grid.resolution.is_finite() && grid.resolution > 0.0) {
            return Err(RosError::BadResolution(grid.resolution));
        }
        let yaw = grid.origin.theta();
        let (s, c) = (yaw / 2.0).sin_cos();
        Ok(Self {
            frame_id: frame_id.to_string(),
            stamp: stamp.to_sec_nanosec(),
            resolution: grid.resolution as f32,
            width,
            height,
            origin_position: [grid.origin.x(), grid.origin.y(), 0.0],
            origin_orientation: [0.0, 0.0, s, c],
            // ndarray's (row, col) iteration order is row-major: row 0 first.
            data: grid.data.iter().copied().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::Pose2;

    #[test]
    fn grid_becomes_row_major_message_fields() {
        let mut g = OccupancyGrid::filled(3, 2, 0.05, Pose2::new(-1.0, 2.0, 0.5), 0);
        g.data[[0, 2]] = 100; // bottom row, last column
        g.data[[1, 0]] = -1; // top row, first column
        let m = MapMsgFields::from_grid(&g, "map", Stamp::from_nanos(1_500_000_001)).unwrap();
        assert_eq!((m.width, m.height, m.resolution), (3, 2, 0.05));
        assert_eq!(m.data, vec![0, 0, 100, -1, 0, 0]);
        assert_eq!(m.stamp, (1, 500_000_001));
        assert_eq!(m.origin_position, [-1.0, 2.0, 0.0]);
        let q = m.origin_orientation;
        assert!((2.0 * q[2].atan2(q[3]) - 0.5).abs() < 1e-12 && q[0] == 0.0 && q[1] == 0.0);
        g.resolution = 0.0;
        assert!(MapMsgFields::from_grid(&g, "map", Stamp::ZERO).is_err());
    }

    /// The robot parameter files of `launch/params` parse, and their maps load.
    #[test]
    fn launch_parameter_files_name_loadable_maps() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut seen = 0;
        for entry in std::fs::read_dir(root.join("launch/params")).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let section = doc["map_server"]["ros__parameters"].clone();
            let p: MapServerParams = serde_yaml::from_value(section).unwrap();
            assert_eq!((p.topic_name.as_str(), p.frame_id.as_str()), ("map", "map"));
            let map = courier_core::formats::nav2::read_map(root.join(&p.yaml_filename))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let (free, occupied, _) = map.grid.census();
            assert!(free > 0 && occupied > 0, "{}", path.display());
            seen += 1;
        }
        assert_eq!(seen, 2, "a delivery vehicle and a warehouse AGV");
    }
}
