//! Grid search tests: optimal lengths on a MovingAI fixture, the no-corner-cutting rule, typed
//! errors, and agreement of A*, JPS and the `pathfinding` baseline on random maps.

// Test helpers panic on failure by design.
#![allow(clippy::unwrap_used)]

use courier_core::GridMap;
use courier_core::formats::movingai;
use courier_core::path::Cell;
use courier_planning::PlanningError;
use courier_planning::grid::{
    AStar, ContractionHierarchy, GridPlan, GridPlanner, HubLabels, Jps, count_steps, reference,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn planners(map: &GridMap) -> Vec<(&'static str, Box<dyn GridPlanner>)> {
    vec![
        ("astar", Box::new(AStar::new(map).unwrap())),
        ("jps", Box::new(Jps::new(map).unwrap())),
        ("astar-lm", Box::new(AStar::with_landmarks(map, 4).unwrap())),
        ("jps-lm", Box::new(Jps::with_landmarks(map, 4).unwrap())),
        ("ch", Box::new(ContractionHierarchy::new(map).unwrap())),
        ("hl", Box::new(HubLabels::new(map).unwrap())),
    ]
}

fn check_plan(map: &GridMap, plan: &GridPlan, start: Cell, goal: Cell) {
    assert_eq!(plan.cells.first(), Some(&start));
    assert_eq!(plan.cells.last(), Some(&goal));
    assert_eq!(
        count_steps(map, &plan.cells).unwrap(),
        (plan.cardinals, plan.diagonals)
    );
}

#[test]
fn den312d_fixture_has_zero_mismatches() {
    let map = movingai::read_map(format!("{DATA}/den312d.map")).unwrap();
    let scen = movingai::read_scen(format!("{DATA}/den312d-every5th.map.scen")).unwrap();
    assert_eq!(scen.entries.len(), 58);
    for (name, mut p) in planners(&map) {
        for (k, e) in scen.entries.iter().enumerate() {
            let (s, g) = (
                Cell::new(e.start.0 as u32, e.start.1 as u32),
                Cell::new(e.goal.0 as u32, e.goal.1 as u32),
            );
            let plan = p.plan(s, g).unwrap();
            check_plan(&map, &plan, s, g);
            assert!(
                (plan.length() - e.optimal_length).abs() < 1e-6,
                "{name} query {k}: {} vs optimal {}",
                plan.length(),
                e.optimal_length
            );
        }
    }
    // The baseline reproduces them too (a third of the queries keeps the test quick).
    for e in scen.entries.iter().step_by(3) {
        let plan = reference::plan(
            &map,
            Cell::new(e.start.0 as u32, e.start.1 as u32),
            Cell::new(e.goal.0 as u32, e.goal.1 as u32),
        )
        .unwrap();
        assert!((plan.length() - e.optimal_length).abs() < 1e-6);
    }
}

#[test]
fn corners_are_not_cut() {
    // .@.
    // ...
    // From (0,0) to (2,0) around the wall at (1,0): cutting its corners would give 2√2; without
    // cutting, (0,0)→(1,1) and (1,1)→(2,0) are illegal and the path is 4 cardinal steps.
    let map = GridMap::new(3, 2, vec![true, false, true, true, true, true]);
    for (name, mut p) in planners(&map) {
        let plan = p.plan(Cell::new(0, 0), Cell::new(2, 0)).unwrap();
        assert_eq!((plan.cardinals, plan.diagonals), (4, 0), "{name}");
    }
    // Two blocked cells touching only at a corner: no squeezing between them.
    // .@
    // @.
    let map = GridMap::new(2, 2, vec![true, false, false, true]);
    for (name, mut p) in planners(&map) {
        assert!(
            matches!(
                p.plan(Cell::new(0, 0), Cell::new(1, 1)),
                Err(PlanningError::Unreachable { .. })
            ),
            "{name}"
        );
    }
    // On an open grid the diagonal is used.
    let map = GridMap::new(4, 4, vec![true; 16]);
    for (name, mut p) in planners(&map) {
        let plan = p.plan(Cell::new(0, 0), Cell::new(3, 2)).unwrap();
        assert_eq!((plan.cardinals, plan.diagonals), (1, 2), "{name}");
    }
}

#[test]
fn bad_queries_are_typed_errors() {
    // ..@..
    // ..@..
    let map = GridMap::new(5, 2, (0..10).map(|i| i % 5 != 2).collect());
    for (name, mut p) in planners(&map) {
        let e = p.plan(Cell::new(0, 0), Cell::new(4, 1)).unwrap_err();
        assert_eq!(
            e,
            PlanningError::Unreachable {
                start: (0, 0),
                goal: (4, 1)
            },
            "{name}"
        );
        let e = p.plan(Cell::new(0, 0), Cell::new(2, 1)).unwrap_err();
        assert!(
            matches!(
                e,
                PlanningError::Blocked {
                    what: "goal",
                    x: 2,
                    y: 1
                }
            ),
            "{name}: {e}"
        );
        let e = p.plan(Cell::new(5, 0), Cell::new(0, 0)).unwrap_err();
        assert!(
            matches!(
                e,
                PlanningError::OffMap {
                    what: "start",
                    x: 5,
                    ..
                }
            ),
            "{name}: {e}"
        );
        assert!(e.to_string().contains("outside the 5x2 map"), "{e}");
        let plan = p.plan(Cell::new(1, 1), Cell::new(1, 1)).unwrap();
        assert_eq!((plan.cells.len(), plan.length()), (1, 0.0), "{name}");
    }
    assert!(matches!(
        reference::plan(&map, Cell::new(0, 0), Cell::new(4, 0)),
        Err(PlanningError::Unreachable { .. })
    ));
}

#[test]
fn random_maps_agree_with_the_pathfinding_baseline() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut solved = 0;
    for case in 0..40 {
        let (w, h) = (rng.random_range(2..40), rng.random_range(2..40));
        let density = [0.0, 0.1, 0.25, 0.35][case % 4];
        let passable: Vec<bool> = (0..w * h).map(|_| rng.random::<f64>() >= density).collect();
        let map = GridMap::new(w, h, passable);
        let mut ps = planners(&map);
        for _ in 0..15 {
            let s = Cell::new(rng.random_range(0..w as u32), rng.random_range(0..h as u32));
            let g = Cell::new(rng.random_range(0..w as u32), rng.random_range(0..h as u32));
            let want = reference::plan(&map, s, g);
            for (name, p) in ps.iter_mut() {
                let got = p.plan(s, g);
                match (&want, &got) {
                    (Ok(a), Ok(b)) => {
                        check_plan(&map, b, s, g);
                        assert!(
                            (a.length() - b.length()).abs() < 1e-9,
                            "case {case} {name} {s:?}->{g:?}: {} vs {}",
                            b.length(),
                            a.length()
                        );
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b, "case {case} {name}"),
                    _ => panic!("case {case} {name} {s:?}->{g:?}: {want:?} vs {got:?}"),
                }
            }
            solved += usize::from(want.is_ok());
        }
    }
    assert!(solved > 300, "enough solvable queries: {solved}");
}

