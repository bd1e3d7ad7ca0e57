use super::*;
use crate::sim_sequences::lidar::{ScanPattern, drift, generate};
use rand::SeedableRng;

fn coarse() -> ScanPattern {
    ScanPattern {
        azimuth_step_deg: 0.8,
        ..ScanPattern::default()
    }
}

#[test]
fn icp_recovers_a_known_rigid_transform() {
    let seq = generate(3, 1, 1.0, &coarse());
    let cloud = &seq.clouds[0];
    let pts: Vec<Vector3<f64>> = (0..cloud.len())
        .map(|i| {
            let p = cloud.point(i);
            Vector3::new(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]))
        })
        .filter(|v| v.norm() > 3.0)
        .collect();
    let mut map = VoxelMap::new(1.0, 20);
    map.add(pts.iter().copied());
    let truth = Isometry3::from_parts(
        Translation3::new(0.8, -0.4, 0.1),
        UnitQuaternion::from_euler_angles(0.01, -0.02, 0.1),
    );
    // Source = the same points seen from the moved sensor: truth · source = map points.
    let inv = truth.inverse();
    let source: Vec<Vector3<f64>> = pts
        .iter()
        .step_by(3)
        .map(|p| (inv * nalgebra::Point3::from(*p)).coords)
        .collect();
    let mut scratch = Vec::new();
    let r = register(
        &source,
        &map,
        &Isometry3::identity(),
        &IcpConfig {
            max_distance: 2.0,
            kernel: 0.5,
            max_iterations: 100,
            convergence: 1e-6,
        },
        &mut scratch,
    );
    let err = truth.inv_mul(&r.pose);
    assert!(err.translation.vector.norm() < 0.02, "{r:?}");
    assert!(err.rotation.angle() < 0.002, "{r:?}");
}

#[test]
fn odometry_drift_on_a_simulated_drive_is_small() {
    // At 0.8° azimuth steps the flat-ground rings are sparse enough that, from a moving start
    // with no velocity yet, ICP locks onto zero motion; 0.4° (≈ 57k points) is enough.
    let pattern = ScanPattern {
        azimuth_step_deg: 0.4,
        ..ScanPattern::default()
    };
    let seq = generate(11, 30, 1.0, &pattern);
    let mut odo = LidarOdometry::new(LidarOdometryParams::default());
    let est: Vec<Pose3> = seq
        .clouds
        .iter()
        .map(|c| odo.on_cloud(c).expect("valid cloud").pose)
        .collect();
    let d = drift(&seq.poses, &est);
    eprintln!("{d:?}");
    assert!(d.distance_m > 28.0);
    assert!(d.end_error_percent < 1.5, "{d:?}");
    assert!(d.mean_frame_rotation_error_deg < 0.2, "{d:?}");
}

#[test]
fn nan_points_are_skipped_and_bad_clouds_refused() {
    let seq = generate(5, 2, 1.0, &coarse());
    let mut odo = LidarOdometry::new(LidarOdometryParams::default());
    let mut c0 = seq.clouds[0].clone();
    c0.x[0] = f32::NAN;
    c0.z[1] = f32::INFINITY;
    odo.on_cloud(&c0).expect("NaN points are skipped");
    assert_eq!(odo.counters().points_skipped, 2);
    let before = odo.pose();
    let mut bad = seq.clouds[1].clone();
    bad.y.pop();
    assert!(matches!(
        odo.on_cloud(&bad),
        Err(LidarOdometryError::InconsistentCloud { .. })
    ));
    let mut empty = seq.clouds[1].clone();
    empty.clear();
    assert!(matches!(
        odo.on_cloud(&empty),
        Err(LidarOdometryError::TooFewPoints { .. })
    ));
    let mut old = seq.clouds[1].clone();
    old.stamp = Stamp::from_nanos(-1);
    assert!(matches!(
        odo.on_cloud(&old),
        Err(LidarOdometryError::OutOfOrder { .. })
    ));
    assert_eq!(odo.pose(), before);
    assert_eq!(odo.counters().frames_rejected, 3);
    let e = odo.on_cloud(&seq.clouds[1]).expect("valid");
    assert!((e.delta.translation().x - 1.0).abs() < 0.1, "{e:?}");
}

#[test]
fn nan_point_times_are_skipped_and_a_nan_motion_prior_ignored() {
    let seq = generate(5, 2, 1.0, &coarse());
    let mut odo = LidarOdometry::new(LidarOdometryParams::default());
    odo.on_cloud(&seq.clouds[0]).expect("valid");
    let mut prior = Pose3::default();
    prior.0.translation.vector.x = f64::NAN;
    odo.set_motion_prior(&prior);
    let mut c1 = seq.clouds[1].clone();
    let n = c1.len();
    c1.time = Some(vec![0.05; n]);
    if let Some(t) = c1.time.as_mut() {
        t[0] = f32::NAN;
        t[1] = f32::INFINITY;
    }
    let e = odo.on_cloud(&c1).expect("bad times are skipped");
    assert_eq!(odo.counters().points_skipped, 2);
    assert!(e.pose.translation().iter().all(|v| v.is_finite()));
}

