//! WGS84 geodesy: geodetic ↔ ECEF ↔ a local East-North-Up frame (REP-105's `map` for outdoor
//! robots is usually such an ENU frame anchored at a chosen origin).

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

const A: f64 = 6_378_137.0; // WGS84 semi-major axis (m)
const F: f64 = 1.0 / 298.257_223_563; // flattening
const E2: f64 = F * (2.0 - F); // first eccentricity squared

/// Geodetic (lat°, lon°, h m) to Earth-centred Earth-fixed coordinates (m).
pub fn geodetic_to_ecef(lat_deg: f64, lon_deg: f64, h: f64) -> Vector3<f64> {
    let (lat, lon) = (lat_deg.to_radians(), lon_deg.to_radians());
    let (sl, cl) = lat.sin_cos();
    let n = A / (1.0 - E2 * sl * sl).sqrt();
    Vector3::new(
        (n + h) * cl * lon.cos(),
        (n + h) * cl * lon.sin(),
        (n * (1.0 - E2) + h) * sl,
    )
}

/// ECEF (m) to geodetic (lat°, lon°, h m), by Bowring's iteration (sub-millimetre at the surface).
pub fn ecef_to_geodetic(p: &Vector3<f64>) -> (f64, f64, f64) {
    let lon = p.y.atan2(p.x);
    let r = (p.x * p.x + p.y * p.y).sqrt();
    let mut lat = p.z.atan2(r * (1.0 - E2));
    let mut h = 0.0;
    for _ in 0..6 {
        let sl = lat.sin();
        let n = A / (1.0 - E2 * sl * sl).sqrt();
        h = r / lat.cos() - n;
        lat = p.z.atan2(r * (1.0 - E2 * n / (n + h)));
    }
    (lat.to_degrees(), lon.to_degrees(), h)
}

/// A local tangent-plane frame: x east, y north, z up, anchored at a geodetic origin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocalEnu {
    origin_ecef: Vector3<f64>,
    /// Rows are the east, north and up unit vectors expressed in ECEF.
    rot: Matrix3<f64>,
}

impl LocalEnu {
    pub fn new(lat_deg: f64, lon_deg: f64, h: f64) -> Self {
        let (lat, lon) = (lat_deg.to_radians(), lon_deg.to_radians());
        let (sl, cl) = lat.sin_cos();
        let (so, co) = lon.sin_cos();
        let rot = Matrix3::new(-so, co, 0.0, -sl * co, -sl * so, cl, cl * co, cl * so, sl);
        Self {
            origin_ecef: geodetic_to_ecef(lat_deg, lon_deg, h),
            rot,
        }
    }
    /// Geodetic to ENU metres.
    pub fn to_enu(&self, lat_deg: f64, lon_deg: f64, h: f64) -> Vector3<f64> {
        self.rot * (geodetic_to_ecef(lat_deg, lon_deg, h) - self.origin_ecef)
    }
    /// ENU metres to geodetic.
    pub fn to_geodetic(&self, enu: &Vector3<f64>) -> (f64, f64, f64) {
        ecef_to_geodetic(&(self.rot.transpose() * enu + self.origin_ecef))
    }
    /// The rotation from ECEF into ENU (rows: east, north, up), e.g. to rotate an ECEF covariance.
    pub fn rotation(&self) -> &Matrix3<f64> {
        &self.rot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enu_of_known_offsets() {
        let enu = LocalEnu::new(47.6, -122.3, 10.0);
        let o = enu.to_enu(47.6, -122.3, 10.0);
        assert!(o.norm() < 1e-6);
        // One arc-minute of latitude is about 1853 m north at 47.6°.
        let n = enu.to_enu(47.6 + 1.0 / 60.0, -122.3, 10.0);
        assert!(
            n.x.abs() < 0.01 && (n.y - 1853.0).abs() < 3.0 && n.z.abs() < 0.5,
            "{n:?}"
        );
        let up = enu.to_enu(47.6, -122.3, 110.0);
        assert!((up.z - 100.0).abs() < 1e-6 && up.x.abs() < 1e-6);
    }

    #[test]
    fn enu_round_trip() {
        let enu = LocalEnu::new(-33.9, 151.2, 50.0);
        let p = Vector3::new(1234.5, -987.25, 12.0);
        let (lat, lon, h) = enu.to_geodetic(&p);
        let q = enu.to_enu(lat, lon, h);
        assert!((p - q).norm() < 1e-4, "{p:?} vs {q:?}");
    }
}
