//! Deterministic simulated sensor sequences with ground truth, for tests and `courier bench`:
//! a delivery vehicle driving curves with IMU, wheel odometry and GNSS ([`fusion`]); a 3D scene
//! ray-cast by an HDL-64-like pattern ([`lidar`]); a small indoor map with a 2D laser
//! ([`planar`]). Every random choice takes a seed (ChaCha8).

pub mod fusion;
pub mod lidar;
pub mod planar;

use rand::Rng;

/// A standard normal sample (Box–Muller), so this crate needs no distribution crate.
pub fn gaussian(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
