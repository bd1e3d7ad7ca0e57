//! End-to-end tests on clouds generated here from a seed: a simulated spinning LiDAR over
//! sloped, stepped terrain with boxes standing on it.

use courier_core::Stamp;
use courier_core::msgs::PointCloud;
use courier_perception::ground::score;
use courier_perception::{GroundParams, GroundSegmenter, Perception, PerceptionParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const H: f32 = 1.8;

/// A simulated LiDAR: mounting height, beams (count, lowest and highest elevation in degrees),
/// azimuth steps over the horizontal field of view (degrees, centred on +x).
#[derive(Clone, Copy)]
struct Sensor {
    height: f32,
    beams: usize,
    el: (f32, f32),
    az_steps: usize,
    fov: f32,
}

const SPINNING: Sensor = Sensor {
    height: H,
    beams: 32,
    el: (-25.0, 5.0),
    az_steps: 1800,
    fov: 360.0,
};

/// Terrain height for a sensor at `h`: a 5 % slope up along x with a 0.15 m step up at x = 20.
fn terrain_at(x: f32, h: f32) -> f32 {
    -h + 0.05 * x + if x >= 20.0 { 0.15 } else { 0.0 }
}

/// Boxes standing on the terrain: (centre x, centre y, size x, size y, height).
fn boxes(shift: [f32; 2], h: f32) -> Vec<([f32; 3], [f32; 3])> {
    let list = [
        (8.0 + shift[0], 3.0 + shift[1], 4.5, 1.8, 1.5),
        (-10.0, -4.0, 4.5, 1.9, 1.6),
        (5.0, -5.0, 0.2, 0.2, 3.0),
        (12.0, -1.0, 0.5, 0.5, 1.7),
        (-6.0, 9.0, 0.6, 6.0, 1.0),
    ];
    list.iter()
        .map(|&(x, y, sx, sy, bh)| {
            let z0 = terrain_at(x - sx / 2.0, h).min(terrain_at(x + sx / 2.0, h));
            (
                [x - sx / 2.0, y - sy / 2.0, z0 - 0.2],
                [x + sx / 2.0, y + sy / 2.0, z0 + bh],
            )
        })
        .collect()
}

/// Ray-casts the spinning 32-beam LiDAR (−25°..+5°, 0.2° azimuth steps) at the origin.
fn lidar(seed: u64, shift: [f32; 2]) -> (PointCloud, Vec<bool>) {
    lidar_of(SPINNING, seed, shift)
}

/// Ray-casts `sensor` at the origin; returns the cloud and whether each point is ground. Rays
/// that hit nothing within 80 m give NaN points.
fn lidar_of(sensor: Sensor, seed: u64, shift: [f32; 2]) -> (PointCloud, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let h = sensor.height;
    let bx = boxes(shift, h);
    let mut cloud = PointCloud::default();
    let mut truth = Vec::new();
    for b in 0..sensor.beams {
        let el = (sensor.el.0 + (sensor.el.1 - sensor.el.0) * b as f32 / (sensor.beams - 1) as f32)
            .to_radians();
        for a in 0..sensor.az_steps {
            let az =
                (-sensor.fov / 2.0 + sensor.fov * a as f32 / sensor.az_steps as f32).to_radians();
            let d = [el.cos() * az.cos(), el.cos() * az.sin(), el.sin()];
            let mut best = (80.0f32, false);
            // Terrain pieces z = -H + 0.05 x (+0.15 beyond x = 20).
            for (off, beyond) in [(0.0, false), (0.15, true)] {
                let den = d[2] - 0.05 * d[0];
                if den.abs() > 1e-6 {
                    let t = (-h + off) / den;
                    let x = t * d[0];
                    if t > 0.0 && t < best.0 && (x >= 20.0) == beyond {
                        best = (t, true);
                    }
                }
            }
            for (lo, hi) in &bx {
                let (mut t0, mut t1) = (0.0f32, best.0);
                for k in 0..3 {
                    if d[k].abs() < 1e-9 {
                        if 0.0 < lo[k] || 0.0 > hi[k] {
                            t0 = f32::INFINITY;
                        }
                        continue;
                    }
                    let (ta, tb) = ((lo[k]) / d[k], (hi[k]) / d[k]);
                    t0 = t0.max(ta.min(tb));
                    t1 = t1.min(ta.max(tb));
                }
                if t0 <= t1 && t0 > 0.0 && t0 < best.0 {
                    best = (t0, false);
                }
            }
            if best.0 >= 80.0 {
                cloud.push(f32::NAN, f32::NAN, f32::NAN, 0.0);
                truth.push(false);
                continue;
            }
            let t = best.0 + rng.random_range(-0.02..0.02);
            cloud.push(t * d[0], t * d[1], t * d[2], 0.5);
            truth.push(best.1);
        }
    }
    (cloud, truth)
}

#[test]
fn ground_on_sloped_stepped_terrain_with_boxes() {
    let (cloud, truth) = lidar(1, [0.0, 0.0]);
    let labels: Vec<u16> = truth.iter().map(|&g| g as u16 + 1).collect();
    for height in [Some(H), None] {
        let mut seg = GroundSegmenter::new(GroundParams {
            sensor_height: height,
            ..GroundParams::default()
        })
        .unwrap();
        let mut mask = Vec::new();
        let stats = seg.segment_cloud(&cloud, &mut mask).unwrap();
        assert_eq!(mask.len(), cloud.len());
        assert!((stats.sensor_height - H).abs() < 0.15, "{stats:?}");
        let nan = cloud.x.iter().filter(|v| v.is_nan()).count();
        let s = score(&mask, &labels, |l| l == 2, |_| false).unwrap();
        assert!(
            s.f1 > 0.97 && s.recall > 0.95 && s.precision > 0.97,
            "{height:?}: {s:?}"
        );
        // NaN points are never ground.
        assert!(
            cloud
                .x
                .iter()
                .zip(&mask)
                .all(|(x, &m)| !(x.is_nan() && m == 1))
        );
        assert!(nan > 0);
    }
}

#[test]
fn ground_defaults_serve_other_sensors() {
    // A low-mounted 16-beam spinner (small delivery robot) and a forward-looking solid-state
    // sensor with a 70° field of view, both with the default parameters and no height given.
    let sensors = [
        Sensor {
            height: 0.6,
            beams: 16,
            el: (-15.0, 15.0),
            az_steps: 1800,
            fov: 360.0,
        },
        Sensor {
            height: 1.2,
            beams: 96,
            el: (-12.0, 12.0),
            az_steps: 600,
            fov: 70.0,
        },
    ];
    for sensor in sensors {
        let (cloud, truth) = lidar_of(sensor, 5, [0.0, 0.0]);
        let labels: Vec<u16> = truth.iter().map(|&g| g as u16 + 1).collect();
        let mut seg = GroundSegmenter::new(GroundParams::default()).unwrap();
        let mut mask = Vec::new();
        let stats = seg.segment_cloud(&cloud, &mut mask).unwrap();
        // The terrain rises 5 % along +x, where the solid-state sensor looks: its estimate is
        // the ground a few metres ahead.
        assert!(
            (stats.sensor_height - sensor.height).abs() < 0.3,
            "{stats:?}"
        );
        let s = score(&mask, &labels, |l| l == 2, |_| false).unwrap();
        assert!(
            s.f1 > 0.95 && s.precision > 0.95,
            "height {}: {s:?}",
            sensor.height
        );
    }
}

#[test]
fn perception_finds_and_tracks_a_moving_box() {
    let mut p = Perception::new(PerceptionParams::default()).unwrap();
    let mut seen = None;
    for k in 0..10 {
        let t = k as f32 * 0.1;
        // The car at (8, 3) drives +x at 5 m/s.
        let (mut cloud, _) = lidar(10 + k, [5.0 * t, 0.0]);
        cloud.stamp = Stamp::from_secs_f64(t as f64).unwrap();
        let out = p.on_cloud(&cloud, None).unwrap();
        assert_eq!(out.ground_mask.len(), cloud.len());
        let car = out
            .obstacles
            .iter()
            .find(|o| {
                (o.bbox.center[0] - 8.0 - 5.0 * t).abs() < 1.0
                    && (o.bbox.center[1] - 3.0).abs() < 1.0
            })
            .unwrap_or_else(|| panic!("no car at {t}: {:?}", out.obstacles));
        assert!(
            car.bbox.length > 3.5 && car.bbox.length < 5.0,
            "{:?}",
            car.bbox
        );
        assert!(
            car.bbox.heading.abs() < 0.1
                || (car.bbox.heading.abs() - std::f32::consts::FRAC_PI_2).abs() > 1.4
        );
        let pole = out
            .obstacles
            .iter()
            .filter(|o| {
                (o.bbox.center[0] - 5.0).abs() < 0.5 && (o.bbox.center[1] + 5.0).abs() < 0.5
            })
            .count();
        assert_eq!(pole, 1);
        if k >= 6 {
            let tr = out
                .tracks
                .iter()
                .find(|tr| (tr.position[0] - 8.0 - 5.0 * t as f64).abs() < 1.0)
                .expect("car tracked");
            assert!(
                (tr.velocity[0] - 5.0).abs() < 1.0 && tr.velocity[1].abs() < 0.7,
                "{tr:?}"
            );
            match seen {
                None => seen = Some(tr.id),
                Some(id) => assert_eq!(id, tr.id),
            }
            // Static things are tracked too, at rest.
            assert!(
                out.tracks
                    .iter()
                    .any(|tr| (tr.position[0] - 5.0).abs() < 0.5
                        && (tr.position[1] + 5.0).abs() < 0.5
                        && tr.velocity[0].hypot(tr.velocity[1]) < 0.5)
            );
        }
    }
}

#[test]
fn degenerate_clouds_do_not_panic() {
    let mut p = Perception::new(PerceptionParams::default()).unwrap();
    let mut stamp = 0;
    let mut run = |c: &mut PointCloud| {
        stamp += 100_000_000;
        c.stamp = Stamp(stamp);
        let n = c.len();
        let out = p.on_cloud(c, None).unwrap();
        assert_eq!(out.ground_mask.len(), n);
        out.ground_mask.iter().filter(|&&m| m == 1).count()
    };
    // Empty.
    assert_eq!(run(&mut PointCloud::default()), 0);
    // All NaN / inf / zero.
    let mut c = PointCloud::default();
    for i in 0..1000 {
        let v = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0][i % 4];
        c.push(v, if i % 3 == 0 { 1.0 } else { v }, v, v);
    }
    assert_eq!(run(&mut c), 0);
    // Two million points: ground plane, random clutter, NaNs and absurd coordinates.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut c = PointCloud::with_capacity(2_000_000);
    for i in 0..2_000_000 {
        let (x, y) = (
            rng.random_range(-60.0..60.0f32),
            rng.random_range(-60.0..60.0f32),
        );
        match i % 10 {
            0 => c.push(x, y, rng.random_range(-1.7..1.0), 1.0),
            1 if i % 1000 == 1 => c.push(f32::NAN, y, 0.0, 1.0),
            2 if i % 1000 == 2 => c.push(1e30, -1e30, 1e30, 1.0),
            _ => c.push(x, y, -1.73 + rng.random_range(-0.02..0.02), 1.0),
        }
    }
    let g = run(&mut c);
    assert!(g > 1_400_000, "{g}");
    // A cloud from the past is an error.
    let mut old = PointCloud::default();
    old.push(5.0, 0.0, -1.7, 1.0);
    old.stamp = Stamp(1);
    assert!(p.on_cloud(&old, None).is_err());
    // An inconsistent cloud is an error, not a panic.
    let mut bad = PointCloud::default();
    bad.push(1.0, 1.0, 1.0, 1.0);
    bad.z.clear();
    bad.stamp = Stamp(stamp + 1);
    assert!(p.on_cloud(&bad, None).is_err());
}