/// Exact distances from `s` by a plain Dijkstra over every legal move (f64 lengths counted as
/// cardinals + √2·diagonals per path would need path tracking; summing steps is exact enough
/// for maps this small: errors ~1e-13).
fn brute_force(map: &GridMap, s: Cell) -> Vec<f64> {
    let (w, h) = (map.width as i64, map.height as i64);
    let mut dist = vec![f64::INFINITY; map.passable.len()];
    let mut done = vec![false; map.passable.len()];
    dist[s.y as usize * map.width + s.x as usize] = 0.0;
    // O(n²) selection: no heap, nothing clever to get wrong.
    while let Some((v, d)) = dist
        .iter()
        .enumerate()
        .filter(|&(i, d)| !done[i] && d.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, &d)| (i, d))
    {
        done[v] = true;
        let (x, y) = (v as i64 % w, v as i64 / w);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (nx, ny) = (x + dx, y + dy);
                if (dx, dy) == (0, 0) || nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                if !map.is_passable(nx, ny)
                    || (dx != 0
                        && dy != 0
                        && !(map.is_passable(x + dx, y) && map.is_passable(x, y + dy)))
                {
                    continue;
                }
                let c = if dx != 0 && dy != 0 {
                    std::f64::consts::SQRT_2
                } else {
                    1.0
                };
                let n = (ny * w + nx) as usize;
                dist[n] = dist[n].min(d + c);
            }
        }
    }
    dist
}

#[test]
fn every_planner_matches_brute_force_dijkstra_on_random_maps() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut checked = 0;
    for case in 0..24 {
        let (w, h) = (rng.random_range(3..30), rng.random_range(3..30));
        let density = [0.05, 0.1, 0.2, 0.3][case % 4];
        let passable: Vec<bool> = (0..w * h).map(|_| rng.random::<f64>() >= density).collect();
        let map = GridMap::new(w, h, passable);
        let mut ps = planners(&map);
        for _ in 0..6 {
            let s = Cell::new(rng.random_range(0..w as u32), rng.random_range(0..h as u32));
            if !map.is_passable(i64::from(s.x), i64::from(s.y)) {
                continue;
            }
            let dist = brute_force(&map, s);
            for (gi, &d) in dist.iter().enumerate() {
                if !map.passable[gi] {
                    continue;
                }
                let g = Cell::new((gi % w) as u32, (gi / w) as u32);
                for (name, p) in ps.iter_mut() {
                    match p.plan(s, g) {
                        Ok(plan) => {
                            check_plan(&map, &plan, s, g);
                            assert!(
                                (plan.length() - d).abs() < 1e-9,
                                "case {case} {name} {s:?}->{g:?}: {} vs {d}",
                                plan.length()
                            );
                        }
                        Err(PlanningError::Unreachable { .. }) => {
                            assert!(d.is_infinite(), "case {case} {name} {s:?}->{g:?}")
                        }
                        Err(e) => panic!("case {case} {name}: {e}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "enough queries: {checked}");
}
