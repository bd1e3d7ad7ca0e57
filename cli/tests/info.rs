//! `courier info` on the bundled fixtures (core/tests/data): runs the built binary and checks the
//! key numbers of each summary, and that a broken file fails with an error naming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data")
        .join(name)
}

fn info(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_courier"))
        .arg("info")
        .arg(path)
        .output()
        .expect("the courier binary runs")
}

/// Runs `courier info` on a fixture, expecting success, and checks every `want` line is printed.
fn check(name: &str, want: &[&str]) {
    let out = info(&fixture(name));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for w in want {
        assert!(
            text.lines().any(|l| l == *w),
            "{name}: no line {w:?} in\n{text}"
        );
    }
}

#[test]
fn summaries_of_every_kind() {
    check(
        "den312d.map",
        &[
            "kind: MovingAI grid map",
            "size: 65 x 81 (width x height)",
            "passable cells: 2445 of 5265 (46.4%)",
        ],
    );
    check(
        "empty-32-32-even-1_head.scen",
        &["queries: 20", "map: empty-32-32.map (32 x 32)"],
    );
    check(
        "intel_head.clf",
        &[
            "laser scans: 14",
            "odometry messages: 25",
            "beams per scan: 180 (1.00 deg step from -90.0 deg)",
        ],
    );
    check(
        "kitti_hdl64_head.bin",
        &["points: 256", "non-finite points: 0"],
    );
    check(
        "ouster_os128_head.pcd",
        &[
            "format: PCD v0.7, DATA BinaryCompressed, 512 x 1 (width x height)",
            "points: 512",
            "no-return (0,0,0) points: 100",
            "intensity: 0.00 .. 88.00",
            "rings: 128",
        ],
    );
    check(
        "den312d_nav2.yaml",
        &[
            "kind: Nav2 map",
            "size: 65 x 81 cells (width x height)",
            "resolution: 0.05 m/cell",
            "origin: x -1.6 m, y -2 m, yaw 0 rad",
            "extent: 3.25 x 4.05 m",
            "cells: free 2430, occupied 2592, unknown 243",
        ],
    );
    // A bare image is read with Nav2's usual thresholds (free_thresh 0.25): grey 205 is free.
    check(
        "den312d_nav2.pgm",
        &[
            "as a Nav2 trinary map (negate 0, occupied_thresh 0.65, free_thresh 0.25): free 2673, occupied 2592, unknown 0",
        ],
    );
}

#[test]
fn broken_files_fail_naming_the_file_and_place() {
    let dir = std::env::temp_dir().join(format!("courier-info-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(fixture("ouster_os128_head.pcd")).unwrap();
    let cut = dir.join("cut.pcd");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = info(&cut);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{} @ byte {}", cut.display(), bytes.len() / 2)),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
    let out = info(&dir.join("unknown.xyz"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown file type"));
    std::fs::remove_dir_all(&dir).ok();
}
