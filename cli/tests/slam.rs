//! `courier slam` on the bundled Intel excerpt (core/tests/data/intel_head.clf): the poses file
//! has one line per scan with the log's timestamp text, and `--record` writes a Rerun recording
//! that the official `rerun rrd verify` of the same version accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data")
        .join(name)
}

/// The Rerun CLI (pip `rerun-sdk` of the SDK's version; scripts/test.sh installs it and sets
/// `RERUN_BIN`).
fn rerun_cli() -> String {
    std::env::var("RERUN_BIN").unwrap_or_else(|_| "rerun".into())
}

#[test]
fn slam_writes_poses_map_and_a_verified_recording() {
    let dir = std::env::temp_dir().join(format!("courier-cli-slam-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (poses, map, rrd) = (
        dir.join("poses.txt"),
        dir.join("map.yaml"),
        dir.join("run.rrd"),
    );
    let log = fixture("intel_head.clf");
    let out = Command::new(env!("CARGO_BIN_EXE_courier"))
        .arg("slam")
        .arg("--log")
        .arg(&log)
        .arg("--out")
        .arg(&poses)
        .arg("--map")
        .arg(&map)
        .arg("--record")
        .arg(&rrd)
        .output()
        .expect("the courier binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One pose line per FLASER scan, timestamps copied from the log in order.
    let text = std::fs::read_to_string(&log).expect("fixture");
    let want: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("FLASER "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w[w.len() - 3]
        })
        .collect();
    let got = std::fs::read_to_string(&poses).expect("poses written");
    let stamps: Vec<&str> = got
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(stamps, want);
    assert!(dir.join("map.pgm").exists(), "the map image is written");

    let size = std::fs::metadata(&rrd).expect("recording written").len();
    assert!(size > 5_000, "recording of {size} bytes is too small");
    let verify = Command::new(rerun_cli())
        .args(["rrd", "verify"])
        .arg(&rrd)
        .env("RERUN_ANALYTICS", "0")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{} rrd verify` ({e}); install the Rerun CLI: pip install rerun-sdk==0.36.3 (scripts/test.sh does)",
                rerun_cli()
            )
        });
    assert!(
        verify.status.success(),
        "rerun rrd verify failed:\n{}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let print = Command::new(rerun_cli())
        .args(["rrd", "print"])
        .arg(&rrd)
        .env("RERUN_ANALYTICS", "0")
        .output()
        .expect("rerun rrd print runs");
    let listing = String::from_utf8_lossy(&print.stdout);
    for entity in ["slam/scan", "slam/robot", "slam/trajectory", "slam/map"] {
        assert!(listing.contains(entity), "no {entity} in the recording");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn slam_on_a_malformed_log_names_the_line() {
    let dir = std::env::temp_dir().join(format!("courier-cli-slam-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let log = dir.join("bad.clf");
    std::fs::write(
        &log,
        "FLASER 3 1.0 1.0 1.0 0 0 0 0 0 0 10.0 host 10.0\nFLASER 3 1.0 oops 1.0 0 0 0 0 0 0 10.1 host 10.1\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_courier"))
        .arg("slam")
        .arg("--log")
        .arg(&log)
        .arg("--out")
        .arg(dir.join("p.txt"))
        .arg("--record")
        .arg(dir.join("r.rrd"))
        .output()
        .expect("the courier binary runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.clf:2"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
