//! 2D SLAM on a synthetic world generated here from a seed: a room polygon with obstacles,
//! scans ray-cast from a known trajectory, and noisy odometry.

use courier_core::msgs::LaserScan;
use courier_core::{Pose2, Stamp};
use courier_localization::slam2d::grid::{GridTables, ProbGrid};
use courier_localization::slam2d::matcher::{self, CorrelativeParams, RefineParams};
use courier_localization::slam2d::pose_graph::{Constraint, PoseGraph, RobustKernel, SolverParams};
use courier_localization::slam2d::relations::{Relation, evaluate, parse_relations};
use courier_localization::slam2d::{LoopClosureParams, Slam2d, Slam2dParams};
use nalgebra::Point2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::path::Path;

/// Wall segments of a 12 m × 9 m room with an inner wall stub and three pillars.
fn world() -> Vec<[f64; 4]> {
    let mut w = vec![];
    let poly = [
        [-6.0, -4.5],
        [6.0, -4.5],
        [6.0, 1.0],
        [5.0, 1.0],
        [5.0, 4.5],
        [-6.0, 4.5],
    ];
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        w.push([a[0], a[1], b[0], b[1]]);
    }
    w.push([-2.0, -4.5, -2.0, -2.5]);
    for (cx, cy, r) in [(-3.5, 2.0, 0.3), (1.5, -1.7, 0.4), (3.0, 2.2, 0.25)] {
        let c = [
            [cx - r, cy - r],
            [cx + r, cy - r],
            [cx + r, cy + r],
            [cx - r * 0.5, cy + r],
        ];
        for i in 0..4 {
            let (a, b) = (c[i], c[(i + 1) % 4]);
            w.push([a[0], a[1], b[0], b[1]]);
        }
    }
    w
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(1e-12..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// A 181-beam, 180° scan from `pose` with range noise σ = `noise`.
fn raycast(walls: &[[f64; 4]], pose: &Pose2, noise: f64, rng: &mut ChaCha8Rng) -> LaserScan {
    let n = 181;
    let inc = PI / 180.0;
    let ranges = (0..n)
        .map(|i| {
            let a = pose.theta() - PI / 2.0 + i as f64 * inc;
            let (dx, dy) = (a.cos(), a.sin());
            let mut best = f64::INFINITY;
            for w in walls {
                let (ex, ey) = (w[2] - w[0], w[3] - w[1]);
                let den = dx * ey - dy * ex;
                if den.abs() < 1e-12 {
                    continue;
                }
                let (qx, qy) = (w[0] - pose.x(), w[1] - pose.y());
                let t = (qx * ey - qy * ex) / den;
                let s = (qx * dy - qy * dx) / den;
                if t > 0.0 && (0.0..=1.0).contains(&s) {
                    best = best.min(t);
                }
            }
            if best.is_finite() {
                (best + noise * gauss(rng)) as f32
            } else {
                81.9
            }
        })
        .collect();
    LaserScan {
        stamp: Stamp::ZERO,
        frame_id: "laser".into(),
        angle_min: (-PI / 2.0) as f32,
        angle_increment: inc as f32,
        range_min: 0.0,
        range_max: 81.0,
        ranges,
        intensities: vec![],
    }
}

/// Ground truth: two laps of a rounded rectangle through the room, 0.05 m per step.
fn trajectory() -> Vec<Pose2> {
    let (a, b) = (3.5, 2.2);
    let mut out = vec![];
    let steps = 300;
    for lap in 0..2 {
        for k in 0..steps {
            let t = 2.0 * PI * (k as f64 / steps as f64) + lap as f64 * 2.0 * PI;
            // A superellipse: long straight-ish sides, rounded corners.
            let (c, s) = (t.cos(), t.sin());
            let x = a * c.signum() * c.abs().powf(0.5);
            let y = b * s.signum() * s.abs().powf(0.5) - 0.3;
            out.push((x, y));
        }
    }
    (0..out.len())
        .map(|i| {
            let (x, y) = out[i];
            let (nx, ny) = out[(i + 1) % out.len()];
            Pose2::new(x, y, (ny - y).atan2(nx - x))
        })
        .collect()
}

/// Odometry that drifts: each step's motion gets noise and a heading bias.
fn odometry(truth: &[Pose2], rng: &mut ChaCha8Rng) -> Vec<Pose2> {
    let mut odo = vec![truth[0]];
    for w in truth.windows(2) {
        let d = w[0].between(&w[1]);
        let noisy = Pose2::new(
            d.x() * (1.0 + 0.02 * gauss(rng)),
            d.y() + 0.002 * gauss(rng),
            d.theta() * 1.01 + 0.003 + 0.004 * gauss(rng),
        );
        let last = *odo.last().expect("starts non-empty");
        odo.push(last * noisy);
    }
    odo
}

fn pose_err(a: &Pose2, b: &Pose2) -> (f64, f64) {
    let d = a.between(b);
    (d.translation().norm(), d.theta().abs())
}

#[test]
fn scan_matcher_recovers_a_known_offset() {
    let walls = world();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let tables = GridTables::new(0.55, 0.49);
    let mut grid = ProbGrid::new(0.05, [0.0, 0.0]);
    let base = Pose2::new(-1.0, 0.5, 0.3);
    for k in 0..10 {
        let p = base * Pose2::new(0.03 * k as f64, 0.0, 0.01 * k as f64);
        let scan = raycast(&walls, &p, 0.005, &mut rng);
        let hits: Vec<[f64; 2]> = scan
            .points()
            .map(|q| {
                let w = p.transform_point(&Point2::new(q[0] as f64, q[1] as f64));
                [w.x, w.y]
            })
            .collect();
        grid.insert(&tables, [p.x(), p.y()], &hits, &[]);
    }
    let truth = base * Pose2::new(0.1, 0.05, 0.02);
    let scan = raycast(&walls, &truth, 0.005, &mut rng);
    let pts: Vec<[f64; 2]> = scan.points().map(|q| [q[0] as f64, q[1] as f64]).collect();
    // The guess is off by 7 cm, -5 cm and 2.5°.
    let guess = truth * Pose2::new(0.07, -0.05, 2.5f64.to_radians());
    let mut buf = Vec::new();
    let (coarse, score) = matcher::correlative(
        &grid,
        &tables,
        &pts,
        &guess,
        &CorrelativeParams::default(),
        &mut buf,
    );
    assert!(score > 0.6, "score {score}");
    let refined = matcher::refine(
        &grid,
        &tables,
        &pts,
        &coarse,
        &coarse,
        &RefineParams {
            translation_weight: 0.1,
            rotation_weight: 0.1,
            ..RefineParams::default()
        },
    );
    let (dt, da) = pose_err(&truth, &refined);
    let (gt, ga) = pose_err(&truth, &guess);
    assert!(
        dt < 0.015 && da < 0.3f64.to_radians(),
        "error {dt} m {da} rad"
    );
    assert!(dt < gt / 4.0 && da < ga / 4.0);
}

/// A square loop of 40 poses with noisy odometry constraints and one true loop closure.
fn loop_graph(rng: &mut ChaCha8Rng) -> (PoseGraph, Vec<Pose2>) {
    let mut truth = vec![];
    let mut p = Pose2::identity();
    for k in 0..40 {
        truth.push(p);
        let turn = if k % 10 == 9 { PI / 2.0 } else { 0.0 };
        p = p * Pose2::new(0.5, 0.0, turn);
    }
    let mut g = PoseGraph::default();
    let mut est = Pose2::identity();
    for (k, t) in truth.iter().enumerate() {
        if k > 0 {
            let d = truth[k - 1].between(t);
            let noisy = Pose2::new(
                d.x() + 0.02 * gauss(rng),
                d.y() + 0.02 * gauss(rng),
                d.theta() + 0.02 + 0.01 * gauss(rng),
            );
            est = est * noisy;
            g.add_pose(est, false);
            g.add_constraint(Constraint {
                a: k - 1,
                b: k,
                z: noisy,
                translation_weight: 50.0,
                rotation_weight: 100.0,
                kernel: RobustKernel::None,
            })
            .expect("valid constraint");
        } else {
            g.add_pose(est, true);
        }
    }
    g.add_constraint(Constraint {
        a: 0,
        b: 39,
        z: truth[0].between(&truth[39]),
        translation_weight: 100.0,
        rotation_weight: 300.0,
        kernel: RobustKernel::Huber(1.0),
    })
    .expect("valid constraint");
    (g, truth)
}

fn max_error(g: &PoseGraph, truth: &[Pose2]) -> f64 {
    g.poses
        .iter()
        .zip(truth)
        .map(|(a, b)| pose_err(a, b).0)
        .fold(0.0, f64::max)
}

#[test]
fn pose_graph_recovers_a_loop_and_huber_rejects_a_wrong_closure() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut g, truth) = loop_graph(&mut rng);
    let before = max_error(&g, &truth);
    let report = g.optimize(&SolverParams::default()).expect("solves");
    let after = max_error(&g, &truth);
    assert!(report.final_cost < report.initial_cost);
    assert!(before > 1.0, "odometry drift {before}");
    assert!(after < 0.15, "loop not closed: {after}");

    // A wrong closure claims pose 25 sits on pose 5 (they are 5 m apart).
    let wrong = |kernel| Constraint {
        a: 5,
        b: 25,
        z: Pose2::new(0.2, 0.0, 0.1),
        translation_weight: 100.0,
        rotation_weight: 300.0,
        kernel,
    };
    let mut robust = loop_graph(&mut ChaCha8Rng::seed_from_u64(7)).0;
    robust
        .add_constraint(wrong(RobustKernel::Cauchy(1.0)))
        .expect("valid");
    robust.optimize(&SolverParams::default()).expect("solves");
    let mut plain = loop_graph(&mut ChaCha8Rng::seed_from_u64(7)).0;
    plain
        .add_constraint(wrong(RobustKernel::None))
        .expect("valid");
    plain.optimize(&SolverParams::default()).expect("solves");
    let (er, ep) = (max_error(&robust, &truth), max_error(&plain, &truth));
    assert!(er < 0.3, "robust kernel let the wrong closure in: {er}");
    assert!(
        ep > 1.0,
        "without a kernel the wrong closure should distort: {ep}"
    );
}

