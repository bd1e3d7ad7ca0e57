//! Oriented bounding boxes of clusters by L-shape fitting: the search-based rectangle fit with
//! the closeness criterion (Zhang et al., IV 2017). For each candidate heading in [0, 90°) the
//! points are projected on the two box axes and scored by how close they lie to the nearest
//! box edges; the best heading gives the rectangle. LiDAR sees one or two sides of a vehicle,
//! which this criterion fits better than a minimum-area rectangle or PCA.

use serde::{Deserialize, Serialize};
use std::f32::consts::{FRAC_PI_2, PI};

/// An oriented box on the ground plane with a vertical extent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OrientedBox {
    /// Centre (x, y) and the middle of the vertical extent (z), m.
    pub center: [f32; 3],
    /// Extent along the heading (the longer side), m.
    pub length: f32,
    /// Extent across the heading, m.
    pub width: f32,
    /// Vertical extent, m.
    pub height: f32,
    /// Yaw of the long side in (-π/2, π/2] (a box has no front), rad.
    pub heading: f32,
}

/// Angular step of the heading search: 90 steps of 1° over a quarter turn, searched
/// coarsely every `COARSE` steps and then finely around the best.
const STEPS: usize = 90;
const COARSE: usize = 5;
/// Most points scored per candidate heading.
const SEARCH_POINTS: usize = 256;

/// Coordinates of `p` relative to `origin` along the axes at heading θ (given as sin, cos).
fn on_axes(p: [f32; 3], origin: [f32; 2], sn: f32, cs: f32) -> [f32; 2] {
    let (x, y) = (p[0] - origin[0], p[1] - origin[1]);
    [x * cs + y * sn, -x * sn + y * cs]
}

/// Bounds `[lo1, hi1, lo2, hi2]` of the points along the two axes at heading θ.
fn axis_bounds(
    pts: impl Iterator<Item = [f32; 3]>,
    origin: [f32; 2],
    sn: f32,
    cs: f32,
) -> [f32; 4] {
    let mut b = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    for p in pts {
        let [c1, c2] = on_axes(p, origin, sn, cs);
        b = [b[0].min(c1), b[1].max(c1), b[2].min(c2), b[3].max(c2)];
    }
    b
}

