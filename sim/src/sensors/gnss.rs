//! A GNSS receiver: the true ENU position plus noise, turned into WGS84 through
//! [`LocalEnu`] anchored at the scenario's origin, with scheduled faults.
//!
//! Faults are intervals of sim time (seconds since the stamp origin, both ends included):
//! an outage yields no fix (the receiver stays silent); a jump (spoofing, multipath) adds an
//! ENU offset while the receiver keeps reporting its usual covariance, as a spoofed receiver
//! does. Noise is a first-order Gauss–Markov process per axis (white when
//! `correlation_time_s = 0`), because real GNSS errors wander slowly rather than jitter.

use super::noise::Noise;
use crate::error::{Result, SimError};
use courier_core::Stamp;
use courier_core::geo::LocalEnu;
use courier_core::msgs::{FixStatus, GnssFix};
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

/// A scheduled receiver fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum GnssFault {
    /// No fix from `start_s` to `end_s`.
    Outage { start_s: f64, end_s: f64 },
    /// Fixes offset by `offset_m` (east, north, up) from `start_s` to `end_s`.
    Jump {
        start_s: f64,
        end_s: f64,
        offset_m: [f64; 3],
    },
}

impl GnssFault {
    fn interval(&self) -> (f64, f64) {
        match self {
            GnssFault::Outage { start_s, end_s } | GnssFault::Jump { start_s, end_s, .. } => {
                (*start_s, *end_s)
            }
        }
    }
    fn active(&self, t: f64) -> bool {
        let (a, b) = self.interval();
        a <= t && t <= b
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GnssParams {
    /// Geodetic origin of the local ENU frame: latitude (°), longitude (°), ellipsoidal height
    /// (m). Default (47.3769, 8.5417, 408.0).
    pub origin: [f64; 3],
    /// Horizontal noise standard deviation per axis (m). Default 0.8 (single-point SBAS class).
    pub horizontal_std_m: f64,
    /// Vertical noise standard deviation (m). Default 1.5.
    pub vertical_std_m: f64,
    /// Correlation time of the noise (s); 0 for white noise. Default 0.
    pub correlation_time_s: f64,
    /// Scheduled faults. Default none.
    pub faults: Vec<GnssFault>,
    /// Frame of the fixes (the antenna). Default "gnss".
    pub frame_id: String,
}

impl Default for GnssParams {
    fn default() -> Self {
        Self {
            origin: [47.3769, 8.5417, 408.0],
            horizontal_std_m: 0.8,
            vertical_std_m: 1.5,
            correlation_time_s: 0.0,
            faults: Vec::new(),
            frame_id: "gnss".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GnssModel {
    params: GnssParams,
    enu: LocalEnu,
    noise: Noise,
    /// Current error (ENU, m) and the time it belongs to.
    error: Option<(Stamp, Vector3<f64>)>,
}

impl GnssModel {
    pub fn new(params: GnssParams, seed: u64) -> Result<Self> {
        let bad = |m: String| Err(SimError::Invalid(format!("gnss: {m}")));
        let [lat, lon, h] = params.origin;
        if !(lat.abs() <= 90.0 && lon.abs() <= 180.0 && h.is_finite()) {
            return bad(format!(
                "origin must be a valid latitude, longitude, height; got {:?}",
                params.origin
            ));
        }
        for (name, v) in [
            ("horizontal_std_m", params.horizontal_std_m),
            ("vertical_std_m", params.vertical_std_m),
            ("correlation_time_s", params.correlation_time_s),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} must be finite and ≥ 0, got {v}"));
            }
        }
        for (i, f) in params.faults.iter().enumerate() {
            let (a, b) = f.interval();
            if !(a.is_finite() && b.is_finite() && a <= b) {
                return bad(format!(
                    "fault {i}: need finite start_s ≤ end_s, got {a}, {b}"
                ));
            }
            if let GnssFault::Jump { offset_m, .. } = f
                && !offset_m.iter().all(|v| v.is_finite())
            {
                return bad(format!(
                    "fault {i}: offset must be finite, got {offset_m:?}"
                ));
            }
        }
        Ok(Self {
            enu: LocalEnu::new(lat, lon, h),
            params,
            noise: Noise::new(seed),
            error: None,
        })
    }

    /// The local frame the fixes are expressed against.
    pub fn frame(&self) -> &LocalEnu {
        &self.enu
    }

    /// The fix for the antenna truly at `position` (ENU metres from the origin) at `stamp`, or
    /// `None` during an outage. Stamps must increase.
    pub fn measure(&mut self, stamp: Stamp, position: &Vector3<f64>) -> Result<Option<GnssFix>> {
        if !position.iter().all(|v| v.is_finite()) {
            return Err(SimError::Invalid(format!(
                "gnss: non-finite position at {stamp}"
            )));
        }
        if let Some((t0, _)) = self.error
            && stamp <= t0
        {
            return Err(SimError::Invalid(format!(
                "gnss: fixes must be in increasing time, got {stamp} after {t0}"
            )));
        }
        let p = &self.params;
        let sd = Vector3::new(p.horizontal_std_m, p.horizontal_std_m, p.vertical_std_m);
        let white = sd.component_mul(&Vector3::new(
            self.noise.normal(),
            self.noise.normal(),
            self.noise.normal(),
        ));
        let err = match self.error {
            Some((t0, e)) if p.correlation_time_s > 0.0 => {
                let a = (-stamp.seconds_since(t0) / p.correlation_time_s).exp();
                e * a + (1.0 - a * a).sqrt() * white
            }
            _ => white,
        };
        self.error = Some((stamp, err));
        let t = stamp.secs_f64();
        let mut offset = Vector3::zeros();
        for f in &p.faults {
            match f {
                GnssFault::Outage { .. } if f.active(t) => return Ok(None),
                GnssFault::Jump { offset_m, .. } if f.active(t) => {
                    offset += Vector3::from(*offset_m);
                }
                _ => {}
            }
        }
        let (lat, lon, alt) = self.enu.to_geodetic(&(position + err + offset));
        Ok(Some(GnssFix {
            stamp,
            frame_id: p.frame_id.clone(),
            status: FixStatus::Fix,
            latitude: lat,
            longitude: lon,
            altitude: alt,
            position_covariance: Matrix3::from_diagonal(&sd.component_mul(&sd)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(t: f64) -> Stamp {
        Stamp::from_secs_f64(t).unwrap()
    }

    #[test]
    fn outage_and_jump_follow_the_schedule() {
        let p = GnssParams {
            horizontal_std_m: 0.0,
            vertical_std_m: 0.0,
            faults: vec![
                GnssFault::Outage {
                    start_s: 2.0,
                    end_s: 4.0,
                },
                GnssFault::Jump {
                    start_s: 6.0,
                    end_s: 7.0,
                    offset_m: [30.0, -10.0, 2.0],
                },
            ],
            ..Default::default()
        };
        let mut gnss = GnssModel::new(p, 1).unwrap();
        let truth = Vector3::new(120.0, -45.0, 3.0);
        for k in 0..100 {
            let t = k as f64 * 0.1;
            let fix = gnss.measure(secs(t), &truth).unwrap();
            if (2.0..=4.0).contains(&t) {
                assert!(fix.is_none(), "fix during outage at {t}");
                continue;
            }
            let fix = fix.unwrap_or_else(|| panic!("no fix at {t}"));
            assert!(fix.is_valid());
            let enu = gnss
                .frame()
                .to_enu(fix.latitude, fix.longitude, fix.altitude);
            let want = if (6.0..=7.0).contains(&t) {
                truth + Vector3::new(30.0, -10.0, 2.0)
            } else {
                truth
            };
            assert!((enu - want).norm() < 1e-3, "t {t}: {enu:?} vs {want:?}");
        }
    }

    #[test]
    fn noise_has_the_configured_spread_and_is_seeded() {
        let run = |seed, tau| {
            let p = GnssParams {
                correlation_time_s: tau,
                ..Default::default()
            };
            let mut gnss = GnssModel::new(p, seed).unwrap();
            (0..2000)
                .map(|k| {
                    let f = gnss
                        .measure(secs(k as f64), &Vector3::zeros())
                        .unwrap()
                        .unwrap();
                    gnss.frame().to_enu(f.latitude, f.longitude, f.altitude)
                })
                .collect::<Vec<_>>()
        };
        let a = run(8, 0.0);
        assert_eq!(a, run(8, 0.0));
        assert_ne!(a, run(9, 0.0));
        let sd = |i: usize| (a.iter().map(|e| e[i] * e[i]).sum::<f64>() / a.len() as f64).sqrt();
        assert!(
            (sd(0) - 0.8).abs() < 0.06 && (sd(1) - 0.8).abs() < 0.06,
            "{} {}",
            sd(0),
            sd(1)
        );
        assert!((sd(2) - 1.5).abs() < 0.1, "{}", sd(2));
        // Correlated noise changes little from one second to the next.
        let c = run(8, 30.0);
        let step: f64 = c.windows(2).map(|w| (w[1] - w[0]).x.abs()).sum::<f64>() / 1999.0;
        assert!(step < 0.4, "mean step {step}");
    }

    #[test]
    fn bad_parameters_and_input_are_errors() {
        let bad = [
            GnssParams {
                origin: [91.0, 0.0, 0.0],
                ..Default::default()
            },
            GnssParams {
                horizontal_std_m: f64::NAN,
                ..Default::default()
            },
            GnssParams {
                faults: vec![GnssFault::Outage {
                    start_s: 3.0,
                    end_s: 1.0,
                }],
                ..Default::default()
            },
            GnssParams {
                faults: vec![GnssFault::Jump {
                    start_s: 0.0,
                    end_s: 1.0,
                    offset_m: [f64::INFINITY, 0.0, 0.0],
                }],
                ..Default::default()
            },
        ];
        for (k, p) in bad.into_iter().enumerate() {
            assert!(GnssModel::new(p, 0).is_err(), "case {k}");
        }
        let mut g = GnssModel::new(GnssParams::default(), 0).unwrap();
        assert!(
            g.measure(secs(0.0), &Vector3::new(f64::NAN, 0.0, 0.0))
                .is_err()
        );
        g.measure(secs(1.0), &Vector3::zeros()).unwrap();
        assert!(g.measure(secs(1.0), &Vector3::zeros()).is_err());
    }

    #[test]
    fn faults_read_from_toml() {
        let p: GnssParams = toml::from_str(
            "horizontal_std_m = 0.5\n\
             [[faults]]\nkind = \"outage\"\nstart_s = 10.0\nend_s = 20.0\n\
             [[faults]]\nkind = \"jump\"\nstart_s = 30.0\nend_s = 35.0\noffset_m = [50.0, 0.0, 0.0]\n",
        )
        .unwrap();
        assert_eq!(p.faults.len(), 2);
        assert_eq!(p.vertical_std_m, 1.5);
        assert!(GnssModel::new(p, 0).is_ok());
    }
}
