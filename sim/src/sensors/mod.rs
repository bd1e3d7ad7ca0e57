//! Sensor models: what the robots' sensors would read in the simulated world, all seeded.
//!
//! - range sensors by ray casting a [`Scene3d`] (ground, static boxes and upright cylinders in a
//!   parry3d BVH, plus per-tick [`DynamicObjects`]): the planar [`Lidar2d`] → `LaserScan` and
//!   the spinning [`Lidar3d`] with VLP-16 / HDL-64E beam patterns → `PointCloud` with ring and
//!   per-point time;
//! - from ground-truth motion ([`TruthSample`]): the [`ImuModel`], [`WheelOdometryModel`] and
//!   [`GnssModel`] (noise, outages and spoofed jumps, WGS84 through `LocalEnu`).
//!
//! Each model owns a `ChaCha8Rng` seeded at construction: the same inputs in the same order and
//! the same seed give bit-identical outputs. Parameters are serde structs with documented
//! defaults; bad values are [`crate::SimError::Invalid`] errors naming the parameter.
//!
//! Ray-casting speed is measured by `cargo run --release -p courier-sim --example lidar_rays`
//! (see the crate docs for the numbers).

mod campus;
mod gnss;
mod imu;
mod lidar2d;
mod lidar3d;
pub(crate) mod noise;
mod odometry;
mod scene;
mod truth;

pub use campus::{CampusParams, campus};
pub use gnss::{GnssFault, GnssModel, GnssParams};
pub use imu::{GRAVITY, ImuModel, ImuParams};
pub use lidar2d::{Lidar2d, Lidar2dParams};
pub use lidar3d::{BeamPattern, Lidar3d, Lidar3dParams};
pub use odometry::{WheelOdometryModel, WheelOdometryParams};
pub use scene::{DynamicObjects, Ground, Hit, HitKind, Scene3d, SceneObject, SceneView, Solid};
pub use truth::TruthSample;
