//! `courier bench lifelong` on the tiny LoRR 2024 fixture (fleet/tests/data/lorr2024): the
//! JSON line names the planner the run got (and no best-known result: the fixture has none),
//! `--params` changes it, and a malformed parameter file (a wrong type, an unknown field) is
//! an error that names the file. `courier lifelong` on a generated stream draws priorities
//! and deadlines and reports how they were served.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fleet/tests/data/lorr2024/TINY-01.json")
}

fn bench(params: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_courier"));
    cmd.args(["bench", "lifelong", "--steps", "30", "--step-time-ms", "0"])
        .arg(fixture());
    if let Some(p) = params {
        cmd.arg("--params").arg(p);
    }
    cmd.output().expect("courier runs")
}

fn planner(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .expect("one JSON line per instance")
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&first).expect("JSON line");
    assert_eq!(v["steps"], 30);
    // A fixture, not a main-round instance: nothing to set it against.
    assert!(
        v["best_known"].is_null() && v["share_of_best"].is_null(),
        "{v}"
    );
    v["planner"].as_str().expect("planner named").to_string()
}

#[test]
fn bench_lifelong_takes_parameters() {
    let dir = std::env::temp_dir().join(format!("courier-bench-lifelong-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // A small fleet gets the windowed LNS by default; the parameters can ask for PIBT alone.
    assert!(planner(&bench(None)).starts_with("windowed LNS"));
    let one_step = dir.join("one-step.json");
    std::fs::write(&one_step, r#"{"planner": {"lns_window": 0, "window": 1}}"#).unwrap();
    assert_eq!(planner(&bench(Some(&one_step))), "one-step PIBT");
    // A wrong type, and a misspelt or retired parameter (not a silent default): errors that
    // name the file and what is wrong.
    for (name, json, what) in [
        (
            "bad.json",
            r#"{"planner": {"window": "four"}}"#,
            "invalid type",
        ),
        (
            "unknown.json",
            r#"{"planner": {"guidance": true}}"#,
            "unknown field `guidance`",
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, json).unwrap();
        let out = bench(Some(&file));
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("parsing parameters") && err.contains(name) && err.contains(what),
            "{err}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lifelong_writes_its_metrics_with_the_standing_fields() {
    let out = std::env::temp_dir().join(format!("courier-lifelong-{}.json", std::process::id()));
    let run = Command::new(env!("CARGO_BIN_EXE_courier"))
        .args([
            "lifelong",
            "--steps",
            "20",
            "--step-time-ms",
            "0",
            "--instance",
        ])
        .arg(fixture())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("courier runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("metrics written")).unwrap();
    assert_eq!(
        (v["name"].as_str(), v["steps"].as_u64()),
        (Some("TINY-01"), Some(20))
    );
    assert_eq!(v["validated_steps"], 20);
    // The fields are there, null: the fixture has no best-known result.
    assert!(v.get("best_known").is_some_and(|b| b.is_null()), "{v}");
    assert!(v.get("share_of_best").is_some_and(|b| b.is_null()), "{v}");
    std::fs::remove_file(&out).ok();
}

#[test]
fn lifelong_draws_priorities_and_deadlines_and_reports_them() {
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fleet/tests/data/random-32-32-20.map");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_courier"))
            .args([
                "lifelong",
                "--agents",
                "20",
                "--steps",
                "60",
                "--step-time-ms",
                "0",
            ])
            .arg("--map")
            .arg(&map)
            .args(extra)
            .output()
            .expect("courier runs")
    };
    let ok = run(&[
        "--priority-share",
        "0.3",
        "--due-share",
        "0.3",
        "--due-steps",
        "40",
    ]);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout.contains("priority tasks"), "{stdout}");
    assert!(stdout.contains("tasks with a deadline"), "{stdout}");
    // Without terms the report stays as it was.
    let plain = run(&[]);
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("priority tasks"));
    // A share outside [0, 1] is an error that says so, before any run.
    let bad = run(&["--due-share", "2"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("deadline must be in [0, 1] (2 given)"),
        "{err}"
    );
}