#[test]
fn relation_metric_on_a_hand_made_case() {
    let rel = "# t1 t2 x y z roll pitch yaw\n\
               1.000000 2.000000 1.0 0.0 0 0 0 0.0\n\
               2.000000 3.50 0.0 1.0 0 0 0 1.5707963267948966\n";
    let rels = parse_relations(rel, Path::new("r")).expect("parses");
    assert_eq!(rels[1].t2, "3.50");
    let mut poses = HashMap::new();
    poses.insert("1.000000".to_string(), Pose2::new(0.0, 0.0, 0.0));
    // 0.1 m too far along x.
    poses.insert("2.000000".to_string(), Pose2::new(1.1, 0.0, 0.0));
    // Exactly one metre to the left of pose 2, but turned 1° too little.
    poses.insert(
        "3.50".to_string(),
        Pose2::new(1.1, 1.0, (90.0f64 - 1.0).to_radians()),
    );
    let m = evaluate(&poses, &rels).expect("all poses present");
    assert_eq!(m.relations, 2);
    // Relation 1: e = (1.1,0,0)·(1,0,0)⁻¹ → 0.1 m, 0°. Relation 2: d = (0,1,89°);
    // e = d·(0,1,90°)⁻¹ = (0,1,89°)·(−1,0,−90°) → translation (−cos89°, 1 − sin89°).
    let t2 =
        ((1.0f64).to_radians().sin().powi(2) + (1.0 - 89f64.to_radians().sin()).powi(2)).sqrt();
    assert!((m.translation.mean - (0.1 + t2) / 2.0).abs() < 1e-9);
    assert!((m.rotation_deg.mean - 0.5).abs() < 1e-9);
    let sd = ((0.1 - t2) * (0.1 - t2) / 2.0).sqrt();
    assert!((m.translation.std - sd).abs() < 1e-9);
    assert!((m.rotation_deg.max - 1.0).abs() < 1e-9);
    // A relation at a time the trajectory lacks is an error, not a panic.
    let missing = vec![Relation {
        t1: "1.000000".into(),
        t2: "9.9".into(),
        motion: Pose2::identity(),
    }];
    assert!(evaluate(&poses, &missing).is_err());
    assert!(parse_relations("1 2 3\n", Path::new("r")).is_err());
    assert!(parse_relations("1 2 nan 0 0 0 0 0\n", Path::new("r")).is_err());
}

