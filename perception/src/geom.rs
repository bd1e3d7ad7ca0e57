//! Small numeric helpers shared by the modules: plane fitting by the closed-form eigen
//! decomposition of a 3×3 covariance, and a fast atan2 for binning.

use std::f32::consts::{FRAC_PI_2, PI};

/// atan2 to about 1e-4 rad, several times faster than `f32::atan2`; used where points are only
/// put into angular bins.
#[inline]
pub fn fast_atan2(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (mn, mx) = if ax < ay { (ax, ay) } else { (ay, ax) };
    if mx == 0.0 {
        return 0.0;
    }
    let a = mn / mx;
    let s = a * a;
    let mut r = ((-0.046_496_475 * s + 0.159_314_22) * s - 0.327_622_76) * s * a + a;
    if ay > ax {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = PI - r;
    }
    if y < 0.0 { -r } else { r }
}

/// Running sums of points for a least-squares plane (f64 so that one pass is exact enough for
/// coordinates of hundreds of metres).
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    pub n: f64,
    s: [f64; 3],
    ss: [f64; 6],
}

impl Moments {
    #[inline]
    pub fn add(&mut self, p: [f32; 3]) {
        let (x, y, z) = (p[0] as f64, p[1] as f64, p[2] as f64);
        self.n += 1.0;
        self.s[0] += x;
        self.s[1] += y;
        self.s[2] += z;
        self.ss[0] += x * x;
        self.ss[1] += x * y;
        self.ss[2] += x * z;
        self.ss[3] += y * y;
        self.ss[4] += y * z;
        self.ss[5] += z * z;
    }

    pub fn mean(&self) -> [f64; 3] {
        let n = self.n.max(1.0);
        [self.s[0] / n, self.s[1] / n, self.s[2] / n]
    }

    /// The plane through the mean with the normal of least variance (pointing up), or `None`
    /// for fewer than 3 points.
    pub fn plane(&self) -> Option<Plane> {
        if self.n < 3.0 {
            return None;
        }
        let n = self.n;
        let m = self.mean();
        let c = [
            self.ss[0] / n - m[0] * m[0],
            self.ss[1] / n - m[0] * m[1],
            self.ss[2] / n - m[0] * m[2],
            self.ss[3] / n - m[1] * m[1],
            self.ss[4] / n - m[1] * m[2],
            self.ss[5] / n - m[2] * m[2],
        ];
        let (ev, normal) = smallest_eigen(c);
        let normal = if normal[2] < 0.0 {
            [-normal[0], -normal[1], -normal[2]]
        } else {
            normal
        };
        let d = -(normal[0] * m[0] + normal[1] * m[1] + normal[2] * m[2]);
        Some(Plane {
            normal: [normal[0] as f32, normal[1] as f32, normal[2] as f32],
            d: d as f32,
            mean: [m[0] as f32, m[1] as f32, m[2] as f32],
            flatness: ev.max(0.0) as f32,
            count: n as u32,
        })
    }
}

/// A fitted plane `normal · p + d = 0` (normal unit, `normal.z ≥ 0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plane {
    pub normal: [f32; 3],
    pub d: f32,
    pub mean: [f32; 3],
    /// Variance of the points along the normal (m²): small for a flat patch.
    pub flatness: f32,
    pub count: u32,
}

impl Plane {
    /// Signed distance of `p` above the plane.
    #[inline]
    pub fn dist(&self, p: [f32; 3]) -> f32 {
        self.normal[0] * p[0] + self.normal[1] * p[1] + self.normal[2] * p[2] + self.d
    }
    /// Height of the plane at (x, y); `None` for a (near) vertical plane.
    pub fn z_at(&self, x: f32, y: f32) -> Option<f32> {
        (self.normal[2] > 0.1)
            .then(|| -(self.normal[0] * x + self.normal[1] * y + self.d) / self.normal[2])
    }
}

/// Smallest eigenvalue and its unit eigenvector of the symmetric 3×3 matrix given as its upper
/// triangle (c00, c01, c02, c11, c12, c22), by the trigonometric closed form.
pub fn smallest_eigen(c: [f64; 6]) -> (f64, [f64; 3]) {
    let [a00, a01, a02, a11, a12, a22] = c;
    let p1 = a01 * a01 + a02 * a02 + a12 * a12;
    let q = (a00 + a11 + a22) / 3.0;
    let p2 = (a00 - q).powi(2) + (a11 - q).powi(2) + (a22 - q).powi(2) + 2.0 * p1;
    let scale = (a00.abs() + a11.abs() + a22.abs()).max(1e-300);
    if p2 <= 1e-24 * scale * scale {
        // A multiple of the identity: every direction is an eigenvector; up is as good as any.
        return (q, [0.0, 0.0, 1.0]);
    }
    let p = (p2 / 6.0).sqrt();
    let b = [
        (a00 - q) / p,
        a01 / p,
        a02 / p,
        (a11 - q) / p,
        a12 / p,
        (a22 - q) / p,
    ];
    let det = b[0] * (b[3] * b[5] - b[4] * b[4]) - b[1] * (b[1] * b[5] - b[4] * b[2])
        + b[2] * (b[1] * b[4] - b[3] * b[2]);
    let r = (det / 2.0).clamp(-1.0, 1.0);
    let phi = r.acos() / 3.0;
    let lmin = q + 2.0 * p * (phi + 2.0 * std::f64::consts::PI / 3.0).cos();
    let r0 = [a00 - lmin, a01, a02];
    let r1 = [a01, a11 - lmin, a12];
    let r2 = [a02, a12, a22 - lmin];
    let cross = |u: [f64; 3], v: [f64; 3]| {
        [
            u[1] * v[2] - u[2] * v[1],
            u[2] * v[0] - u[0] * v[2],
            u[0] * v[1] - u[1] * v[0],
        ]
    };
    let norm2 = |v: [f64; 3]| v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    let mut best = cross(r0, r1);
    for cand in [cross(r0, r2), cross(r1, r2)] {
        if norm2(cand) > norm2(best) {
            best = cand;
        }
    }
    let nb = norm2(best).sqrt();
    if nb < 1e-300 || !nb.is_finite() {
        return (lmin, [0.0, 0.0, 1.0]);
    }
    (lmin, [best[0] / nb, best[1] / nb, best[2] / nb])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atan2_is_close() {
        for i in 0..1000 {
            let a = i as f32 * 0.0123 - 6.0;
            let (y, x) = (a.sin() * (1.0 + i as f32), a.cos() * (1.0 + i as f32));
            let err = (fast_atan2(y, x) - y.atan2(x)).abs();
            assert!(err < 2e-4, "{a}: {err}");
        }
        assert_eq!(fast_atan2(0.0, 0.0), 0.0);
    }

    #[test]
    fn plane_of_tilted_points() {
        let mut m = Moments::default();
        for i in 0..20 {
            for j in 0..20 {
                let (x, y) = (i as f32 * 0.1, j as f32 * 0.1);
                m.add([x, y, 0.1 * x - 0.2 * y + 1.0]);
            }
        }
        let p = m.plane().expect("400 points");
        assert!(p.dist([0.5, 0.5, 0.05 - 0.1 + 1.0]).abs() < 1e-4);
        assert!(p.dist([0.5, 0.5, 2.0]) > 0.9);
        assert!(p.flatness < 1e-8);
        let z = p.z_at(1.0, 1.0).expect("not vertical");
        assert!((z - 0.9).abs() < 1e-4);
    }
}
