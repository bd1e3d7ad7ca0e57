//! End-to-end delivery simulation: vehicles with LiDAR, perception, ESKF localization and
//! path following in the loop deliver parcels without contacts, stop for a pedestrian in the
//! lane, keep localized through a GNSS outage, are deterministic per seed, and record a Rerun
//! file that the official `rerun rrd verify` accepts.

use courier_sim::Scenario;
use courier_sim::delivery::{District, run};
use std::process::Command;

/// The bundled small scenario, lighter for debug-build tests: every 4th LiDAR column.
fn small() -> Scenario {
    let mut s = Scenario::load("delivery-small").expect("bundled");
    let d = s.delivery.as_mut().expect("a delivery scenario");
    d.lidar.azimuth_decimation = 4;
    s
}

#[test]
fn small_run_delivers_safely_stays_localized_and_is_deterministic() {
    let s = small();
    let mut last_t = 0.0;
    let a = run::run(&s, None, |t| {
        assert!(t > last_t);
        last_t = t;
    })
    .unwrap();
    assert_eq!(last_t, s.duration_s);
    let dm = a.delivery.clone().expect("delivery metrics");
    assert!(a.tasks_completed >= 2, "{a:#?}");
    assert_eq!(a.collisions, 0, "{a:#?}");
    assert!(a.distance_driven_m > 100.0, "{a:#?}");
    // Localization from IMU + odometry + GNSS, through a 15 s outage and a 10 m spoofed jump.
    assert!(a.localization_error_mean_m < 0.5, "{a:#?}");
    assert!(a.localization_error_max_m < 2.0, "{a:#?}");
    assert!(dm.localization_error_in_outage_max_m > 0.0, "{dm:#?}");
    assert!(dm.localization_error_in_outage_max_m < 1.5, "{dm:#?}");
    assert!(dm.pedestrian_observations > 100, "{dm:#?}");
    // With every 4th column a pedestrian at 20 m gets two columns; most are still found.
    assert!(dm.pedestrian_detection_rate > 0.6, "{dm:#?}");
    let b = run::run(&s, None, |_| {}).unwrap();
    assert_eq!(a.deterministic_part(), b.deterministic_part());
    let mut other = s.clone();
    other.seed = 4;
    let c = run::run(&other, None, |_| {}).unwrap();
    assert_ne!(
        a.deterministic_part(),
        c.deterministic_part(),
        "the seed must matter"
    );
}

#[test]
fn vehicle_stops_for_a_pedestrian_standing_in_its_lane() {
    let mut s = small();
    s.duration_s = 25.0;
    let d = s.delivery.as_mut().unwrap();
    d.vehicles = 1;
    d.pedestrians = 0;
    d.parcels = 2;
    d.near_miss_m = 0.5;
    d.gnss.faults.clear();
    // Someone stands in the right-hand lane 10 m before every junction, on every street: the
    // vehicle meets one whichever way it drives.
    let w = District::generate(
        &d.district,
        s.seed,
        d.addresses_per_side,
        d.vehicle.max_speed,
        d.lane_offset_m,
        d.gnss.origin,
    )
    .unwrap();
    for (a, out) in w.graph.out.iter().enumerate() {
        for e in out {
            if w.addresses.contains(&e.to) {
                continue;
            }
            let lane = w.lane_path(&[a, e.to]);
            let n = lane.len();
            let p = lane[n.saturating_sub(21)];
            d.standing_pedestrians.push([p.x(), p.y()]);
        }
    }
    let m = run::run(&s, None, |_| {}).unwrap();
    assert!(m.distance_driven_m > 3.0, "the vehicle never moved: {m:#?}");
    assert_eq!(m.collisions, 0, "{m:#?}");
    assert_eq!(m.near_misses, 0, "stopped closer than 0.5 m: {m:#?}");
}

/// The Rerun CLI of the same version as the SDK (pip package rerun-sdk, installed by
/// scripts/test.sh); `RERUN_BIN` overrides where it is.
fn rerun_cli() -> String {
    std::env::var("RERUN_BIN").unwrap_or_else(|_| "rerun".into())
}

#[test]
fn delivery_recording_passes_rerun_rrd_verify() {
    let dir = std::env::temp_dir().join(format!("courier-sim-delivery-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("delivery.rrd");
    let mut s = small();
    s.duration_s = 6.0;
    run::run(&s, Some(&rrd), |_| {}).unwrap();
    assert!(std::fs::metadata(&rrd).unwrap().len() > 10_000);
    let out = Command::new(rerun_cli())
        .args(["rrd", "verify"])
        .arg(&rrd)
        .env("RERUN_ANALYTICS", "0")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{} rrd verify` ({e}); install the Rerun CLI: pip install rerun-sdk==0.36.3 (scripts/test.sh does)", rerun_cli()));
    assert!(
        out.status.success(),
        "rerun rrd verify failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}
