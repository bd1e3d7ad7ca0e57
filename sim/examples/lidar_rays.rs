//! Ray-casting throughput of the LiDAR models, printed as JSON lines.
//!
//! `cargo run --release -p courier-sim --example lidar_rays [sim_seconds] [vehicles]`
//!
//! The fleet case is the simulation goal: `vehicles` delivery vehicles (default 20) driving the
//! streets of the generated campus, each with a VLP-16 at 10 Hz, seeing each other and 60
//! pedestrians as dynamic objects, for `sim_seconds` (default 2). It reports rays per CPU second
//! of one thread (the thread's own CPU time from /proc, so other load on the machine does not
//! count) and the real-time factor that gives on one and on two cores.

use courier_core::Stamp;
use courier_core::geometry::Pose3;
use courier_sim::sensors::{
    BeamPattern, CampusParams, DynamicObjects, Lidar2d, Lidar2dParams, Lidar3d, Lidar3dParams,
    Scene3d, SceneObject, campus,
};
use std::time::Instant;

/// CPU time of the calling thread (s), from /proc/thread-self/schedstat (nanoseconds on CPU).
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

/// Vehicle `i`'s pose at time `t`: driving along a street of the campus at 5 m/s, 1.9 m up.
fn vehicle_pose(p: &CampusParams, i: usize, t: f64) -> Pose3 {
    let streets = p.blocks[0] + 1;
    let along_y = i.is_multiple_of(2);
    let street = p.street_center((i as u32 / 2) % streets) + if i % 4 < 2 { 3.0 } else { -3.0 };
    let len = p.blocks[1] as f64 * p.pitch();
    let s = (i as f64 * 37.0 + 5.0 * t) % len;
    if along_y {
        Pose3::from_xyz_rpy(street, s, 1.9, 0.0, 0.0, std::f64::consts::FRAC_PI_2)
    } else {
        Pose3::from_xyz_rpy(s, street, 1.9, 0.0, 0.0, 0.0)
    }
}

fn movers(p: &CampusParams, n: usize, t: f64) -> DynamicObjects {
    let mut objs: Vec<SceneObject> = (0..n)
        .map(|i| {
            let q = vehicle_pose(p, i, t);
            let v = q.translation();
            SceneObject::cuboid([v.x, v.y, 0.9], [2.5, 1.4, 1.8], q.rpy().2).with_tag(i as u32 + 1)
        })
        .collect();
    // Pedestrians walking along the pavements.
    for k in 0..60 {
        let street = p.street_center((k * 7) % (p.blocks[0] + 1)) + 6.0;
        let y = (k as f64 * 23.0 + 1.4 * t) % (p.blocks[1] as f64 * p.pitch());
        objs.push(SceneObject::cylinder([street, y], 1.75, 0.3).with_tag(1000 + k));
    }
    DynamicObjects::new(objs).expect("generated objects are finite and positive")
}

