//! Time stamps. Time is always carried in messages, never read from a clock by an algorithm.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time in integer nanoseconds (since the Unix epoch for real logs, since the start
/// for simulations). Integer nanoseconds keep sums and differences exact, like ROS 2 `Time`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp(pub i64);

impl Stamp {
    pub const ZERO: Stamp = Stamp(0);

    pub fn from_nanos(ns: i64) -> Self {
        Stamp(ns)
    }
    /// From seconds; `None` for NaN, infinities, or a value out of the i64 nanosecond range.
    pub fn from_secs_f64(s: f64) -> Option<Self> {
        let ns = (s * 1e9).round();
        (ns.is_finite() && ns.abs() < 9.2e18).then_some(Stamp(ns as i64))
    }
    pub fn nanos(self) -> i64 {
        self.0
    }
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 * 1e-9
    }
    /// Signed difference `self - earlier` in seconds.
    pub fn seconds_since(self, earlier: Stamp) -> f64 {
        (self.0 - earlier.0) as f64 * 1e-9
    }
    /// ROS 2 `builtin_interfaces/Time` split (sec, nanosec), nanosec in [0, 1e9).
    pub fn to_sec_nanosec(self) -> (i32, u32) {
        let sec = self.0.div_euclid(1_000_000_000);
        let nsec = self.0.rem_euclid(1_000_000_000);
        (sec as i32, nsec as u32)
    }
    pub fn from_sec_nanosec(sec: i32, nanosec: u32) -> Self {
        Stamp(sec as i64 * 1_000_000_000 + nanosec as i64)
    }
}

impl std::ops::Add<f64> for Stamp {
    type Output = Stamp;
    /// Adds seconds.
    fn add(self, dt: f64) -> Stamp {
        Stamp(self.0 + (dt * 1e9).round() as i64)
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, ns) = (
            self.0.div_euclid(1_000_000_000),
            self.0.rem_euclid(1_000_000_000),
        );
        write!(f, "{s}.{ns:09}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_trip_and_display() {
        let t = Stamp::from_secs_f64(976052857.25).unwrap();
        assert_eq!(t.nanos(), 976_052_857_250_000_000);
        assert_eq!(t.to_string(), "976052857.250000000");
        assert!((t.secs_f64() - 976052857.25).abs() < 1e-6);
        assert_eq!(Stamp::from_secs_f64(f64::NAN), None);
        assert_eq!(Stamp::from_secs_f64(f64::INFINITY), None);
    }

    #[test]
    fn ros_split_handles_negative_times() {
        let t = Stamp(-1_500_000_000);
        assert_eq!(t.to_sec_nanosec(), (-2, 500_000_000));
        assert_eq!(Stamp::from_sec_nanosec(-2, 500_000_000), t);
        assert_eq!((Stamp(0) + 0.5).seconds_since(Stamp(0)), 0.5);
    }
}
