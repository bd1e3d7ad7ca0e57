//! Reeds-Shepp curves: shortest paths for a car that drives forward and backward with a bounded
//! turning radius. All 48 words of Reeds & Shepp (1990) come from nine base formulas (their
//! equations 8.1–8.11) under the time-flip (x, y, φ) → (−x, y, −φ), reflection
//! (x, y, φ) → (x, −y, −φ) and backwards (read the word in reverse) symmetries.

use std::f64::consts::{FRAC_PI_2, PI};

/// One piece of a curve: a left arc, a right arc or a straight segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Steer {
    Left,
    Straight,
    Right,
}

/// A segment with a signed length (in units of the turning radius for arcs: the turned angle);
/// negative length means driving backward.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub steer: Steer,
    pub length: f64,
}

/// A path of up to five segments, lengths in metres (already scaled by the radius).
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePath {
    pub segments: Vec<Segment>,
    pub radius: f64,
}

impl CurvePath {
    /// Total length in metres.
    pub fn length(&self) -> f64 {
        self.segments.iter().map(|s| s.length.abs()).sum()
    }

    /// The pose reached after driving `s` metres along the path from `start` (x, y, θ).
    pub fn pose_at(&self, start: [f64; 3], s: f64) -> [f64; 3] {
        let mut p = start;
        let mut left = s.max(0.0);
        for seg in &self.segments {
            let l = seg.length.abs();
            let d = l.min(left);
            p = advance(p, seg.steer, d * seg.length.signum(), self.radius);
            left -= d;
            if left <= 0.0 {
                break;
            }
        }
        p
    }

    /// Poses every `step` metres (and the end), each with its driving direction (true = forward).
    pub fn sample(&self, start: [f64; 3], step: f64) -> Vec<([f64; 3], bool)> {
        let mut out = vec![(start, self.segments.first().is_none_or(|s| s.length >= 0.0))];
        let mut p = start;
        for seg in &self.segments {
            let l = seg.length.abs();
            if l < 1e-12 {
                continue;
            }
            let n = (l / step).ceil().max(1.0) as usize;
            let fwd = seg.length >= 0.0;
            let base = p;
            for k in 1..=n {
                let d = l * k as f64 / n as f64;
                let q = advance(base, seg.steer, if fwd { d } else { -d }, self.radius);
                out.push((q, fwd));
                p = q;
            }
        }
        out
    }
}

/// Moves pose `p` by signed arc length `d` (metres) with steering `steer` on radius `r`.
pub fn advance(p: [f64; 3], steer: Steer, d: f64, r: f64) -> [f64; 3] {
    let [x, y, th] = p;
    match steer {
        Steer::Straight => [x + d * th.cos(), y + d * th.sin(), th],
        Steer::Left => {
            let a = d / r;
            [
                x + r * ((th + a).sin() - th.sin()),
                y + r * (th.cos() - (th + a).cos()),
                th + a,
            ]
        }
        Steer::Right => {
            let a = d / r;
            [
                x + r * (th.sin() - (th - a).sin()),
                y + r * ((th - a).cos() - th.cos()),
                th - a,
            ]
        }
    }
}

/// Wraps to [−π, π] (the base formulas test signs of angles in this range).
fn mod2pi(a: f64) -> f64 {
    let mut v = a % (2.0 * PI);
    if v < -PI {
        v += 2.0 * PI;
    } else if v > PI {
        v -= 2.0 * PI;
    }
    v
}

fn polar(x: f64, y: f64) -> (f64, f64) {
    ((x * x + y * y).sqrt(), y.atan2(x))
}

const EPS: f64 = 1e-10;

fn tau_omega(u: f64, v: f64, xi: f64, eta: f64, phi: f64) -> (f64, f64) {
    let delta = mod2pi(u - v);
    let a = u.sin() - delta.sin();
    let b = u.cos() - delta.cos() - 1.0;
    let t1 = (eta * a - xi * b).atan2(xi * a + eta * b);
    let t2 = 2.0 * (delta.cos() - v.cos() - u.cos()) + 3.0;
    let tau = if t2 < 0.0 {
        mod2pi(t1 + PI)
    } else {
        mod2pi(t1)
    };
    (tau, mod2pi(tau - u + v - phi))
}

// Base formulas: each returns segment lengths in unit-radius space for the word it names
// (p = forward, m = backward, subscript u = equal arcs).

/// 8.1: L+ S+ L+.
fn lp_sp_lp(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let (u, t) = polar(x - phi.sin(), y - 1.0 + phi.cos());
    if t >= -EPS {
        let v = mod2pi(phi - t);
        if v >= -EPS {
            return Some([t, u, v]);
        }
    }
    None
}

