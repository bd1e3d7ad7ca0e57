//! Path following in a kinematic simulation: both controllers converge to the path within the
//! limits, stop before an obstacle on it, are deterministic, and reject bad input.

use courier_core::path::Path2;
use courier_core::{Pose2, Stamp, Twist2};
use courier_planning::control::{ControlParams, FollowerKind};
use courier_planning::hybrid::reeds_shepp::{Steer, advance};
use courier_planning::hybrid::{Footprint, PlanError};
use courier_planning::node::Controller;

/// Straight 2 m, a left quarter turn of radius 1.5 m, straight 2 m; poses every 5 cm.
fn s_path() -> Path2 {
    let mut poses = vec![Pose2::new(0.0, 0.0, 0.0)];
    let mut p = [0.0, 0.0, 0.0];
    for (steer, len, r) in [
        (Steer::Straight, 2.0, 1.0),
        (Steer::Left, 1.5 * std::f64::consts::FRAC_PI_2, 1.5),
        (Steer::Straight, 2.0, 1.0),
    ] {
        let n = (len / 0.05f64).ceil() as usize;
        let base = p;
        for k in 1..=n {
            p = advance(base, steer, len * k as f64 / n as f64, r);
            poses.push(Pose2::new(p[0], p[1], p[2]));
        }
    }
    Path2 {
        poses,
        ..Default::default()
    }
}

fn straight(len: f64) -> Path2 {
    Path2 {
        poses: (0..=(len / 0.05) as usize)
            .map(|i| Pose2::new(i as f64 * 0.05, 0.0, 0.0))
            .collect(),
        ..Default::default()
    }
}

struct Run {
    poses: Vec<Pose2>,
    twists: Vec<Twist2>,
    reached: bool,
}

fn simulate(
    kind: FollowerKind,
    path: &Path2,
    start: Pose2,
    obstacles: &[[f64; 2]],
    steps: usize,
) -> Run {
    let params = ControlParams {
        kind,
        ..Default::default()
    };
    let mut c = Controller::new(params).expect("valid params");
    c.set_path(path, None).expect("valid path");
    let dt = 0.05;
    let mut pose = start;
    let mut run = Run {
        poses: vec![pose],
        twists: vec![],
        reached: false,
    };
    for k in 0..steps {
        let out = c
            .compute(
                Stamp::from_secs_f64(k as f64 * dt).expect("finite"),
                &pose,
                obstacles,
            )
            .expect("valid input");
        pose = pose * out.twist.integrate(dt);
        run.poses.push(pose);
        run.twists.push(out.twist);
        if out.goal_reached && out.twist.vx.abs() < 1e-9 {
            run.reached = true;
            break;
        }
    }
    run
}

fn check_limits(run: &Run, p: &ControlParams) {
    let l = &p.limits;
    let dt = 0.05;
    let mut prev = Twist2::default();
    for t in &run.twists {
        assert!(
            t.vx <= l.max_speed + 1e-9 && t.vx >= -l.max_reverse_speed - 1e-9,
            "{t:?}"
        );
        assert!(t.wz.abs() <= l.max_yaw_rate + 1e-9, "{t:?}");
        assert!((t.vx - prev.vx).abs() <= l.max_accel.max(l.max_decel) * dt + 1e-9);
        assert!((t.wz - prev.wz).abs() <= l.max_yaw_accel * dt + 1e-9);
        prev = *t;
    }
}