/// Scans vehicles `ids` for `sweeps` ticks; returns (rays, points, thread CPU s).
fn run_fleet(
    scene: &Scene3d,
    p: &CampusParams,
    n: usize,
    ids: &[usize],
    sweeps: usize,
) -> (u64, u64, f64) {
    let mut lidars: Vec<Lidar3d> = ids
        .iter()
        .map(|&i| {
            Lidar3d::new(Lidar3dParams::default(), i as u64).expect("default parameters are valid")
        })
        .collect();
    let mut cloud = Default::default();
    let (mut rays, mut points) = (0u64, 0u64);
    let c0 = thread_cpu_s();
    for k in 0..sweeps {
        let t = k as f64 * 0.1;
        let dynamic = movers(p, n, t);
        for (lidar, &i) in lidars.iter_mut().zip(ids) {
            let view = scene.with(&dynamic).ignoring(i as u32 + 1);
            let (a, b) = (vehicle_pose(p, i, t), vehicle_pose(p, i, t + 0.1));
            lidar
                .scan_into(
                    &view,
                    &a,
                    &b,
                    Stamp::from_secs_f64(t).unwrap_or_default(),
                    &mut cloud,
                )
                .expect("poses are finite");
            rays += lidar.rays_per_sweep() as u64;
            points += cloud.len() as u64;
        }
    }
    (rays, points, thread_cpu_s() - c0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sim_s: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2.0);
    let n: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    let sweeps = (sim_s * 10.0).round().max(1.0) as usize;

    let p = CampusParams::default();
    let t0 = Instant::now();
    let scene = campus(&p, 7).expect("default campus is valid");
    println!(
        "{{\"case\":\"campus_build\",\"objects\":{},\"wall_s\":{:.4}}}",
        scene.objects().len(),
        t0.elapsed().as_secs_f64()
    );

    // One thread, all vehicles.
    let ids: Vec<usize> = (0..n).collect();
    let w0 = Instant::now();
    let (rays, points, cpu) = run_fleet(&scene, &p, n, &ids, sweeps);
    let wall = w0.elapsed().as_secs_f64();
    println!(
        "{{\"case\":\"fleet_vlp16_1thread\",\"vehicles\":{n},\"sim_s\":{sim_s},\"rays\":{rays},\"points\":{points},\
         \"cpu_s\":{cpu:.3},\"wall_s\":{wall:.3},\"rays_per_cpu_s\":{:.0},\"realtime_factor_per_core\":{:.3}}}",
        rays as f64 / cpu,
        sim_s / cpu
    );

    // Two threads, vehicles split between them.
    let w0 = Instant::now();
    let halves: Vec<Vec<usize>> = vec![
        ids.iter().copied().step_by(2).collect(),
        ids.iter().copied().skip(1).step_by(2).collect(),
    ];
    let results: Vec<(u64, u64, f64)> = std::thread::scope(|s| {
        let hs: Vec<_> = halves
            .iter()
            .map(|h| s.spawn(|| run_fleet(&scene, &p, n, h, sweeps)))
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("scan thread panicked"))
            .collect()
    });
    let wall = w0.elapsed().as_secs_f64();
    let rays2: u64 = results.iter().map(|r| r.0).sum();
    let cpu2: f64 = results.iter().map(|r| r.2).sum();
    println!(
        "{{\"case\":\"fleet_vlp16_2threads\",\"vehicles\":{n},\"sim_s\":{sim_s},\"rays\":{rays2},\"cpu_s\":{cpu2:.3},\
         \"wall_s\":{wall:.3},\"rays_per_wall_s\":{:.0},\"realtime_factor_wall\":{:.3}}}",
        rays2 as f64 / wall,
        sim_s / wall
    );

    // One HDL-64E in the middle of a street.
    let mut hdl = Lidar3d::new(
        Lidar3dParams {
            pattern: BeamPattern::Hdl64e,
            range_max: 120.0,
            ..Default::default()
        },
        1,
    )
    .expect("valid parameters");
    let dynamic = movers(&p, n, 0.0);
    let view = scene.with(&dynamic);
    let c0 = thread_cpu_s();
    let (mut rays, mut points) = (0u64, 0u64);
    for k in 0..10 {
        let cloud = hdl
            .scan(&view, &vehicle_pose(&p, 0, k as f64 * 0.1), Stamp(0))
            .expect("finite pose");
        rays += hdl.rays_per_sweep() as u64;
        points += cloud.len() as u64;
    }
    let cpu = thread_cpu_s() - c0;
    println!(
        "{{\"case\":\"hdl64e\",\"sweeps\":10,\"rays\":{rays},\"points\":{points},\"cpu_s\":{cpu:.3},\"rays_per_cpu_s\":{:.0}}}",
        rays as f64 / cpu
    );

    // A 2D LiDAR at 0.7 m in the campus (mostly building walls and parked cars).
    let mut l2 = Lidar2d::new(
        Lidar2dParams {
            range_max: 30.0,
            ..Default::default()
        },
        1,
    )
    .expect("valid parameters");
    let c0 = thread_cpu_s();
    let mut rays = 0u64;
    for k in 0..400 {
        let mut q = vehicle_pose(&p, 3, k as f64 * 0.05);
        q.0.translation.z = 0.7;
        let scan = l2.scan(&view, &q, Stamp(0)).expect("finite pose");
        rays += scan.ranges.len() as u64;
    }
    let cpu = thread_cpu_s() - c0;
    println!(
        "{{\"case\":\"lidar2d\",\"scans\":400,\"rays\":{rays},\"cpu_s\":{cpu:.3},\"rays_per_cpu_s\":{:.0}}}",
        rays as f64 / cpu
    );
}
