//! Delivery vehicles in a generated city district, with the robot's stack in the loop: per
//! vehicle a simulated VLP-16 feeds courier-perception's node core, IMU + wheel odometry + GNSS
//! feed courier-localization's ESKF whose estimate (not the truth) drives the vehicle, routes
//! come from courier-planning's road graph and tour ordering, Regulated Pure Pursuit turns the
//! path into commands (stopping for perceived obstacles), and courier-fleet's assignment gives
//! parcels to vehicles. See [`run::run`].

pub mod pedestrians;
pub mod run;
pub mod vehicle;
pub mod world;

use crate::error::{Result, SimError};
use crate::sensors::{CampusParams, GnssParams, ImuParams, Lidar3dParams, WheelOdometryParams};
use courier_localization::fusion::FusionParams;
use courier_perception::PerceptionParams;
use serde::{Deserialize, Serialize};
pub use vehicle::{AckermannParams, AckermannState};
pub use world::District;

/// A delivery run: K vehicles, a parcel stream and pedestrians in a generated district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryScenario {
    /// Number of vehicles. Default 20.
    pub vehicles: usize,
    /// The district (blocks, streets, buildings, parked cars). Default 6 × 6 blocks.
    pub district: CampusParams,
    /// Address nodes (parcel destinations) along each block side. Default 2.
    pub addresses_per_side: u32,
    /// Right-hand lane centre from the street centre line (m). Default 2.5.
    pub lane_offset_m: f64,
    /// Parcels waiting at the start. Default 60.
    pub parcels: usize,
    /// Parcels released per hour after the start (evenly spaced). Default 600.
    pub parcels_per_hour: f64,
    /// Parcels a vehicle takes per run. Default 3.
    pub capacity: usize,
    /// Stop time at an address to hand over a parcel (s). Default 5.
    pub dwell_s: f64,
    /// Period of the dispatcher (assignment of open parcels to idle vehicles, s). Default 2.
    pub dispatch_period_s: f64,
    /// Pedestrians. Default 100.
    pub pedestrians: usize,
    /// Chance that a pedestrian crosses the street at a corner. Default 0.3.
    pub crossing_prob: f64,
    /// Pedestrians standing still at these map points (m), e.g. in a lane. Default none.
    pub standing_pedestrians: Vec<[f64; 2]>,
    /// A gap below this between a vehicle and anything counts as a near miss (m). Default 0.3.
    pub near_miss_m: f64,
    pub vehicle: AckermannParams,
    pub control: ControlTuning,
    pub lidar: Lidar3dParams,
    pub imu: ImuParams,
    pub odometry: WheelOdometryParams,
    /// Wheel odometry rate (Hz). Default 50.
    pub odometry_hz: f64,
    /// GNSS noise and scheduled faults (outages, spoofed jumps), the same for every vehicle.
    pub gnss: GnssParams,
    /// GNSS fix rate (Hz). Default 10.
    pub gnss_hz: f64,
    pub perception: PerceptionParams,
    pub fusion: FusionParams,
}

impl Default for DeliveryScenario {
    fn default() -> Self {
        Self {
            vehicles: 20,
            district: CampusParams::default(),
            addresses_per_side: 2,
            lane_offset_m: 2.5,
            parcels: 60,
            parcels_per_hour: 600.0,
            capacity: 3,
            dwell_s: 5.0,
            dispatch_period_s: 2.0,
            pedestrians: 100,
            crossing_prob: 0.3,
            standing_pedestrians: Vec::new(),
            near_miss_m: 0.3,
            vehicle: AckermannParams::default(),
            control: ControlTuning::default(),
            lidar: Lidar3dParams::default(),
            imu: ImuParams {
                rate_hz: 100.0,
                ..ImuParams::default()
            },
            odometry: WheelOdometryParams::default(),
            odometry_hz: 50.0,
            gnss: GnssParams::default(),
            gnss_hz: 10.0,
            perception: PerceptionParams::default(),
            fusion: FusionParams::default(),
        }
    }
}

/// Path-following settings of the delivery vehicles; the speed and acceleration limits come
/// from [`AckermannParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlTuning {
    /// Yaw rate limit (rad/s): bounds the speed on curves. Default 1.0.
    pub max_yaw_rate: f64,
    /// Lookahead = speed × this (s). Default 0.8.
    pub lookahead_time_s: f64,
    /// Lookahead bounds (m). Default 2.5..6.
    pub lookahead_m: [f64; 2],
    /// Below this turning radius the speed is scaled down (m). Default 8.
    pub regulated_min_radius_m: f64,
    /// How far along the path obstacles are checked (m). Default 14.
    pub collision_lookahead_m: f64,
    /// Gap kept to the first blocked pose when stopping (m). Default 1.0.
    pub stop_margin_m: f64,
    /// Safety margin added around the body for the obstacle check (m). Default 0.3.
    pub inflation_m: f64,
    /// Perceived tracks are also placed where they will be this much later (s). Default 0.5.
    pub track_prediction_s: f64,
    /// Distance to a stop at which it counts as reached (m). Default 1.0.
    pub goal_tolerance_m: f64,
}

impl Default for ControlTuning {
    fn default() -> Self {
        Self {
            max_yaw_rate: 1.0,
            lookahead_time_s: 0.8,
            lookahead_m: [2.5, 6.0],
            regulated_min_radius_m: 8.0,
            collision_lookahead_m: 14.0,
            stop_margin_m: 1.0,
            inflation_m: 0.3,
            track_prediction_s: 0.5,
            goal_tolerance_m: 1.0,
        }
    }
}

impl DeliveryScenario {
    pub fn validate(&self) -> Result<(), String> {
        if self.vehicles == 0 {
            return Err("delivery.vehicles must be at least 1".into());
        }
        if self.capacity == 0 {
            return Err("delivery.capacity must be at least 1".into());
        }
        for (name, v) in [
            ("dwell_s", self.dwell_s),
            ("parcels_per_hour", self.parcels_per_hour),
            ("crossing_prob", self.crossing_prob),
            ("near_miss_m", self.near_miss_m),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("delivery.{name} must be finite and ≥ 0, got {v}"));
            }
        }
        for (name, v) in [
            ("dispatch_period_s", self.dispatch_period_s),
            ("odometry_hz", self.odometry_hz),
            ("gnss_hz", self.gnss_hz),
            ("control.max_yaw_rate", self.control.max_yaw_rate),
            (
                "control.collision_lookahead_m",
                self.control.collision_lookahead_m,
            ),
            ("control.goal_tolerance_m", self.control.goal_tolerance_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("delivery.{name} must be positive, got {v}"));
            }
        }
        if let Some(p) = self
            .standing_pedestrians
            .iter()
            .find(|p| !p.iter().all(|v| v.is_finite()))
        {
            return Err(format!(
                "delivery.standing_pedestrians: {p:?} is not finite"
            ));
        }
        self.vehicle.validate().map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A seed for stream `k` of vehicle `i`, decorrelated from the scenario seed (SplitMix64).
pub(crate) fn sub_seed(seed: u64, i: u64, k: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(k.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(crate) fn invalid(m: impl Into<String>) -> SimError {
    SimError::Invalid(m.into())
}
