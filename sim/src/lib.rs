//! Courier's headless fleet simulation: worlds, vehicle models, contact checks, scenario files,
//! metrics and Rerun recording, stepping the real fleet stack in the loop. Ground truth (where
//! robots are) stays apart from what robots believe (their localization estimate).
//!
//! Sensor models ([`sensors`]): 2D and 3D LiDAR by ray casting a parry3d BVH scene, IMU, wheel
//! odometry and GNSS with faults, all seeded. Ray-casting speed, measured with
//! `cargo run --release -p courier-sim --example lidar_rays 5 20` (20 vehicles with a VLP-16 at
//! 10 Hz driving the generated 6 × 6-block campus of 1206 objects, with 80 dynamic objects):
//! about 9.1–9.3 M rays per CPU second on one thread of the 2-core development machine, i.e. 1.6×
//! real time per core for the 5.76 M rays per simulated second of the fleet; HDL-64E 11.7 M
//! rays/s, 2D LiDAR 8–9 M rays/s (thread CPU time from /proc).

pub mod agv;
pub mod collision;
pub mod delivery;
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
