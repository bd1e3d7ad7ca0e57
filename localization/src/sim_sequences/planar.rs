//! A small indoor map (walls, a partition, asymmetric boxes) and a robot driving a loop in it
//! with a 2D laser and drifting wheel odometry, for map localization.

use super::gaussian;
use crate::amcl::{AmclError, AmclParams, MapLocalizer};
use courier_core::geometry::{Covariance3, Pose2, Twist2, normalize_angle};
use courier_core::maps::{FREE, OCCUPIED, OccupancyGrid};
use courier_core::msgs::{LaserScan, WheelOdometry};
use courier_core::time::Stamp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A 24 m × 16 m room at 5 cm: outer walls, a partition with a door, and boxes placed from
/// `seed` away from the driving loop.
pub fn world(seed: u64) -> OccupancyGrid {
    let res = 0.05;
    let (w, h) = (480usize, 320usize);
    let mut g = OccupancyGrid::filled(w, h, res, Pose2::identity(), FREE);
    let fill = |x0: f64, y0: f64, x1: f64, y1: f64, g: &mut OccupancyGrid| {
        let (c0, r0) = ((x0 / res) as usize, (y0 / res) as usize);
        let (c1, r1) = (
            ((x1 / res) as usize).min(w - 1),
            ((y1 / res) as usize).min(h - 1),
        );
        for r in r0..=r1 {
            for c in c0..=c1 {
                g.data[[r, c]] = OCCUPIED;
            }
        }
    };
    fill(0.0, 0.0, 24.0, 0.2, &mut g);
    fill(0.0, 15.8, 24.0, 16.0, &mut g);
    fill(0.0, 0.0, 0.2, 16.0, &mut g);
    fill(23.8, 0.0, 24.0, 16.0, &mut g);
    // A partition with a doorway, and an L-shaped wall: break the room's symmetry.
    fill(16.0, 0.0, 16.2, 6.0, &mut g);
    fill(16.0, 8.0, 16.2, 16.0, &mut g);
    fill(5.0, 6.0, 11.0, 6.2, &mut g);
    fill(5.0, 6.0, 5.2, 9.0, &mut g);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut placed = 0;
    while placed < 10 {
        let (cx, cy) = (rng.random_range(1.0..23.0), rng.random_range(1.0..15.0));
        let (hx, hy): (f64, f64) = (rng.random_range(0.2..0.8), rng.random_range(0.2..0.8));
        let near_loop = loop_waypoints().windows(2).any(|s| {
            let (a, b) = (s[0], s[1]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let t = (((cx - a.0) * dx + (cy - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            let (px, py) = (a.0 + t * dx, a.1 + t * dy);
            (cx - px).hypot(cy - py) < 1.3 + hx.max(hy)
        });
        if !near_loop {
            fill(cx - hx, cy - hy, cx + hx, cy + hy, &mut g);
            placed += 1;
        }
    }
    g
}

fn loop_waypoints() -> Vec<(f64, f64)> {
    vec![
        (3.0, 3.0),
        (13.0, 3.0),
        (13.0, 12.0),
        (20.0, 12.0),
        (20.0, 3.0),
        (18.0, 3.0),
        (18.0, 7.0),
        (13.0, 7.0),
        (13.0, 12.0),
        (3.0, 12.0),
        (3.0, 3.0),
    ]
}

/// Ray-casts a 360-beam scan (1° apart, 12 m range, 2 cm noise) from `pose` on the grid.
pub fn cast_scan(
    map: &OccupancyGrid,
    pose: &Pose2,
    stamp: Stamp,
    rng: &mut ChaCha8Rng,
) -> LaserScan {
    let n = 360;
    let max_range = 12.0f32;
    let step = map.resolution * 0.5;
    let (to_grid, inv_res) = (map.origin.0.inverse(), 1.0 / map.resolution);
    let mut ranges = Vec::with_capacity(n);
    for i in 0..n {
        let a = pose.theta() + (i as f64).to_radians() - std::f64::consts::PI;
        let (s, c) = a.sin_cos();
        let mut r = 0.0;
        let mut hit = f32::INFINITY;
        while r < f64::from(max_range) {
            let g = to_grid * nalgebra::Point2::new(pose.x() + r * c, pose.y() + r * s);
            let (col, row) = (
                (g.x * inv_res).floor() as i64,
                (g.y * inv_res).floor() as i64,
            );
            if map.get(col, row).is_none_or(|v| v >= 65) {
                hit = (r + gaussian(rng) * 0.02) as f32;
                break;
            }
            r += step;
        }
        ranges.push(hit);
    }
    LaserScan {
        stamp,
        frame_id: "laser".into(),
        angle_min: -std::f32::consts::PI,
        angle_increment: 1f32.to_radians(),
        range_min: 0.1,
        range_max: max_range,
        ranges,
        intensities: Vec::new(),
    }
}

/// One drive step: truth, odometry message and scan.
#[derive(Debug, Clone)]
pub struct PlanarStep {
    pub truth: Pose2,
    pub odom: WheelOdometry,
    pub scan: LaserScan,
}

/// The robot drives the loop at 0.8 m/s (10 Hz steps) for `steps` steps, turning toward the
/// next waypoint; its odometry drifts (3 % scale, heading noise).
pub fn drive(map: &OccupancyGrid, seed: u64, steps: usize) -> Vec<PlanarStep> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(1000));
    let wps = loop_waypoints();
    let mut truth = Pose2::new(wps[0].0, wps[0].1, 0.0);
    let mut odom = Pose2::new(0.0, 0.0, 0.0);
    let mut target = 1;
    let dt = 0.1;
    let mut out = Vec::with_capacity(steps);
    for k in 0..steps {
        let (tx, ty) = wps[target % wps.len()];
        if (tx - truth.x()).hypot(ty - truth.y()) < 0.3 {
            target = (target + 1) % wps.len();
            if target == 0 {
                target = 1;
            }
        }
        let (tx, ty) = wps[target % wps.len()];
        let err = normalize_angle((ty - truth.y()).atan2(tx - truth.x()) - truth.theta());
        let wz = (2.0 * err).clamp(-1.0, 1.0);
        let v = if err.abs() > 0.5 { 0.1 } else { 0.8 };
        let tw = Twist2::new(v, 0.0, wz);
        truth = truth * tw.integrate(dt);
        let meas = Twist2::new(
            v * 1.03 + gaussian(&mut rng) * 0.02,
            0.0,
            wz + gaussian(&mut rng) * 0.02,
        );
        odom = odom * meas.integrate(dt);
        let stamp = Stamp::ZERO + k as f64 * dt;
        out.push(PlanarStep {
            truth,
            odom: WheelOdometry {
                stamp,
                pose: odom,
                twist: meas,
                pose_covariance: Covariance3::identity() * 0.01,
                twist_covariance: Covariance3::identity() * 0.01,
            },
            scan: cast_scan(map, &truth, stamp, &mut rng),
        });
    }
    out
}

/// Result of a global localization run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AmclRunReport {
    /// Converged = error < 0.3 m and < 0.1 rad from some update on, to the end.
    pub converged: bool,
    /// Globally localised = at the right place at the end (< 1 m, < 0.2 rad), even if the
    /// tracking error exceeds the 0.3 m of `converged`.
    pub localized: bool,
    pub converged_after_s: Option<f64>,
    pub converged_after_updates: Option<u64>,
    pub final_error_m: f64,
    pub final_yaw_error_rad: f64,
    pub max_error_after_convergence_m: f64,
    pub initial_particles: usize,
    pub final_particles: usize,
    pub min_particles_seen: usize,
    /// Median particle count over the filter updates after convergence.
    pub median_particles_after_convergence: usize,
    pub updates: u64,
    pub injected: u64,
}

/// Global localization (uniform initial spread) over a 30 s drive on [`world`].
pub fn run_global_localization(seed: u64) -> Result<AmclRunReport, AmclError> {
    run_global_localization_with(seed, AmclParams::default())
}

/// [`run_global_localization`] with other filter parameters (`params.seed` is replaced).
pub fn run_global_localization_with(
    seed: u64,
    params: AmclParams,
) -> Result<AmclRunReport, AmclError> {
    let map = world(seed);
    let steps = drive(&map, seed, 300);
    let mut amcl = MapLocalizer::new(&map, AmclParams { seed, ..params })?;
    let initial_particles = amcl.particle_count();
    let mut since: Option<(f64, u64)> = None;
    let mut min_particles = usize::MAX;
    let (mut err, mut yerr) = (f64::NAN, f64::NAN);
    let mut max_after = 0.0f64;
    let mut errors_after: Vec<f64> = Vec::new();
    let mut particles_after: Vec<usize> = Vec::new();
    for s in &steps {
        amcl.on_odometry(&s.odom)?;
        let e = amcl.on_scan(&s.scan)?;
        err = (e.pose.x() - s.truth.x()).hypot(e.pose.y() - s.truth.y());
        yerr = normalize_angle(e.pose.theta() - s.truth.theta()).abs();
        min_particles = min_particles.min(e.particles);
        if err < 0.3 && yerr < 0.1 {
            if since.is_none() {
                since = Some((s.scan.stamp.secs_f64(), amcl.counters().updates));
                errors_after.clear();
                particles_after.clear();
            }
            errors_after.push(err);
            if e.updated {
                particles_after.push(e.particles);
            }
        } else {
            since = None;
        }
    }
    particles_after.sort_unstable();
    if since.is_some() {
        max_after = errors_after.iter().copied().fold(0.0, f64::max);
    }
    Ok(AmclRunReport {
        converged: since.is_some(),
        localized: err < 1.0 && yerr < 0.2,
        converged_after_s: since.map(|s| s.0),
        converged_after_updates: since.map(|s| s.1),
        final_error_m: err,
        final_yaw_error_rad: yerr,
        max_error_after_convergence_m: max_after,
        initial_particles,
        final_particles: amcl.particle_count(),
        min_particles_seen: min_particles,
        median_particles_after_convergence: particles_after
            .get(particles_after.len() / 2)
            .copied()
            .unwrap_or(0),
        updates: amcl.counters().updates,
        injected: amcl.counters().injected,
    })
}
