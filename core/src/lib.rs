//! Courier's shared vocabulary.
//!
//! Everything the algorithm crates exchange lives here: time stamps ([`Stamp`]), poses on
//! nalgebra isometries ([`Pose2`], [`Pose3`]), sensor messages ([`msgs`]), maps ([`maps`]),
//! paths ([`path`]) and readers/writers of the file formats robotics users already have
//! ([`formats`]). Frames and units follow ROS REP-103/REP-105: SI units, x forward, y left,
//! z up. This crate has no algorithms, threads or sockets.

pub mod error;
pub mod formats;
pub mod geo;
pub mod geometry;
pub mod maps;
pub mod msgs;
pub mod path;
pub mod time;

pub use error::{CoreError, FormatError, Location};
pub use geometry::{Pose2, Pose3, Twist2};
pub use maps::{GridMap, OccupancyGrid};
pub use time::Stamp;