/// Fits an oriented box to points (only x, y matter for the rectangle; z gives the height).
/// `None` for no finite points.
pub fn fit_l_shape(pts: impl Iterator<Item = [f32; 3]> + Clone) -> Option<OrientedBox> {
    let mut zlo = f32::INFINITY;
    let mut zhi = f32::NEG_INFINITY;
    let mut count = 0usize;
    let mut mean = [0f64; 2];
    for p in pts.clone().filter(|p| p.iter().all(|v| v.is_finite())) {
        zlo = zlo.min(p[2]);
        zhi = zhi.max(p[2]);
        mean[0] += p[0] as f64;
        mean[1] += p[1] as f64;
        count += 1;
    }
    if count == 0 {
        return None;
    }
    // Work relative to the mean for precision far from the origin.
    let (mx, my) = (
        (mean[0] / count as f64) as f32,
        (mean[1] / count as f64) as f32,
    );
    let finite = move |p: &[f32; 3]| p.iter().all(|v| v.is_finite());
    // The search scores a subsample of big clusters (the extents below use every point).
    let stride = count.div_ceil(SEARCH_POINTS);
    let closeness = |th: f32| {
        let sample = pts.clone().filter(finite).step_by(stride);
        let (sn, cs) = th.sin_cos();
        let [lo1, hi1, lo2, hi2] = axis_bounds(sample.clone(), [mx, my], sn, cs);
        let mut score = 0.0;
        for p in sample {
            let [c1, c2] = on_axes(p, [mx, my], sn, cs);
            let d1 = (c1 - lo1).min(hi1 - c1);
            let d2 = (c2 - lo2).min(hi2 - c2);
            score += 1.0 / d1.min(d2).max(D0);
        }
        score
    };
    const D0: f32 = 0.01;
    // Coarse search every COARSE steps, then every step around the best coarse heading.
    let step = FRAC_PI_2 / STEPS as f32;
    let mut best = (f32::NEG_INFINITY, 0.0f32);
    for s in (0..STEPS).step_by(COARSE) {
        let th = s as f32 * step;
        let sc = closeness(th);
        if sc > best.0 {
            best = (sc, th);
        }
    }
    let center = best.1;
    for k in 1..COARSE as i32 {
        for th in [center + k as f32 * step, center - k as f32 * step] {
            let sc = closeness(th);
            if sc > best.0 {
                best = (sc, th);
            }
        }
    }
    let th = best.1;
    let (sn, cs) = th.sin_cos();
    let [lo1, hi1, lo2, hi2] = axis_bounds(pts.filter(finite), [mx, my], sn, cs);
    let (e1, e2) = (hi1 - lo1, hi2 - lo2);
    let (m1, m2) = ((lo1 + hi1) / 2.0, (lo2 + hi2) / 2.0);
    let center = [
        mx + m1 * cs - m2 * sn,
        my + m1 * sn + m2 * cs,
        (zlo + zhi) / 2.0,
    ];
    let (length, width, mut heading) = if e1 >= e2 {
        (e1, e2, th)
    } else {
        (e2, e1, th + FRAC_PI_2)
    };
    while heading > FRAC_PI_2 {
        heading -= PI;
    }
    while heading <= -FRAC_PI_2 {
        heading += PI;
    }
    Some(OrientedBox {
        center,
        length,
        width,
        height: zhi - zlo,
        heading,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two visible sides of a `l`×`w` box at `c` with yaw `yaw`, as a LiDAR at the origin
    /// would see them (points on the two edges nearest the origin).
    fn l_shape(c: [f32; 2], l: f32, w: f32, yaw: f32) -> Vec<[f32; 3]> {
        let (s, co) = yaw.sin_cos();
        let corner = |a: f32, b: f32| [c[0] + a * co - b * s, c[1] + a * s + b * co];
        let mut edges = Vec::new();
        for (p, q) in [
            ((-l / 2.0, -w / 2.0), (l / 2.0, -w / 2.0)),
            ((l / 2.0, -w / 2.0), (l / 2.0, w / 2.0)),
            ((l / 2.0, w / 2.0), (-l / 2.0, w / 2.0)),
            ((-l / 2.0, w / 2.0), (-l / 2.0, -w / 2.0)),
        ] {
            let (a, b) = (corner(p.0, p.1), corner(q.0, q.1));
            let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
            // Keep edges facing the origin.
            let normal = [mid[0] - c[0], mid[1] - c[1]];
            if normal[0] * mid[0] + normal[1] * mid[1] < 0.0 {
                edges.push((a, b));
            }
        }
        let mut pts = Vec::new();
        for (a, b) in edges {
            for i in 0..=40 {
                let t = i as f32 / 40.0;
                for z in [0.2, 0.8, 1.4] {
                    pts.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), z]);
                }
            }
        }
        pts
    }

    #[test]
    fn fits_heading_and_size_of_an_l_shape() {
        for (yaw, c) in [
            (0.3f32, [10.0f32, 6.0]),
            (-1.1, [-6.0, 8.0]),
            (1.4, [5.0, -7.0]),
        ] {
            let pts = l_shape(c, 4.5, 1.8, yaw);
            let b = fit_l_shape(pts.iter().copied()).unwrap();
            let mut dyaw = (b.heading - yaw).rem_euclid(PI);
            if dyaw > PI / 2.0 {
                dyaw -= PI;
            }
            assert!(dyaw.abs() < 0.03, "yaw {yaw}: {b:?}");
            assert!(
                (b.length - 4.5).abs() < 0.1 && (b.width - 1.8).abs() < 0.1,
                "{b:?}"
            );
            assert!((b.center[0] - c[0]).abs() < 0.1 && (b.center[1] - c[1]).abs() < 0.1);
            assert!((b.height - 1.2).abs() < 1e-5);
        }
        assert!(fit_l_shape(std::iter::empty()).is_none());
        assert!(fit_l_shape([[f32::NAN, 0.0, 0.0]].into_iter()).is_none());
    }
}
