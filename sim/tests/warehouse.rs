//! End-to-end warehouse simulation: the fleet stack in the loop, exact contact checks, seeded
//! determinism, and a Rerun recording that the official `rerun rrd verify` accepts.

use courier_sim::Scenario;
use std::path::Path;
use std::process::Command;

const SMALL: &str = r#"
name = "small"
seed = 3
duration_s = 60.0
record_hz = 2.0

[warehouse]
agents = 12

[warehouse.layout]
shelf_blocks_x = 2
shelf_blocks_y = 2
stations = 2
chargers = 1
"#;

fn small() -> Scenario {
    Scenario::parse(SMALL, Path::new("small.toml")).expect("the SMALL scenario is valid")
}

#[test]
fn warehouse_run_completes_tasks_without_collisions_and_is_deterministic() {
    let s = small();
    let mut last_t = 0.0;
    let a = courier_sim::run::run(&s, None, |t| {
        assert!(t > last_t);
        last_t = t;
    })
    .unwrap();
    assert_eq!(last_t, 60.0);
    assert!(a.tasks_completed > 0, "{a:?}");
    assert_eq!(a.collisions, 0, "{a:?}");
    assert!(a.distance_driven_m > 10.0, "{a:?}");
    assert!(a.localization_error_max_m < 0.5, "{a:?}");
    assert!(a.mean_task_latency_s > 0.0);
    let b = courier_sim::run::run(&s, None, |_| {}).unwrap();
    assert_eq!(a.deterministic_part(), b.deterministic_part());
    let mut other = s.clone();
    other.seed = 4;
    let c = courier_sim::run::run(&other, None, |_| {}).unwrap();
    assert_ne!(
        a.deterministic_part(),
        c.deterministic_part(),
        "the seed must matter"
    );
}

/// The Rerun CLI of the same version as the SDK (pip package rerun-sdk, installed by
/// scripts/test.sh); `RERUN_BIN` overrides where it is.
fn rerun_cli() -> String {
    std::env::var("RERUN_BIN").unwrap_or_else(|_| "rerun".into())
}

#[test]
fn recording_passes_rerun_rrd_verify() {
    let dir = std::env::temp_dir().join(format!("courier-sim-rrd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rrd = dir.join("small.rrd");
    let mut s = small();
    s.duration_s = 10.0;
    courier_sim::run::run(&s, Some(&rrd), |_| {}).unwrap();
    assert!(std::fs::metadata(&rrd).unwrap().len() > 1000);
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