fn cross_track(path: &Path2, p: &Pose2) -> f64 {
    path.poses
        .iter()
        .map(|q| (q.translation() - p.translation()).norm())
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn controllers_converge_to_the_path_within_limits() {
    let path = s_path();
    let goal = *path.poses.last().expect("non-empty");
    for kind in [FollowerKind::PurePursuit, FollowerKind::Mppi] {
        let run = simulate(kind, &path, Pose2::new(0.0, 0.3, 0.2), &[], 1200);
        assert!(run.reached, "{kind:?} did not reach the goal");
        let end = run.poses.last().expect("poses");
        assert!(
            (end.translation() - goal.translation()).norm() < 0.15,
            "{kind:?} ended at {end:?}"
        );
        check_limits(&run, &ControlParams::default());
        // After 3 s the vehicle stays on the path.
        let worst = run.poses[60.min(run.poses.len() - 1)..]
            .iter()
            .map(|p| cross_track(&path, p))
            .fold(0.0, f64::max);
        assert!(worst < 0.12, "{kind:?}: cross-track {worst}");
        // It actually drove at a useful speed.
        let vmax = run.twists.iter().map(|t| t.vx).fold(0.0, f64::max);
        assert!(vmax > 0.5, "{kind:?} top speed {vmax}");
    }
}

#[test]
fn controllers_stop_before_an_obstacle() {
    let path = straight(6.0);
    let obstacles: Vec<[f64; 2]> = (-2..=2).map(|i| [3.0, i as f64 * 0.05]).collect();
    let fp = Footprint::new(&Default::default(), 0.05, 72).expect("fp");
    for kind in [FollowerKind::PurePursuit, FollowerKind::Mppi] {
        let run = simulate(kind, &path, Pose2::new(0.0, 0.0, 0.0), &obstacles, 400);
        assert!(!run.reached);
        for p in &run.poses {
            let (s, c) = p.theta().sin_cos();
            for q in &obstacles {
                let (dx, dy) = (q[0] - p.x(), q[1] - p.y());
                assert!(
                    !fp.contains_body_point(c * dx + s * dy, -s * dx + c * dy, 0.0),
                    "{kind:?} hit the obstacle at {p:?}"
                );
            }
        }
        let end = run.poses.last().expect("poses");
        assert!(end.x() > 1.5, "{kind:?} stopped too early at {end:?}");
        assert!(end.x() < 2.65, "{kind:?} at {end:?}");
        let last = run.twists.last().expect("twists");
        assert!(last.vx.abs() < 1e-6, "{kind:?} still moving: {last:?}");
        check_limits(&run, &ControlParams::default());
    }
}

#[test]
fn pure_pursuit_checks_the_arc_it_drives_not_only_the_path() {
    // The robot starts 2.5 m beside a straight path and arcs onto it. An obstacle placed where
    // that arc went (but well clear of the path itself) must not be hit on a second run.
    let path = straight(8.0);
    let start = Pose2::new(0.0, 2.5, 0.0);
    let free = simulate(FollowerKind::PurePursuit, &path, start, &[], 800);
    let fp = Footprint::new(&Default::default(), 0.05, 72).expect("fp");
    let on_arc = free
        .poses
        .iter()
        .find(|p| {
            (p.translation() - start.translation()).norm() > 2.0 * fp.circumscribed + 0.2
                && cross_track(&path, p) > fp.circumscribed + 0.05
        })
        .expect("the free run arcs in from the side");
    let obstacle = [on_arc.x(), on_arc.y()];
    let run = simulate(FollowerKind::PurePursuit, &path, start, &[obstacle], 800);
    for p in &run.poses {
        let (s, c) = p.theta().sin_cos();
        let (dx, dy) = (obstacle[0] - p.x(), obstacle[1] - p.y());
        assert!(
            !fp.contains_body_point(c * dx + s * dy, -s * dx + c * dy, 0.0),
            "hit the obstacle beside the path at {p:?} (obstacle {obstacle:?})"
        );
    }
}

#[test]
fn mppi_is_deterministic() {
    let path = s_path();
    let a = simulate(
        FollowerKind::Mppi,
        &path,
        Pose2::new(0.0, 0.3, 0.2),
        &[],
        100,
    );
    let b = simulate(
        FollowerKind::Mppi,
        &path,
        Pose2::new(0.0, 0.3, 0.2),
        &[],
        100,
    );
    assert_eq!(a.twists, b.twists);
}

#[test]
fn bad_controller_input_is_a_typed_error() {
    let mut c = Controller::new(ControlParams::default()).expect("params");
    let t0 = Stamp::from_secs_f64(1.0).expect("finite");
    assert!(matches!(
        c.compute(t0, &Pose2::identity(), &[]),
        Err(PlanError::InvalidPath(_))
    ));
    assert!(matches!(
        c.set_path(&Path2::default(), None),
        Err(PlanError::InvalidPath(_))
    ));
    let path = straight(2.0);
    assert!(matches!(
        c.set_path(&path, Some(&[true])),
        Err(PlanError::InvalidPath(_))
    ));
    c.set_path(&path, None).expect("valid");
    assert!(matches!(
        c.compute(t0, &Pose2::new(f64::NAN, 0.0, 0.0), &[]),
        Err(PlanError::NonFinite { .. })
    ));
    assert!(matches!(
        c.compute(t0, &Pose2::identity(), &[[0.0, f64::NAN]]),
        Err(PlanError::NonFinite { .. })
    ));
    c.compute(t0, &Pose2::identity(), &[]).expect("valid");
    assert!(matches!(
        c.compute(t0, &Pose2::identity(), &[]),
        Err(PlanError::InvalidParam { name: "stamp", .. })
    ));
    let mut bad = ControlParams::default();
    bad.limits.max_accel = -1.0;
    assert!(matches!(
        Controller::new(bad),
        Err(PlanError::InvalidParam { .. })
    ));
}

#[test]
fn follows_a_hybrid_astar_plan_with_cusps() {
    use courier_core::OccupancyGrid;
    use courier_core::maps::{FREE, OCCUPIED};
    use courier_planning::node::{Planner, PlannerParams};
    // A 6 m × 4 m bay: the goal faces the opposite way, so the plan has to turn around.
    let mut g = OccupancyGrid::filled(120, 80, 0.05, Pose2::identity(), FREE);
    for i in 0..120 {
        g.data[[0, i]] = OCCUPIED;
        g.data[[79, i]] = OCCUPIED;
    }
    for r in 0..80 {
        g.data[[r, 0]] = OCCUPIED;
        g.data[[r, 119]] = OCCUPIED;
    }
    let mut pp = PlannerParams::default();
    pp.hybrid.curve_table_extent = 2.0;
    let mut planner = Planner::new(pp).expect("params");
    planner.set_map(&g).expect("map");
    let start = Pose2::new(1.5, 2.0, 0.0);
    let goal = Pose2::new(3.0, 2.0, std::f64::consts::PI);
    let plan = planner
        .plan(Stamp::default(), &start, &goal, &[])
        .expect("a plan");
    let cusps = plan.forward.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(cusps >= 1, "expected a plan that reverses");
    for kind in [FollowerKind::PurePursuit, FollowerKind::Mppi] {
        let mut params = ControlParams {
            kind,
            ..Default::default()
        };
        params.pure_pursuit.allow_rotate_in_place = false;
        let mut c = Controller::new(params).expect("params");
        c.set_map(&g).expect("map");
        c.set_path(&plan.path, Some(&plan.forward)).expect("path");
        let mut pose = start;
        let mut reached = false;
        for k in 0..3000 {
            let out = c
                .compute(
                    Stamp::from_secs_f64(k as f64 * 0.05).expect("finite"),
                    &pose,
                    &[],
                )
                .expect("valid");
            pose = pose * out.twist.integrate(0.05);
            if out.goal_reached && out.twist.vx.abs() < 1e-9 {
                reached = true;
                break;
            }
        }
        assert!(
            reached,
            "{kind:?} did not finish a plan with {cusps} cusps; at {pose:?}"
        );
        assert!(
            (pose.translation() - goal.translation()).norm() < 0.2,
            "{kind:?} ended at {pose:?}"
        );
    }
}
