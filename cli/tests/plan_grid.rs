//! `courier plan grid` on the den312d fixture (planning/tests/data) with every algorithm: each
//! written path is a legal 8-connected cell sequence (no corner cutting) from the query's start
//! to its goal, and its octile length equals the length in results.csv and the scenario's.

use courier_core::formats::movingai;
use courier_planning::grid::count_steps;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../planning/tests/data")
        .join(name)
}

#[test]
fn written_paths_are_legal_and_match_the_reported_lengths() {
    let (map_path, scen_path) = (fixture("den312d.map"), fixture("den312d-every5th.map.scen"));
    let map = movingai::read_map(&map_path).expect("fixture map reads");
    let scen = movingai::read_scen(&scen_path).expect("fixture scen reads");
    let dir = std::env::temp_dir().join(format!("courier-plan-grid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for algo in ["jps", "astar", "ch", "hl"] {
        let (out, paths) = (
            dir.join(format!("{algo}.csv")),
            dir.join(format!("{algo}.jsonl")),
        );
        let run = Command::new(env!("CARGO_BIN_EXE_courier"))
            .args(["plan", "grid", "--algo", algo, "--map"])
            .arg(&map_path)
            .arg("--scen")
            .arg(&scen_path)
            .arg("--out")
            .arg(&out)
            .arg("--paths")
            .arg(&paths)
            .output()
            .expect("the courier binary runs");
        assert!(
            run.status.success(),
            "{algo}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let csv = std::fs::read_to_string(&out).expect("results.csv written");
        let jsonl = std::fs::read_to_string(&paths).expect("paths.jsonl written");
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        let lines: Vec<&str> = jsonl.lines().collect();
        assert_eq!(rows.len(), scen.entries.len(), "{algo}: one row per query");
        assert_eq!(
            lines.len(),
            scen.entries.len(),
            "{algo}: one path per query"
        );
        for (k, ((row, line), e)) in rows.iter().zip(&lines).zip(&scen.entries).enumerate() {
            let length: f64 = row
                .split(',')
                .next()
                .and_then(|v| v.parse().ok())
                .expect("length column parses");
            let cells: Vec<[u32; 2]> = serde_json::from_str(line).expect("path is JSON");
            let cells: Vec<_> = cells
                .iter()
                .map(|c| courier_core::path::Cell::new(c[0], c[1]))
                .collect();
            assert_eq!(
                (
                    cells.first().map(|c| (c.x as usize, c.y as usize)),
                    cells.last().map(|c| (c.x as usize, c.y as usize))
                ),
                (Some(e.start), Some(e.goal)),
                "{algo} query {k}: endpoints"
            );
            let (card, diag) = count_steps(&map, &cells)
                .unwrap_or_else(|err| panic!("{algo} query {k}: illegal path: {err}"));
            let walked = f64::from(card) + std::f64::consts::SQRT_2 * f64::from(diag);
            assert!(
                (walked - length).abs() < 1e-7,
                "{algo} query {k}: {walked} vs {length}"
            );
            assert!(
                (length - e.optimal_length).abs() < 1e-6,
                "{algo} query {k}: not optimal"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
