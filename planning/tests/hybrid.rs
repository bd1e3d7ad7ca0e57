//! Hybrid-A* through the Planner node core: collision-free paths (every pose's footprint checked
//! exactly with parry), the minimum turning radius, clean failures and typed errors.

use courier_core::maps::{FREE, OCCUPIED};
use courier_core::{OccupancyGrid, Pose2, Stamp};
use courier_planning::hybrid::scenes::{SceneKind, generate};
use courier_planning::hybrid::smooth::menger_curvature;
use courier_planning::hybrid::{Footprint, Kinematics, PlanError};
use courier_planning::node::{PlannedPath, Planner, PlannerParams};

fn params(kin: Kinematics) -> PlannerParams {
    let mut p = PlannerParams::default();
    p.hybrid.kinematics = kin;
    // A smaller heuristic table keeps debug-build tests quick.
    p.hybrid.curve_table_extent = 2.0;
    p
}

/// An 8 m × 8 m room split by a wall with a 1.6 m gap.
fn room() -> OccupancyGrid {
    let mut g = OccupancyGrid::filled(160, 160, 0.05, Pose2::new(-1.0, -2.0, 0.0), FREE);
    for i in 0..160 {
        for t in 0..3 {
            g.data[[i, t]] = OCCUPIED;
            g.data[[i, 159 - t]] = OCCUPIED;
            g.data[[t, i]] = OCCUPIED;
            g.data[[159 - t, i]] = OCCUPIED;
        }
    }
    for r in 0..160 {
        if !(90..122).contains(&r) {
            for c in 78..82 {
                g.data[[r, c]] = OCCUPIED;
            }
        }
    }
    g
}

fn check_path(
    planner: &Planner,
    fp: &Footprint,
    p: &PlannedPath,
    start: &Pose2,
    goal: &Pose2,
    r_min: f64,
) {
    let grid = planner.grid().expect("map set");
    let poses = &p.path.poses;
    assert!(poses.len() >= 2);
    let first = poses[0];
    let last = *poses.last().expect("non-empty");
    assert!((first.translation() - start.translation()).norm() < 1e-6);
    assert!(
        (last.translation() - goal.translation()).norm() < 0.15,
        "ends at {last:?}"
    );
    for (i, q) in poses.iter().enumerate() {
        let l = grid.to_local(q);
        assert!(fp.is_free_exact(grid, l), "pose {i} {q:?} collides");
    }
    // Consecutive poses are close, and the curvature through any three (with no cusp) is
    // within the vehicle's limit.
    for w in poses.windows(2) {
        assert!((w[1].translation() - w[0].translation()).norm() < 0.2);
    }
    for i in 1..poses.len() - 1 {
        if p.forward[i] != p.forward[i + 1] {
            continue;
        }
        let f = |q: &Pose2| [q.x(), q.y(), q.theta()];
        let k = menger_curvature(f(&poses[i - 1]), f(&poses[i]), f(&poses[i + 1]));
        assert!(k <= 1.0 / r_min * 1.05 + 1e-6, "curvature {k} at pose {i}");
    }
}

#[test]
fn plans_through_a_gap_for_both_vehicles() {
    for kin in [Kinematics::Ackermann, Kinematics::DiffDrive] {
        let pp = params(kin);
        let r_min = pp.hybrid.min_turning_radius;
        let fp = Footprint::new(&pp.hybrid.footprint, 0.05, pp.hybrid.heading_bins).expect("fp");
        let mut planner = Planner::new(pp).expect("params");
        planner.set_map(&room()).expect("map");
        let start = Pose2::new(0.5, 0.0, 0.3);
        let goal = Pose2::new(5.5, 1.0, std::f64::consts::PI);
        let p = planner
            .plan(Stamp::default(), &start, &goal, &[])
            .unwrap_or_else(|e| panic!("{kin:?}: {e}"));
        check_path(&planner, &fp, &p, &start, &goal, r_min);
    }
}

