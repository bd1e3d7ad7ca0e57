use super::*;
use crate::sim_sequences::planar::{cast_scan, drive, run_global_localization, world};

#[test]
fn kld_bound_grows_with_occupied_bins() {
    assert_eq!(kld_sample_count(1, 0.05, 2.33), 1);
    let a = kld_sample_count(10, 0.05, 2.33);
    let b = kld_sample_count(1000, 0.05, 2.33);
    assert!(a < 300 && b > 10_000, "{a} {b}");
}

#[test]
fn global_localization_converges_and_the_sample_count_shrinks() {
    let rep = run_global_localization(1).expect("valid map");
    eprintln!("{rep:?}");
    assert!(rep.converged, "{rep:?}");
    assert!(rep.converged_after_s.is_some_and(|t| t < 15.0), "{rep:?}");
    assert!(
        rep.final_error_m < 0.2 && rep.final_yaw_error_rad < 0.05,
        "{rep:?}"
    );
    assert_eq!(rep.initial_particles, 5000);
    assert!(rep.median_particles_after_convergence <= 1500, "{rep:?}");
    assert!(rep.min_particles_seen <= 1000, "{rep:?}");
}

#[test]
fn map_to_odom_composes_with_odometry_to_the_estimate() {
    let map = world(2);
    let steps = drive(&map, 2, 60);
    let s0 = &steps[0];
    let mut amcl = MapLocalizer::new(
        &map,
        AmclParams {
            initial_pose: Some(s0.truth),
            ..AmclParams::default()
        },
    )
    .expect("valid map");
    let mut last = None;
    for s in &steps {
        amcl.on_odometry(&s.odom).expect("finite");
        last = Some((amcl.on_scan(&s.scan).expect("valid"), s));
    }
    let (e, s) = last.expect("ran");
    let composed = e.map_to_odom * s.odom.pose;
    assert!((composed.x() - e.pose.x()).abs() < 1e-9 && (composed.y() - e.pose.y()).abs() < 1e-9);
    assert!(
        (e.pose.x() - s.truth.x()).hypot(e.pose.y() - s.truth.y()) < 0.2,
        "{e:?}"
    );
}

#[test]
fn bad_inputs_are_refused_and_nan_beams_counted() {
    let map = world(3);
    let mut amcl = MapLocalizer::new(
        &map,
        AmclParams {
            initial_pose: Some(Pose2::new(3.0, 3.0, 0.0)),
            ..AmclParams::default()
        },
    )
    .expect("valid map");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut scan = cast_scan(&map, &Pose2::new(3.0, 3.0, 0.0), Stamp::ZERO, &mut rng);
    for r in scan.ranges.iter_mut().step_by(6) {
        *r = f32::NAN;
    }
    let e = amcl.on_scan(&scan).expect("NaN beams are skipped");
    assert!(amcl.counters().beams_invalid >= 10);
    let mut bad = scan.clone();
    bad.angle_increment = f32::NAN;
    assert!(matches!(amcl.on_scan(&bad), Err(AmclError::BadScan { .. })));
    let odom = WheelOdometry {
        stamp: Stamp::ZERO,
        pose: Pose2::new(f64::NAN, 0.0, 0.0),
        twist: Default::default(),
        pose_covariance: Covariance3::identity(),
        twist_covariance: Covariance3::identity(),
    };
    assert!(matches!(
        amcl.on_odometry(&odom),
        Err(AmclError::NonFiniteOdometry { .. })
    ));
    assert_eq!(amcl.counters().rejected, 2);
    let e2 = amcl.on_scan(&scan).expect("valid");
    assert_eq!(e.pose, e2.pose);
    let empty = OccupancyGrid::filled(10, 10, 0.1, Pose2::identity(), 100);
    assert!(matches!(
        MapLocalizer::new(&empty, AmclParams::default()),
        Err(AmclError::NoFreeSpace)
    ));
}

#[test]
fn random_injection_recovers_from_a_kidnapping() {
    // Converge at the true start, then teleport the robot: scans jump 100 steps ahead along the
    // loop while the odometry continues smoothly. The likelihood drops, w_fast falls below
    // w_slow, random particles are injected and the filter re-localises.
    let map = world(4);
    let steps = drive(&map, 4, 400);
    let mut amcl = MapLocalizer::new(
        &map,
        AmclParams {
            initial_pose: Some(steps[0].truth),
            ..AmclParams::default()
        },
    )
    .expect("valid map");
    for s in &steps[..60] {
        amcl.on_odometry(&s.odom).expect("finite");
        amcl.on_scan(&s.scan).expect("valid");
    }
    assert_eq!(amcl.counters().injected, 0);
    let anchor = steps[59].odom.pose * steps[160].odom.pose.inverse();
    let mut recovered_at = None;
    for (k, s) in steps[160..].iter().enumerate() {
        let mut odom = s.odom.clone();
        odom.pose = anchor * s.odom.pose;
        odom.stamp = steps[60].odom.stamp + k as f64 * 0.1;
        let mut scan = s.scan.clone();
        scan.stamp = odom.stamp;
        amcl.on_odometry(&odom).expect("finite");
        let e = amcl.on_scan(&scan).expect("valid");
        let err = (e.pose.x() - s.truth.x()).hypot(e.pose.y() - s.truth.y());
        let yerr = normalize_angle(e.pose.theta() - s.truth.theta()).abs();
        if err < 0.3 && yerr < 0.1 {
            recovered_at.get_or_insert(k);
        } else {
            recovered_at = None;
        }
    }
    assert!(amcl.counters().injected > 0);
    assert!(
        recovered_at.is_some(),
        "not re-localised; {:?}",
        amcl.counters()
    );
}

#[test]
fn systematic_resampling_keeps_the_true_mode_among_look_alikes() {
    // Seed 20 converged 13 m and 90° away (a look-alike place of the room) with multinomial
    // resampling; low-variance resampling keeps the true hypothesis alive.
    let rep = run_global_localization(20).expect("valid map");
    assert!(rep.localized && rep.converged, "{rep:?}");
}

#[test]
fn inf_negative_and_too_long_beams_are_skipped_and_a_nan_initial_pose_refused() {
    let map = world(3);
    let mut amcl = MapLocalizer::new(
        &map,
        AmclParams {
            initial_pose: Some(Pose2::new(3.0, 3.0, 0.0)),
            ..AmclParams::default()
        },
    )
    .expect("valid map");
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut scan = cast_scan(&map, &Pose2::new(3.0, 3.0, 0.0), Stamp::ZERO, &mut rng);
    // 60 of 360 beams are used (every 6th): spoil exactly those, in three ways.
    for (k, r) in scan.ranges.iter_mut().step_by(6).enumerate() {
        *r = match k % 3 {
            0 => f32::INFINITY,
            1 => -1.0,
            _ => 1e6,
        };
    }
    let e = amcl.on_scan(&scan).expect("bad beams are skipped");
    assert_eq!(amcl.counters().beams_invalid, 60);
    assert!(e.pose.is_finite());
    let before = amcl.particle_count();
    assert!(matches!(
        amcl.set_initial_pose(&Pose2::new(f64::NAN, 0.0, 0.0), &Covariance3::identity()),
        Err(AmclError::BadInitialPose)
    ));
    let mut cov = Covariance3::identity();
    cov[(2, 2)] = f64::INFINITY;
    assert!(
        amcl.set_initial_pose(&Pose2::new(3.0, 3.0, 0.0), &cov)
            .is_err()
    );
    assert_eq!(amcl.particle_count(), before);
}