fn small_params() -> Slam2dParams {
    Slam2dParams {
        scans_per_submap: 25,
        optimize_every_n_nodes: 20,
        motion_filter_distance: 0.1,
        // A small world needs only small loop-closure windows (and debug builds are slow).
        loop_closure: LoopClosureParams {
            linear_window: 1.0,
            angular_window_deg: 10.0,
            ..LoopClosureParams::default()
        },
        ..Slam2dParams::default()
    }
}

#[test]
fn slam_beats_odometry_on_a_synthetic_loop() {
    let walls = world();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let truth = trajectory();
    let odo = odometry(&truth, &mut rng);
    let mut slam = Slam2d::new(small_params()).expect("valid params");
    for (k, (t, o)) in truth.iter().zip(&odo).enumerate() {
        let mut scan = raycast(&walls, t, 0.01, &mut rng);
        scan.stamp = Stamp::from_nanos(k as i64 * 100_000_000);
        slam.on_scan(&scan, Some(*o)).expect("scan accepted");
    }
    slam.finish().expect("optimises");
    let traj = slam.trajectory();
    assert_eq!(traj.len(), truth.len());
    // Compare relative poses over 40 steps (the frames differ by the start pose).
    let rel_err = |poses: &[Pose2]| -> f64 {
        let mut sum = 0.0;
        let mut n = 0;
        for i in (0..truth.len() - 40).step_by(5) {
            let e = poses[i].between(&poses[i + 40]);
            let g = truth[i].between(&truth[i + 40]);
            sum += pose_err(&e, &g).0;
            n += 1;
        }
        sum / n as f64
    };
    let slam_poses: Vec<Pose2> = traj.iter().map(|(_, p)| truth[0] * *p).collect();
    let (es, eo) = (rel_err(&slam_poses), rel_err(&odo));
    assert!(es < 0.03, "SLAM relative error {es} m (odometry {eo} m)");
    assert!(es < eo / 3.0, "SLAM {es} m vs odometry {eo} m");
    // Global consistency: the end of lap 2 sits where the end of lap 1 did.
    let n = truth.len() / 2;
    let (d_end, _) = pose_err(
        &slam_poses[n - 1].between(&slam_poses[2 * n - 1]),
        &truth[n - 1].between(&truth[2 * n - 1]),
    );
    assert!(d_end < 0.05, "lap mismatch {d_end} m");
    let s = slam.stats();
    assert!(s.loop_closures > 0 && s.optimizations > 0);
    let map = slam.map();
    let (free, occ, _) = map.census();
    assert!(free > 1000 && occ > 300, "free {free} occupied {occ}");
}