#[test]
fn plans_in_a_generated_parking_lot() {
    let pp = params(Kinematics::Ackermann);
    let fp = Footprint::new(&pp.hybrid.footprint, 0.05, pp.hybrid.heading_bins).expect("fp");
    let scene = generate(SceneKind::ParkingLot, 220, 0.05, 5, 6, &fp);
    assert!(scene.queries.len() >= 4);
    let mut planner = Planner::new(pp).expect("params");
    planner.set_map(&scene.map).expect("map");
    let mut ok = 0;
    for (s, g) in &scene.queries {
        if let Ok(p) = planner.plan(Stamp::default(), s, g, &[]) {
            check_path(&planner, &fp, &p, s, g, 1.0);
            ok += 1;
        }
    }
    assert!(
        ok * 4 >= scene.queries.len() * 3,
        "{ok}/{} solved",
        scene.queries.len()
    );
}

#[test]
fn scenes_are_deterministic() {
    let fp = Footprint::new(&Default::default(), 0.05, 72).expect("fp");
    let a = generate(SceneKind::Campus, 120, 0.05, 9, 3, &fp);
    let b = generate(SceneKind::Campus, 120, 0.05, 9, 3, &fp);
    assert_eq!(a.map, b.map);
    assert_eq!(a.queries, b.queries);
}

#[test]
fn enclosed_goal_fails_cleanly() {
    let mut g = room();
    // A box around (5.5, 1.0): cells around col 130, row 60.
    for i in 110..150 {
        for t in 0..2 {
            g.data[[40 + t, i]] = OCCUPIED;
            g.data[[78 + t, i]] = OCCUPIED;
        }
    }
    for r in 40..80 {
        for t in 0..2 {
            g.data[[r, 110 + t]] = OCCUPIED;
            g.data[[r, 148 + t]] = OCCUPIED;
        }
    }
    let mut planner = Planner::new(params(Kinematics::Ackermann)).expect("params");
    planner.set_map(&g).expect("map");
    let r = planner.plan(
        Stamp::default(),
        &Pose2::new(0.5, 0.0, 0.0),
        &Pose2::new(5.5, 1.0, 0.0),
        &[],
    );
    assert!(matches!(r, Err(PlanError::NoPath { .. })), "{r:?}");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut planner = Planner::new(params(Kinematics::Ackermann)).expect("params");
    let s = Pose2::new(0.5, 0.0, 0.0);
    let g = Pose2::new(5.5, 1.0, 0.0);
    assert!(matches!(
        planner.plan(Stamp::default(), &s, &g, &[]),
        Err(PlanError::InvalidParam { name: "map", .. })
    ));
    planner.set_map(&room()).expect("map");
    let nan = Pose2::new(f64::NAN, 0.0, 0.0);
    assert!(matches!(
        planner.plan(Stamp::default(), &nan, &g, &[]),
        Err(PlanError::NonFinite { .. })
    ));
    assert!(matches!(
        planner.plan(Stamp::default(), &Pose2::new(-30.0, 0.0, 0.0), &g, &[]),
        Err(PlanError::OffMap { what: "start", .. })
    ));
    // Goal on the dividing wall (col 80 → x = -1 + 4.0 = 3.0).
    assert!(matches!(
        planner.plan(Stamp::default(), &s, &Pose2::new(3.0, 0.0, 0.0), &[]),
        Err(PlanError::InCollision { what: "goal", .. })
    ));
    // An obstacle point dropped onto the goal.
    assert!(matches!(
        planner.plan(Stamp::default(), &s, &g, &[[5.5, 1.0]]),
        Err(PlanError::InCollision { what: "goal", .. })
    ));
    assert!(matches!(
        planner.plan(Stamp::default(), &s, &g, &[[f64::INFINITY, 1.0]]),
        Err(PlanError::NonFinite { .. })
    ));
    let mut bad = PlannerParams::default();
    bad.hybrid.min_turning_radius = -1.0;
    assert!(matches!(
        Planner::new(bad),
        Err(PlanError::InvalidParam { .. })
    ));
}
