//! Readers and writers of the file formats robotics users already have. Every reader takes a
//! path (for error messages) and returns a [`crate::FormatError`] naming the file, the line or
//! byte offset, and what was wrong; none panics on bad input.

pub mod carmen;
pub mod kitti;
pub mod movingai;
pub mod nav2;
pub mod pcd;