#[test]
fn bad_beams_are_skipped_and_counted_and_bad_scans_rejected() {
    let walls = world();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut slam = Slam2d::new(small_params()).expect("valid params");
    let mut scan = raycast(&walls, &Pose2::identity(), 0.0, &mut rng);
    scan.ranges[3] = f32::NAN;
    scan.ranges[4] = f32::INFINITY;
    scan.ranges[5] = -1.0;
    scan.ranges[6] = 0.0;
    let est = slam
        .on_scan(&scan, Some(Pose2::identity()))
        .expect("usable scan");
    assert!(est.pose.is_finite());
    let s = slam.stats();
    assert_eq!((s.nan_beams, s.out_of_range_beams), (2, 2));
    // A scan of nothing but NaN still yields a pose (from odometry), without panicking.
    scan.stamp = Stamp::from_nanos(1);
    scan.ranges.iter_mut().for_each(|r| *r = f32::NAN);
    let est = slam
        .on_scan(&scan, Some(Pose2::new(0.1, 0.0, 0.0)))
        .expect("all-NaN scan is skipped beam by beam");
    assert!((est.pose.x() - 0.1).abs() < 1e-9);
    assert_eq!(slam.stats().nan_beams, 2 + 181);
    // Broken geometry, odometry or time order are errors.
    let mut bad = scan.clone();
    bad.angle_increment = f32::NAN;
    assert!(slam.on_scan(&bad, None).is_err());
    assert!(
        slam.on_scan(&scan, Some(Pose2::new(f64::NAN, 0.0, 0.0)))
            .is_err()
    );
    let mut old = scan.clone();
    old.stamp = Stamp::ZERO;
    slam.on_scan(&old, None).expect("late scans are processed");
    assert_eq!(slam.stats().out_of_order_scans, 1);
    assert!(
        Slam2d::new(Slam2dParams {
            resolution: 0.0,
            ..Slam2dParams::default()
        })
        .is_err()
    );
}
