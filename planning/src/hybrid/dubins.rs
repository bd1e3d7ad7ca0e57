//! Dubins curves: shortest forward-only paths with a bounded turning radius (the six words
//! LSL, RSR, LSR, RSL, RLR, LRL), for vehicles that must not reverse.

use super::reeds_shepp::{CurvePath, Segment, Steer};
use std::f64::consts::TAU;

fn m(a: f64) -> f64 {
    a.rem_euclid(TAU)
}

/// Every feasible Dubins word from `start` to `goal` (x, y, θ), shortest first.
pub fn all_paths(start: [f64; 3], goal: [f64; 3], radius: f64) -> Vec<CurvePath> {
    let (dx, dy) = (goal[0] - start[0], goal[1] - start[1]);
    let d = (dx * dx + dy * dy).sqrt() / radius;
    let th = dy.atan2(dx);
    let a = m(start[2] - th);
    let b = m(goal[2] - th);
    let (sa, ca, sb, cb) = (a.sin(), a.cos(), b.sin(), b.cos());
    let cab = (a - b).cos();
    use Steer::{Left as L, Right as R, Straight as S};
    let mut out: Vec<([Steer; 3], [f64; 3])> = Vec::new();
    // LSL
    let p2 = 2.0 + d * d - 2.0 * cab + 2.0 * d * (sa - sb);
    if p2 >= 0.0 {
        let tmp = (cb - ca).atan2(d + sa - sb);
        out.push(([L, S, L], [m(tmp - a), p2.sqrt(), m(b - tmp)]));
    }
    // RSR
    let p2 = 2.0 + d * d - 2.0 * cab + 2.0 * d * (sb - sa);
    if p2 >= 0.0 {
        let tmp = (ca - cb).atan2(d - sa + sb);
        out.push(([R, S, R], [m(a - tmp), p2.sqrt(), m(tmp - b)]));
    }
    // LSR
    let p2 = -2.0 + d * d + 2.0 * cab + 2.0 * d * (sa + sb);
    if p2 >= 0.0 {
        let p = p2.sqrt();
        let tmp = (-ca - cb).atan2(d + sa + sb) - (-2.0f64).atan2(p);
        out.push(([L, S, R], [m(tmp - a), p, m(tmp - b)]));
    }
    // RSL
    let p2 = -2.0 + d * d + 2.0 * cab - 2.0 * d * (sa + sb);
    if p2 >= 0.0 {
        let p = p2.sqrt();
        let tmp = (ca + cb).atan2(d - sa - sb) - 2.0f64.atan2(p);
        out.push(([R, S, L], [m(a - tmp), p, m(b - tmp)]));
    }
    // RLR
    let tmp = (6.0 - d * d + 2.0 * cab + 2.0 * d * (sa - sb)) / 8.0;
    if tmp.abs() <= 1.0 {
        let p = m(TAU - tmp.acos());
        let t = m(a - (ca - cb).atan2(d - sa + sb) + p / 2.0);
        out.push(([R, L, R], [t, p, m(a - b - t + p)]));
    }
    // LRL
    let tmp = (6.0 - d * d + 2.0 * cab + 2.0 * d * (sb - sa)) / 8.0;
    if tmp.abs() <= 1.0 {
        let p = m(TAU - tmp.acos());
        let t = m(-a - (ca - cb).atan2(d + sa - sb) + p / 2.0);
        out.push(([L, R, L], [t, p, m(m(b) - a - t + p)]));
    }
    let mut paths: Vec<CurvePath> = out
        .into_iter()
        .map(|(st, l)| CurvePath {
            segments: st
                .iter()
                .zip(l)
                .map(|(&steer, len)| Segment {
                    steer,
                    length: len * radius,
                })
                .collect(),
            radius,
        })
        .collect();
    paths.sort_by(|a, b| a.length().total_cmp(&b.length()));
    paths
}

/// The shortest Dubins path.
pub fn shortest_path(start: [f64; 3], goal: [f64; 3], radius: f64) -> Option<CurvePath> {
    all_paths(start, goal, radius).into_iter().next()
}