/// 8.2: L+ S+ R+.
fn lp_sp_rp(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let (u1, t1) = polar(x + phi.sin(), y - 1.0 - phi.cos());
    let u1 = u1 * u1;
    if u1 < 4.0 {
        return None;
    }
    let u = (u1 - 4.0).sqrt();
    let theta = 2.0f64.atan2(u);
    let t = mod2pi(t1 + theta);
    let v = mod2pi(t - phi);
    (t >= -EPS && v >= -EPS).then_some([t, u, v])
}

/// 8.3: L+ R− L.
fn lp_rm_l(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let (u1, theta) = polar(x - phi.sin(), y - 1.0 + phi.cos());
    if u1 > 4.0 {
        return None;
    }
    let u = -2.0 * (0.25 * u1).asin();
    let t = mod2pi(theta + 0.5 * u + PI);
    let v = mod2pi(phi - t + u);
    (t >= -EPS && u <= EPS).then_some([t, u, v])
}

/// 8.7: L+ R+u L−u R−.
fn lp_rup_lum_rm(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let xi = x + phi.sin();
    let eta = y - 1.0 - phi.cos();
    let rho = 0.25 * (2.0 + (xi * xi + eta * eta).sqrt());
    if rho > 1.0 {
        return None;
    }
    let u = rho.acos();
    let (t, v) = tau_omega(u, -u, xi, eta, phi);
    (t >= -EPS && v <= EPS).then_some([t, u, v])
}

/// 8.8: L+ R−u L−u R+.
fn lp_rum_lum_rp(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let xi = x + phi.sin();
    let eta = y - 1.0 - phi.cos();
    let rho = (20.0 - xi * xi - eta * eta) / 16.0;
    if !(0.0..=1.0).contains(&rho) {
        return None;
    }
    let u = -rho.acos();
    if u < -FRAC_PI_2 {
        return None;
    }
    let (t, v) = tau_omega(u, u, xi, eta, phi);
    (t >= -EPS && v >= -EPS).then_some([t, u, v])
}

/// 8.9: L+ R−(π/2) S− L−.
fn lp_rm_sm_lm(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let (rho, theta) = polar(x - phi.sin(), y - 1.0 + phi.cos());
    if rho < 2.0 {
        return None;
    }
    let r = (rho * rho - 4.0).sqrt();
    let u = 2.0 - r;
    let t = mod2pi(theta + r.atan2(-2.0));
    let v = mod2pi(phi - FRAC_PI_2 - t);
    (t >= -EPS && u <= EPS && v <= EPS).then_some([t, u, v])
}

/// 8.10: L+ R−(π/2) S− R−.
fn lp_rm_sm_rm(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let xi = x + phi.sin();
    let eta = y - 1.0 - phi.cos();
    let (rho, theta) = polar(-eta, xi);
    if rho < 2.0 {
        return None;
    }
    let t = theta;
    let u = 2.0 - rho;
    let v = mod2pi(t + FRAC_PI_2 - phi);
    (t >= -EPS && u <= EPS && v <= EPS).then_some([t, u, v])
}

/// 8.11: L+ R−(π/2) S− L−(π/2) R+.
fn lp_rm_slm_rp(x: f64, y: f64, phi: f64) -> Option<[f64; 3]> {
    let xi = x + phi.sin();
    let eta = y - 1.0 - phi.cos();
    let (rho, _) = polar(xi, eta);
    if rho < 2.0 {
        return None;
    }
    let u = 4.0 - (rho * rho - 4.0).sqrt();
    if u > EPS {
        return None;
    }
    let t = mod2pi(((4.0 - u) * xi - 2.0 * eta).atan2(-2.0 * xi + (u - 4.0) * eta));
    let v = mod2pi(t - phi);
    (t >= -EPS && v >= -EPS).then_some([t, u, v])
}

use Steer::{Left as L, Right as R, Straight as S};

