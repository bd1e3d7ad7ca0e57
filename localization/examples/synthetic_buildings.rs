//! Checks the 2D SLAM defaults on synthetic buildings other than Intel: a long corridor ring, a
//! big open hall with few features, and a loop of rooms. Each is ray-cast from a seeded ground
//! truth (181 beams over 180°, 1 cm range noise), with drifting wheel odometry, run through
//! `Slam2d` with default parameters. Prints one line per building: absolute trajectory error
//! (RMS and max, after anchoring at the first pose), the error between the ends of the two
//! laps, loop closures, and thread-independent wall time.
//!
//!     cargo run --release -p courier-localization --example synthetic_buildings

use courier_core::geometry::Pose2;
use courier_core::msgs::LaserScan;
use courier_core::time::Stamp;
use courier_localization::slam2d::{Slam2d, Slam2dParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

type Wall = [f64; 4];
/// A building: name, walls, and the closed polyline the robot drives.
type Building = (&'static str, Vec<Wall>, Vec<(f64, f64)>);

fn rect(w: &mut Vec<Wall>, x0: f64, y0: f64, x1: f64, y1: f64) {
    w.push([x0, y0, x1, y0]);
    w.push([x1, y0, x1, y1]);
    w.push([x1, y1, x0, y1]);
    w.push([x0, y1, x0, y0]);
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(1e-12..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

fn raycast(walls: &[Wall], pose: &Pose2, rng: &mut ChaCha8Rng, stamp: Stamp) -> LaserScan {
    let inc = PI / 180.0;
    let ranges = (0..181)
        .map(|i| {
            let a = pose.theta() - PI / 2.0 + f64::from(i) * inc;
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
            if best < 50.0 {
                (best + 0.01 * gauss(rng)) as f32
            } else {
                81.9 // SICK LMS max-range reading (no return), as in CARMEN logs
            }
        })
        .collect();
    LaserScan {
        stamp,
        frame_id: "laser".into(),
        angle_min: (-PI / 2.0) as f32,
        angle_increment: inc as f32,
        range_min: 0.0,
        range_max: 81.0,
        ranges,
        intensities: vec![],
    }
}

/// Two laps along the closed polyline `wps`: 0.05 m steps on straights, 3° turns in place at
/// the corners (a robot at 0.5 m/s, 10 Hz scans).
fn path(wps: &[(f64, f64)], laps: usize) -> Vec<Pose2> {
    let mut out: Vec<Pose2> = vec![];
    let n = wps.len();
    for _ in 0..laps {
        for i in 0..n {
            let (a, b) = (wps[i], wps[(i + 1) % n]);
            let th = (b.1 - a.1).atan2(b.0 - a.0);
            if let Some(last) = out.last().copied() {
                let mut cur = last.theta();
                loop {
                    let d = courier_core::geometry::normalize_angle(th - cur);
                    if d.abs() < 0.06 {
                        break;
                    }
                    cur += 0.05 * d.signum();
                    out.push(Pose2::new(last.x(), last.y(), cur));
                }
            }
            let len = (b.0 - a.0).hypot(b.1 - a.1);
            let steps = (len / 0.05).round() as usize;
            for k in 0..steps {
                let f = k as f64 / steps as f64;
                out.push(Pose2::new(a.0 + f * (b.0 - a.0), a.1 + f * (b.1 - a.1), th));
            }
        }
    }
    out
}

fn odometry(truth: &[Pose2], rng: &mut ChaCha8Rng) -> Vec<Pose2> {
    let mut odo = vec![truth[0]];
    for w in truth.windows(2) {
        let d = w[0].between(&w[1]);
        let noisy = Pose2::new(
            d.x() * (1.03 + 0.02 * gauss(rng)),
            d.y() + 0.002 * gauss(rng),
            d.theta() * 1.02 + 0.0005 + 0.003 * gauss(rng),
        );
        let last = *odo.last().expect("starts non-empty");
        odo.push(last * noisy);
    }
    odo
}

fn buildings() -> Vec<Building> {
    let mut out = vec![];
    // 1. A corridor ring 2 m wide around a 36 × 16 m block, a few door recesses.
    let mut w = vec![];
    rect(&mut w, 0.0, 0.0, 40.0, 20.0);
    rect(&mut w, 2.0, 2.0, 38.0, 18.0);
    for x in [9.0, 23.0, 31.0] {
        rect(&mut w, x, -0.6, x + 1.0, 0.0);
    }
    for y in [7.0, 13.0] {
        rect(&mut w, 40.0, y, 40.6, y + 1.0);
    }
    out.push((
        "corridor ring 40x20 m",
        w,
        vec![(1.0, 1.0), (39.0, 1.0), (39.0, 19.0), (1.0, 19.0)],
    ));
    // 2. An open hall 30 × 30 m with four pillars, driven around a 16 m square.
    let mut w = vec![];
    rect(&mut w, 0.0, 0.0, 30.0, 30.0);
    for (x, y) in [(10.0, 10.0), (20.0, 10.0), (20.0, 20.0), (10.0, 20.0)] {
        rect(&mut w, x - 0.3, y - 0.3, x + 0.3, y + 0.3);
    }
    out.push((
        "open hall 30x30 m, 4 pillars",
        w,
        vec![(7.0, 7.0), (23.0, 7.0), (23.0, 23.0), (7.0, 23.0)],
    ));
    // 3. A loop through rooms: four 8 × 8 m rooms around a courtyard, doors between them.
    let mut w = vec![];
    rect(&mut w, 0.0, 0.0, 20.0, 20.0);
    rect(&mut w, 8.0, 8.0, 12.0, 12.0);
    // Partitions with 1.2 m doors.
    w.push([10.0, 0.0, 10.0, 3.4]);
    w.push([10.0, 4.6, 10.0, 8.0]);
    w.push([10.0, 12.0, 10.0, 15.4]);
    w.push([10.0, 16.6, 10.0, 20.0]);
    w.push([0.0, 10.0, 3.4, 10.0]);
    w.push([4.6, 10.0, 8.0, 10.0]);
    w.push([12.0, 10.0, 15.4, 10.0]);
    w.push([16.6, 10.0, 20.0, 10.0]);
    rect(&mut w, 2.0, 6.0, 3.0, 7.0);
    rect(&mut w, 15.0, 2.0, 16.5, 2.8);
    rect(&mut w, 16.0, 15.0, 17.0, 17.5);
    out.push((
        "loop of 4 rooms 20x20 m",
        w,
        vec![(4.0, 4.0), (16.0, 4.0), (16.0, 16.0), (4.0, 16.0)],
    ));
    out
}

fn main() {
    for (seed, (name, walls, wps)) in buildings().into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed as u64 + 1);
        let truth = path(&wps, 2);
        let odo = odometry(&truth, &mut rng);
        let mut slam = Slam2d::new(Slam2dParams::default()).expect("default parameters are valid");
        let t0 = std::time::Instant::now();
        for (k, (t, o)) in truth.iter().zip(&odo).enumerate() {
            let scan = raycast(
                &walls,
                t,
                &mut rng,
                Stamp::from_nanos(k as i64 * 100_000_000),
            );
            slam.on_scan(&scan, Some(*o)).expect("valid scan");
        }
        slam.finish().expect("optimises");
        let wall = t0.elapsed().as_secs_f64();
        let est: Vec<Pose2> = slam
            .trajectory()
            .iter()
            .map(|(_, p)| truth[0] * *p)
            .collect();
        // ATE after the best rigid 2D alignment (Horn), so a small heading error at the
        // start is not counted over the whole building.
        let ate = |poses: &[Pose2]| {
            let n = poses.len() as f64;
            let (mut ax, mut ay, mut bx, mut by) = (0.0, 0.0, 0.0, 0.0);
            for (a, b) in poses.iter().zip(&truth) {
                (ax, ay, bx, by) = (
                    ax + a.x() / n,
                    ay + a.y() / n,
                    bx + b.x() / n,
                    by + b.y() / n,
                );
            }
            let (mut cross, mut dot) = (0.0, 0.0);
            for (a, b) in poses.iter().zip(&truth) {
                let (p, q) = ((a.x() - ax, a.y() - ay), (b.x() - bx, b.y() - by));
                cross += p.0 * q.1 - p.1 * q.0;
                dot += p.0 * q.0 + p.1 * q.1;
            }
            let (s, c) = cross.atan2(dot).sin_cos();
            let e: Vec<f64> = poses
                .iter()
                .zip(&truth)
                .map(|(a, b)| {
                    let (px, py) = (a.x() - ax, a.y() - ay);
                    let (x, y) = (c * px - s * py + bx, s * px + c * py + by);
                    (x - b.x()).hypot(y - b.y())
                })
                .collect();
            let rms = (e.iter().map(|v| v * v).sum::<f64>() / e.len() as f64).sqrt();
            (rms, e.iter().copied().fold(0.0, f64::max))
        };
        let (rms, max) = ate(&est);
        let (orms, omax) = ate(&odo);
        let n = truth.len() / 2;
        let lap = est[n - 1].between(&est[2 * n - 1]);
        let lap_true = truth[n - 1].between(&truth[2 * n - 1]);
        let lap_err = (lap.x() - lap_true.x()).hypot(lap.y() - lap_true.y());
        let s = slam.stats();
        println!(
            "{name}: {} scans, {:.0} m; SLAM ATE rms {rms:.3} m max {max:.3} m (odometry rms {orms:.2} max {omax:.2}); lap-end mismatch {lap_err:.3} m; loop closures {}; optimisations {}; wall {wall:.1} s",
            truth.len(),
            truth.len() as f64 * 0.05,
            s.loop_closures,
            s.optimizations
        );
    }
}
