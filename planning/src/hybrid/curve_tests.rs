//! Reeds-Shepp and Dubins curves against numerical integration of the car's kinematics.

use super::reeds_shepp::{CurvePath, Steer};
use super::{dubins, reeds_shepp};
use courier_core::geometry::normalize_angle;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Integrates x' = d·cosθ, y' = d·sinθ, θ' = d·κ with RK4 in small steps.
fn integrate(path: &CurvePath, start: [f64; 3]) -> [f64; 3] {
    let mut p = start;
    for seg in &path.segments {
        let k = match seg.steer {
            Steer::Left => 1.0 / path.radius,
            Steer::Right => -1.0 / path.radius,
            Steer::Straight => 0.0,
        };
        let n = ((seg.length.abs() / 1e-3).ceil() as usize).max(1);
        let h = seg.length / n as f64;
        let f = |q: [f64; 3]| [q[2].cos(), q[2].sin(), k];
        for _ in 0..n {
            let k1 = f(p);
            let k2 = f([
                p[0] + 0.5 * h * k1[0],
                p[1] + 0.5 * h * k1[1],
                p[2] + 0.5 * h * k1[2],
            ]);
            let k3 = f([
                p[0] + 0.5 * h * k2[0],
                p[1] + 0.5 * h * k2[1],
                p[2] + 0.5 * h * k2[2],
            ]);
            let k4 = f([p[0] + h * k3[0], p[1] + h * k3[1], p[2] + h * k3[2]]);
            for i in 0..3 {
                p[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
            }
        }
    }
    p
}

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    (a[0] - b[0]).abs() < tol
        && (a[1] - b[1]).abs() < tol
        && normalize_angle(a[2] - b[2]).abs() < tol
}

fn random_pose(rng: &mut ChaCha8Rng) -> [f64; 3] {
    [
        rng.random_range(-6.0..6.0),
        rng.random_range(-6.0..6.0),
        rng.random_range(-std::f64::consts::PI..std::f64::consts::PI),
    ]
}

#[test]
fn reeds_shepp_endpoints_match_integration() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut words_seen = std::collections::HashSet::new();
    for _ in 0..400 {
        let (s, g) = (random_pose(&mut rng), random_pose(&mut rng));
        let r = rng.random_range(0.5..2.0);
        let all = reeds_shepp::all_paths(s, g, r);
        assert!(!all.is_empty(), "no Reeds-Shepp word for {s:?} → {g:?}");
        for p in &all {
            let end = integrate(p, s);
            assert!(
                close(end, g, 1e-6),
                "word {:?} ends at {end:?}, want {g:?}",
                p.segments
            );
            let closed = p.pose_at(s, p.length());
            assert!(close(closed, g, 1e-9));
            words_seen.insert(
                p.segments
                    .iter()
                    .map(|x| (x.steer as u8, x.length >= 0.0))
                    .collect::<Vec<_>>(),
            );
        }
        let d = reeds_shepp::distance(s, g, r);
        assert!((d - all[0].length()).abs() < 1e-12);
    }
    // Most of the 48 words should show up over 400 random queries.
    assert!(
        words_seen.len() >= 40,
        "only {} words seen",
        words_seen.len()
    );
}

#[test]
fn dubins_endpoints_match_integration_and_bound_reeds_shepp() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..400 {
        let (s, g) = (random_pose(&mut rng), random_pose(&mut rng));
        let r = rng.random_range(0.5..2.0);
        let all = dubins::all_paths(s, g, r);
        assert!(!all.is_empty());
        for p in &all {
            assert!(p.segments.iter().all(|x| x.length >= 0.0));
            let end = integrate(p, s);
            assert!(
                close(end, g, 1e-6),
                "word {:?} ends at {end:?}, want {g:?}",
                p.segments
            );
        }
        let rs = reeds_shepp::distance(s, g, r);
        let du = all[0].length();
        let euclid = ((g[0] - s[0]).powi(2) + (g[1] - s[1]).powi(2)).sqrt();
        // Reversing can only help; nothing beats the straight line.
        assert!(rs <= du + 1e-9, "RS {rs} > Dubins {du}");
        assert!(rs >= euclid - 1e-9);
    }
}

#[test]
fn straight_ahead_is_a_straight_line() {
    let p = reeds_shepp::shortest_path([0.0, 0.0, 0.0], [3.0, 0.0, 0.0], 1.0).expect("a path");
    assert!((p.length() - 3.0).abs() < 1e-9);
    let b = reeds_shepp::shortest_path([0.0, 0.0, 0.0], [-2.0, 0.0, 0.0], 1.0).expect("a path");
    assert!((b.length() - 2.0).abs() < 1e-9, "backward straight: {b:?}");
}