/// Collects every candidate word for the unit-radius goal (x, y, φ).
fn candidates(x: f64, y: f64, phi: f64, out: &mut Vec<Vec<Segment>>) {
    let mut push = |steers: &[Steer], lengths: &[f64], reflect: bool| {
        out.push(
            steers
                .iter()
                .zip(lengths)
                .map(|(&s, &l)| Segment {
                    steer: match (s, reflect) {
                        (L, true) => R,
                        (R, true) => L,
                        (s, _) => s,
                    },
                    length: l,
                })
                .collect(),
        );
    };
    // The four symmetric variants of a base formula: (input transform, negate lengths, reflect).
    let variants = |x: f64, y: f64, phi: f64| {
        [
            (x, y, phi, false, false),
            (-x, y, -phi, true, false),
            (x, -y, -phi, false, true),
            (-x, -y, phi, true, true),
        ]
    };
    let neg = |l: [f64; 3], n: bool| if n { [-l[0], -l[1], -l[2]] } else { l };
    for (xx, yy, pp, n, r) in variants(x, y, phi) {
        // CSC
        if let Some(l) = lp_sp_lp(xx, yy, pp) {
            push(&[L, S, L], &neg(l, n), r);
        }
        if let Some(l) = lp_sp_rp(xx, yy, pp) {
            push(&[L, S, R], &neg(l, n), r);
        }
        // CCC
        if let Some(l) = lp_rm_l(xx, yy, pp) {
            push(&[L, R, L], &neg(l, n), r);
        }
        // CCCC
        if let Some([t, u, v]) = lp_rup_lum_rm(xx, yy, pp) {
            let l = [t, u, -u, v];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, R, L, R], &l, r);
        }
        if let Some([t, u, v]) = lp_rum_lum_rp(xx, yy, pp) {
            let l = [t, u, u, v];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, R, L, R], &l, r);
        }
        // CCSC
        if let Some([t, u, v]) = lp_rm_sm_lm(xx, yy, pp) {
            let l = [t, -FRAC_PI_2, u, v];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, R, S, L], &l, r);
        }
        if let Some([t, u, v]) = lp_rm_sm_rm(xx, yy, pp) {
            let l = [t, -FRAC_PI_2, u, v];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, R, S, R], &l, r);
        }
        // CCSCC
        if let Some([t, u, v]) = lp_rm_slm_rp(xx, yy, pp) {
            let l = [t, -FRAC_PI_2, u, -FRAC_PI_2, v];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, R, S, L, R], &l, r);
        }
    }
    // Backwards words: solve for the goal seen from the end, then read the word in reverse.
    let xb = x * phi.cos() + y * phi.sin();
    let yb = x * phi.sin() - y * phi.cos();
    for (xx, yy, pp, n, r) in variants(xb, yb, phi) {
        if let Some([t, u, v]) = lp_rm_l(xx, yy, pp) {
            let l = if n { [-v, -u, -t] } else { [v, u, t] };
            push(&[L, R, L], &l, r);
        }
        if let Some([t, u, v]) = lp_rm_sm_lm(xx, yy, pp) {
            let l = [v, u, -FRAC_PI_2, t];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[L, S, R, L], &l, r);
        }
        if let Some([t, u, v]) = lp_rm_sm_rm(xx, yy, pp) {
            let l = [v, u, -FRAC_PI_2, t];
            let l = if n { l.map(|a| -a) } else { l };
            push(&[R, S, R, L], &l, r);
        }
    }
}

/// Goal pose relative to the start, in unit-radius coordinates.
fn relative(start: [f64; 3], goal: [f64; 3], radius: f64) -> (f64, f64, f64) {
    let (dx, dy) = (goal[0] - start[0], goal[1] - start[1]);
    let (s, c) = start[2].sin_cos();
    (
        (c * dx + s * dy) / radius,
        (-s * dx + c * dy) / radius,
        goal[2] - start[2],
    )
}

/// Every Reeds-Shepp word that joins `start` to `goal` (x, y, θ) with turning radius `radius`,
/// shortest first.
pub fn all_paths(start: [f64; 3], goal: [f64; 3], radius: f64) -> Vec<CurvePath> {
    let (x, y, phi) = relative(start, goal, radius);
    let mut words = Vec::with_capacity(48);
    candidates(x, y, phi, &mut words);
    let mut paths: Vec<CurvePath> = words
        .into_iter()
        .map(|segs| CurvePath {
            segments: segs
                .into_iter()
                .map(|s| Segment {
                    steer: s.steer,
                    length: s.length * radius,
                })
                .collect(),
            radius,
        })
        .collect();
    paths.sort_by(|a, b| a.length().total_cmp(&b.length()));
    paths
}

/// The shortest Reeds-Shepp path, or `None` only for non-finite input.
pub fn shortest_path(start: [f64; 3], goal: [f64; 3], radius: f64) -> Option<CurvePath> {
    all_paths(start, goal, radius).into_iter().next()
}

/// Length of the shortest Reeds-Shepp path (metres); cheaper than building it.
pub fn distance(start: [f64; 3], goal: [f64; 3], radius: f64) -> f64 {
    let (x, y, phi) = relative(start, goal, radius);
    let mut words = Vec::with_capacity(48);
    candidates(x, y, phi, &mut words);
    words
        .iter()
        .map(|w| w.iter().map(|s| s.length.abs()).sum::<f64>())
        .fold(f64::INFINITY, f64::min)
        * radius
}