#[test]
fn constant_velocity_deskewing_undoes_a_turning_sweep() {
    // Frame 0 is an instantaneous sweep; frame 1 is swept while moving 1 m and turning 0.15 rad
    // (a sharp turn at 10 m/s), with per-point times. Given that motion as the prior, the
    // deskewed registration must land on the mid-sweep pose; without deskewing it lands
    // farther away.
    let pattern = ScanPattern {
        azimuth_step_deg: 0.4,
        ..ScanPattern::default()
    };
    let seq = generate(17, 2, 1.0, &pattern);
    let start = seq.poses[0].0
        * Isometry3::from_parts(
            Translation3::new(1.0, 0.0, 0.0),
            UnitQuaternion::from_euler_angles(0.0, 0.0, 0.05),
        );
    let motion = Isometry3::from_parts(
        Translation3::new(1.0, 0.05, 0.0),
        UnitQuaternion::from_euler_angles(0.0, 0.0, 0.15),
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut swept = crate::sim_sequences::lidar::scan_moving(
        &seq.scene,
        &start,
        &motion,
        0.1,
        &pattern,
        Stamp::ZERO + 0.1,
        &mut rng,
    );
    swept.stamp = Stamp::ZERO + 0.1;
    let mid = start
        * Isometry3::from_parts(
            Translation3::from(motion.translation.vector * 0.5),
            UnitQuaternion::from_scaled_axis(motion.rotation.scaled_axis() * 0.5),
        );
    let truth = seq.poses[0].0.inv_mul(&mid);
    let run = |deskew: bool| {
        let mut odo = LidarOdometry::new(LidarOdometryParams {
            deskew,
            ..LidarOdometryParams::default()
        });
        odo.on_cloud(&seq.clouds[0]).expect("valid");
        odo.set_motion_prior(&Pose3(motion));
        let e = odo.on_cloud(&swept).expect("valid");
        let err = truth.inv_mul(&e.pose.0);
        (err.translation.vector.norm(), err.rotation.angle())
    };
    let (with, without) = (run(true), run(false));
    assert!(with.0 < 0.05 && with.1 < 0.003, "{with:?} vs {without:?}");
    assert!(
        with.0 + with.1 * 10.0 < without.0 + without.1 * 10.0,
        "{with:?} vs {without:?}"
    );
}

#[test]
fn a_motion_prior_avoids_locking_onto_zero_motion_from_a_moving_start() {
    // From a moving start (1 m per frame) with no prior, the flat-ground rings of the first
    // frames can pull ICP to zero motion; a wheel-odometry prior for the first frame avoids it.
    let pattern = ScanPattern {
        azimuth_step_deg: 0.4,
        ..ScanPattern::default()
    };
    let seq = generate(13, 12, 1.0, &pattern);
    let run = |prior: bool| {
        let mut odo = LidarOdometry::new(LidarOdometryParams::default());
        let est: Vec<Pose3> = seq
            .clouds
            .iter()
            .enumerate()
            .map(|(k, c)| {
                if prior && k == 1 {
                    odo.set_motion_prior(&seq.poses[0].between(&seq.poses[1]));
                }
                odo.on_cloud(c).expect("valid cloud").pose
            })
            .collect();
        drift(&seq.poses, &est)
    };
    let with = run(true);
    assert!(with.end_error_percent < 1.5, "{with:?}");
}

#[test]
fn start_up_without_a_prior_does_not_lock_onto_zero_motion() {
    // A moving start with sparse rings (0.8° azimuth steps) and no prior: the start-up
    // registration leaves the ground out.
    let seq = generate(11, 12, 1.0, &coarse());
    let run = |clearance: f64| {
        let mut odo = LidarOdometry::new(LidarOdometryParams {
            startup_ground_clearance: clearance,
            ..LidarOdometryParams::default()
        });
        let est: Vec<Pose3> = seq
            .clouds
            .iter()
            .map(|c| odo.on_cloud(c).expect("valid cloud").pose)
            .collect();
        (drift(&seq.poses, &est), est[1].translation().norm())
    };
    let (with, first) = run(0.5);
    assert!(with.end_error_percent < 1.5, "{with:?}");
    assert!(
        (first - 1.0).abs() < 0.1,
        "first motion {first} m (truth 1 m)"
    );
    // With the ground in the start-up registration the first motion collapses.
    let (without, first) = run(0.0);
    assert!(first < 0.5, "first motion {first} m; {without:?}");
}

#[test]
fn a_long_drive_keeps_the_pose_rigid_and_drift_small() {
    // Regression: the pose quaternion was never renormalised, and the constant-velocity
    // bookkeeping multiplied its norm error by 1 + √2 per frame, so every drive longer than
    // ~35 frames lost yaw and diverged. 60 frames at 0.8° azimuth steps (≈ 29k points).
    let seq = generate(11, 60, 1.0, &coarse());
    let mut odo = LidarOdometry::new(LidarOdometryParams::default());
    // Sparse rings lock a moving start onto zero motion without a prior (see the test below).
    odo.set_motion_prior(&Pose3(seq.poses[0].0.inv_mul(&seq.poses[1].0)));
    let mut est = Vec::new();
    for c in &seq.clouds {
        let e = odo.on_cloud(c).expect("every frame registers");
        let norm = e.pose.0.rotation.quaternion().norm();
        assert!(
            (norm - 1.0).abs() < 1e-9,
            "frame {}: |q| = {norm}",
            est.len()
        );
        est.push(e.pose);
    }
    let d = drift(&seq.poses, &est);
    assert!(d.end_error_percent < 2.0, "{d:?}");
    assert!(d.mean_frame_rotation_error_deg < 0.2, "{d:?}");
}
