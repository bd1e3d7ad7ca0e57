//! Multi-object tracking of obstacle centres on the ground plane: one Kalman filter per track
//! (constant velocity, or an extended filter with constant turn rate and velocity), global
//! nearest-neighbour data association by the Hungarian method (`pathfinding::kuhn_munkres`) on
//! Mahalanobis distances inside a gate, and track birth (tentative until confirmed by repeated
//! hits) and death (after consecutive misses). Velocities are what a planner needs for moving
//! people and vehicles.

use crate::boxes::OrientedBox;
use courier_core::Stamp;
use nalgebra::{Matrix2, SMatrix, SVector, Vector2};
use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// The motion model of the tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionModel {
    /// Constant velocity (linear Kalman filter on x, y, vx, vy).
    ConstantVelocity,
    /// Constant turn rate and velocity (extended Kalman filter on x, y, yaw, v, yaw rate).
    ConstantTurnRate,
}

/// Parameters of [`Tracker`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackerParams {
    /// Default constant velocity.
    pub model: MotionModel,
    /// Process noise: standard deviation of the acceleration (m/s²). Default 2.0.
    pub accel_noise: f64,
    /// Process noise of the turn-rate model: yaw acceleration (rad/s²). Default 1.0.
    pub yaw_accel_noise: f64,
    /// Standard deviation of a detected centre (m). Default 0.3.
    pub measurement_noise: f64,
    /// Largest distance between a prediction and its detection (m). Default 3.0.
    pub gate_distance: f64,
    /// Largest squared Mahalanobis distance (χ², 2 dof; 13.8 = 99.9 %). Default 13.8.
    pub gate_chi2: f64,
    /// Hits before a track is confirmed (reported). Default 3.
    pub confirm_hits: u32,
    /// Consecutive misses before a confirmed track dies (a tentative one dies at its first
    /// miss). Default 3.
    pub max_misses: u32,
    /// Initial velocity standard deviation of a new track (m/s). Default 5.0.
    pub initial_velocity_std: f64,
}

impl Default for TrackerParams {
    fn default() -> Self {
        Self {
            model: MotionModel::ConstantVelocity,
            accel_noise: 2.0,
            yaw_accel_noise: 1.0,
            measurement_noise: 0.3,
            gate_distance: 3.0,
            gate_chi2: 13.8,
            confirm_hits: 3,
            max_misses: 3,
            initial_velocity_std: 5.0,
        }
    }
}

/// One detection to track: a centre on the ground plane and, optionally, its box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub position: [f64; 2],
    pub bbox: Option<OrientedBox>,
}

/// A track as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    pub id: u64,
    /// Time of the last update (prediction or detection).
    pub stamp: Stamp,
    pub position: [f64; 2],
    pub velocity: [f64; 2],
    /// Yaw rate (rad/s); 0 under the constant-velocity model.
    pub yaw_rate: f64,
    /// Position covariance (m²), row-major 2×2.
    pub position_covariance: [f64; 4],
    /// Last box seen (in the frame of the detections), if any.
    pub bbox: Option<OrientedBox>,
    pub confirmed: bool,
    pub hits: u32,
    /// Consecutive misses.
    pub misses: u32,
    /// Time since birth (s).
    pub age: f64,
}

#[derive(Debug, Clone)]
enum Filter {
    Cv {
        x: SVector<f64, 4>,
        p: SMatrix<f64, 4, 4>,
    },
    Ctrv {
        x: SVector<f64, 5>,
        p: SMatrix<f64, 5, 5>,
    },
}

fn ctrv_step(x: &SVector<f64, 5>, dt: f64) -> SVector<f64, 5> {
    let (px, py, yaw, v, w) = (x[0], x[1], x[2], x[3], x[4]);
    let (nx, ny) = if w.abs() > 1e-4 {
        (
            px + v / w * ((yaw + w * dt).sin() - yaw.sin()),
            py + v / w * (yaw.cos() - (yaw + w * dt).cos()),
        )
    } else {
        (px + v * yaw.cos() * dt, py + v * yaw.sin() * dt)
    };
    SVector::<f64, 5>::new(nx, ny, yaw + w * dt, v, w)
}

fn h2<const N: usize>() -> SMatrix<f64, 2, N> {
    let mut h = SMatrix::<f64, 2, N>::zeros();
    h[(0, 0)] = 1.0;
    h[(1, 1)] = 1.0;
    h
}

/// Kalman update with a position measurement (Joseph form, which keeps `p` symmetric and
/// positive); returns false if the innovation covariance is singular.
fn update_position<const N: usize>(
    x: &mut SVector<f64, N>,
    p: &mut SMatrix<f64, N, N>,
    z: Vector2<f64>,
    r: Matrix2<f64>,
) -> bool {
    let h = h2::<N>();
    let s = h * *p * h.transpose() + r;
    let Some(si) = s.try_inverse() else {
        return false;
    };
    let k = *p * h.transpose() * si;
    *x += k * (z - h * *x);
    let ikh = SMatrix::<f64, N, N>::identity() - k * h;
    *p = ikh * *p * ikh.transpose() + k * r * k.transpose();
    true
}

impl Filter {
    fn new(model: MotionModel, z: [f64; 2], params: &TrackerParams) -> Self {
        let r2 = params.measurement_noise.powi(2);
        let v2 = params.initial_velocity_std.powi(2);
        match model {
            MotionModel::ConstantVelocity => Filter::Cv {
                x: SVector::<f64, 4>::new(z[0], z[1], 0.0, 0.0),
                p: SMatrix::<f64, 4, 4>::from_diagonal(&SVector::<f64, 4>::new(r2, r2, v2, v2)),
            },
            MotionModel::ConstantTurnRate => Filter::Ctrv {
                x: SVector::<f64, 5>::new(z[0], z[1], 0.0, 0.0, 0.0),
                p: SMatrix::<f64, 5, 5>::from_diagonal(&SVector::<f64, 5>::new(
                    r2,
                    r2,
                    std::f64::consts::PI.powi(2),
                    v2,
                    1.0,
                )),
            },
        }
    }

    fn predict(&mut self, dt: f64, params: &TrackerParams) {
        let qa = params.accel_noise.powi(2);
        match self {
            Filter::Cv { x, p } => {
                let mut f = SMatrix::<f64, 4, 4>::identity();
                f[(0, 2)] = dt;
                f[(1, 3)] = dt;
                let (t2, t3, t4) = (dt * dt, dt.powi(3) / 2.0, dt.powi(4) / 4.0);
                let mut q = SMatrix::<f64, 4, 4>::zeros();
                for a in 0..2 {
                    q[(a, a)] = t4 * qa;
                    q[(a, a + 2)] = t3 * qa;
                    q[(a + 2, a)] = t3 * qa;
                    q[(a + 2, a + 2)] = t2 * qa;
                }
                *x = f * *x;
                *p = f * *p * f.transpose() + q;
            }
            Filter::Ctrv { x, p } => {
                // Jacobian by central differences: exact enough and free of the w → 0 case.
                let mut f = SMatrix::<f64, 5, 5>::zeros();
                for j in 0..5 {
                    let e = 1e-6 * (1.0 + x[j].abs());
                    let (mut a, mut b) = (*x, *x);
                    a[j] += e;
                    b[j] -= e;
                    let col = (ctrv_step(&a, dt) - ctrv_step(&b, dt)) / (2.0 * e);
                    f.set_column(j, &col);
                }
                let (c, s) = (x[2].cos(), x[2].sin());
                let mut g = SMatrix::<f64, 5, 2>::zeros();
                g[(0, 0)] = dt * dt / 2.0 * c;
                g[(1, 0)] = dt * dt / 2.0 * s;
                g[(2, 1)] = dt * dt / 2.0;
                g[(3, 0)] = dt;
                g[(4, 1)] = dt;
                let qn = Matrix2::new(qa, 0.0, 0.0, params.yaw_accel_noise.powi(2));
                *x = ctrv_step(x, dt);
                *p = f * *p * f.transpose() + g * qn * g.transpose();
            }
        }
    }

    fn position(&self) -> Vector2<f64> {
        match self {
            Filter::Cv { x, .. } => Vector2::new(x[0], x[1]),
            Filter::Ctrv { x, .. } => Vector2::new(x[0], x[1]),
        }
    }

    fn position_cov(&self) -> Matrix2<f64> {
        match self {
            Filter::Cv { p, .. } => p.fixed_view::<2, 2>(0, 0).into_owned(),
            Filter::Ctrv { p, .. } => p.fixed_view::<2, 2>(0, 0).into_owned(),
        }
    }

    fn velocity(&self) -> (Vector2<f64>, f64) {
        match self {
            Filter::Cv { x, .. } => (Vector2::new(x[2], x[3]), 0.0),
            Filter::Ctrv { x, .. } => (Vector2::new(x[3] * x[2].cos(), x[3] * x[2].sin()), x[4]),
        }
    }

    fn update(&mut self, z: Vector2<f64>, r: Matrix2<f64>) {
        match self {
            Filter::Cv { x, p } => {
                update_position(x, p, z, r);
            }
            Filter::Ctrv { x, p } => {
                update_position(x, p, z, r);
            }
        }
    }
}

#[derive(Debug, Clone)]
struct TrackState {
    id: u64,
    filter: Filter,
    stamp: Stamp,
    born: Stamp,
    /// Last detected position, for starting the turn-rate model's heading.
    last_z: [f64; 2],
    bbox: Option<OrientedBox>,
    hits: u32,
    misses: u32,
    confirmed: bool,
}

/// The multi-object tracker node core: feed it the detections of each frame in time order.
#[derive(Debug, Clone)]
pub struct Tracker {
    params: TrackerParams,
    tracks: Vec<TrackState>,
    next_id: u64,
    last: Option<Stamp>,
}

impl Tracker {
    pub fn new(params: TrackerParams) -> crate::Result<Self> {
        let positive = [
            ("accel_noise", params.accel_noise),
            ("yaw_accel_noise", params.yaw_accel_noise),
            ("measurement_noise", params.measurement_noise),
            ("gate_distance", params.gate_distance),
            ("gate_chi2", params.gate_chi2),
            ("initial_velocity_std", params.initial_velocity_std),
        ];
        for (name, v) in positive {
            if !(v > 0.0 && v.is_finite()) {
                return Err(crate::PerceptionError::BadParameter {
                    name,
                    value: v.to_string(),
                    why: "must be positive and finite",
                });
            }
        }
        Ok(Self {
            params,
            tracks: Vec::new(),
            next_id: 1,
            last: None,
        })
    }

    /// Predicts every track to `stamp`, associates the detections, updates, and manages track
    /// birth and death. Detections with non-finite positions are ignored. A stamp before the
    /// previous one is an error and changes nothing.
    pub fn update(&mut self, stamp: Stamp, detections: &[Detection]) -> crate::Result<()> {
        if let Some(prev) = self.last
            && stamp < prev
        {
            return Err(crate::PerceptionError::TimeWentBackwards {
                what: "tracker input",
                stamp_ns: stamp.nanos(),
                previous_ns: prev.nanos(),
            });
        }
        self.last = Some(stamp);
        let p = self.params.clone();
        for t in &mut self.tracks {
            let dt = stamp.seconds_since(t.stamp);
            if dt > 0.0 {
                t.filter.predict(dt, &p);
            }
            t.stamp = stamp;
        }
        let dets: Vec<&Detection> = detections
            .iter()
            .filter(|d| d.position.iter().all(|v| v.is_finite()))
            .collect();
        let r = Matrix2::identity() * p.measurement_noise.powi(2);
        let assignment = self.associate(&dets, r);
        let mut det_used = vec![false; dets.len()];
        for (ti, t) in self.tracks.iter_mut().enumerate() {
            match assignment[ti] {
                Some(di) => {
                    det_used[di] = true;
                    let d = dets[di];
                    let z = Vector2::new(d.position[0], d.position[1]);
                    // The turn-rate model cannot learn a heading from a standing start: give
                    // it the first displacement.
                    if let Filter::Ctrv { x, .. } = &mut t.filter
                        && t.hits == 1
                    {
                        let dt = stamp.seconds_since(t.born);
                        let (dx, dy) = (z[0] - t.last_z[0], z[1] - t.last_z[1]);
                        if dt > 0.0 {
                            x[2] = dy.atan2(dx);
                            x[3] = (dx * dx + dy * dy).sqrt() / dt;
                        }
                    }
                    t.filter.update(z, r);
                    t.last_z = d.position;
                    t.bbox = d.bbox;
                    t.hits += 1;
                    t.misses = 0;
                    if t.hits >= p.confirm_hits {
                        t.confirmed = true;
                    }
                }
                None => t.misses += 1,
            }
        }
        self.tracks.retain(|t| {
            if t.confirmed {
                t.misses <= p.max_misses
            } else {
                t.misses == 0
            }
        });
        for (di, d) in dets.iter().enumerate() {
            if !det_used[di] {
                self.tracks.push(TrackState {
                    id: self.next_id,
                    filter: Filter::new(p.model, d.position, &p),
                    stamp,
                    born: stamp,
                    last_z: d.position,
                    bbox: d.bbox,
                    hits: 1,
                    misses: 0,
                    confirmed: p.confirm_hits <= 1,
                });
                self.next_id += 1;
            }
        }
        Ok(())
    }

    /// For each track, the index of its detection (Hungarian assignment maximising the total
    /// gate margin; pairs outside the gate are never matched).
    fn associate(&self, dets: &[&Detection], r: Matrix2<f64>) -> Vec<Option<usize>> {
        let (nt, nd) = (self.tracks.len(), dets.len());
        let mut out = vec![None; nt];
        if nt == 0 || nd == 0 {
            return out;
        }
        // Weight = gate margin in thousandths (≥ 1 inside the gate, 0 outside).
        let mut w = vec![0i64; nt * nd];
        for (ti, t) in self.tracks.iter().enumerate() {
            let s = t.filter.position_cov() + r;
            let Some(si) = s.try_inverse() else { continue };
            let pos = t.filter.position();
            for (di, d) in dets.iter().enumerate() {
                let y = Vector2::new(d.position[0], d.position[1]) - pos;
                let m2 = (y.transpose() * si * y)[0];
                if y.norm() <= self.params.gate_distance && m2 <= self.params.gate_chi2 {
                    w[ti * nd + di] = 1 + ((self.params.gate_chi2 - m2) * 1000.0) as i64;
                }
            }
        }
        // kuhn_munkres needs rows ≤ columns: put the smaller side on the rows.
        if nt <= nd {
            let Ok(m) = Matrix::from_vec(nt, nd, w.clone()) else {
                return out;
            };
            let (_, a) = kuhn_munkres(&m);
            for (ti, &di) in a.iter().enumerate() {
                if w[ti * nd + di] > 0 {
                    out[ti] = Some(di);
                }
            }
        } else {
            let wt: Vec<i64> = (0..nd * nt).map(|k| w[(k % nt) * nd + k / nt]).collect();
            let Ok(m) = Matrix::from_vec(nd, nt, wt) else {
                return out;
            };
            let (_, a) = kuhn_munkres(&m);
            for (di, &ti) in a.iter().enumerate() {
                if w[ti * nd + di] > 0 {
                    out[ti] = Some(di);
                }
            }
        }
        out
    }

    /// The confirmed tracks.
    pub fn tracks(&self) -> impl Iterator<Item = Track> + '_ {
        self.tracks.iter().filter(|t| t.confirmed).map(|t| {
            let pos = t.filter.position();
            let (v, w) = t.filter.velocity();
            let c = t.filter.position_cov();
            Track {
                id: t.id,
                stamp: t.stamp,
                position: [pos[0], pos[1]],
                velocity: [v[0], v[1]],
                yaw_rate: w,
                position_covariance: [c[(0, 0)], c[(0, 1)], c[(1, 0)], c[(1, 1)]],
                bbox: t.bbox,
                confirmed: t.confirmed,
                hits: t.hits,
                misses: t.misses,
                age: t.stamp.seconds_since(t.born),
            }
        })
    }

    /// Number of tracks, tentative ones included.
    pub fn len_all(&self) -> usize {
        self.tracks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn det(x: f64, y: f64) -> Detection {
        Detection {
            position: [x, y],
            bbox: None,
        }
    }

    #[test]
    fn crossing_targets_keep_ids_and_velocities() {
        for model in [MotionModel::ConstantVelocity, MotionModel::ConstantTurnRate] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let mut tr = Tracker::new(TrackerParams {
                model,
                ..TrackerParams::default()
            })
            .unwrap();
            // A walks +x at 1.5 m/s, B walks +y at 1.0 m/s; their paths cross at (0, 0) at t = 4 s.
            let mut ids = None;
            for k in 0..=80 {
                let t = k as f64 * 0.1;
                let a = [-6.0 + 1.5 * t, 0.0];
                let b = [0.0, -4.0 + 1.0 * t];
                let mut n = || rng.random_range(-0.05..0.05);
                let mut dets = vec![det(a[0] + n(), a[1] + n()), det(b[0] + n(), b[1] + n())];
                if k % 2 == 1 {
                    dets.reverse();
                }
                tr.update(Stamp::from_secs_f64(t).unwrap(), &dets).unwrap();
                let tracks: Vec<Track> = tr.tracks().collect();
                if k < 2 {
                    assert!(tracks.is_empty(), "tentative until 3 hits");
                    continue;
                }
                assert_eq!(tracks.len(), 2, "{model:?} at {t}");
                let near = |p: [f64; 2]| {
                    tracks
                        .iter()
                        .min_by(|x, y| {
                            let dx = (x.position[0] - p[0]).hypot(x.position[1] - p[1]);
                            let dy = (y.position[0] - p[0]).hypot(y.position[1] - p[1]);
                            dx.total_cmp(&dy)
                        })
                        .unwrap()
                        .clone()
                };
                let (ta, tb) = (near(a), near(b));
                if (a[0] - b[0]).hypot(a[1] - b[1]) > 0.5 {
                    match ids {
                        None => ids = Some((ta.id, tb.id)),
                        Some(i) => assert_eq!(i, (ta.id, tb.id), "{model:?}: ids swapped at {t}"),
                    }
                }
                if k > 30 && (a[0] - b[0]).hypot(a[1] - b[1]) > 0.5 {
                    assert!(
                        (ta.velocity[0] - 1.5).abs() < 0.3 && ta.velocity[1].abs() < 0.3,
                        "{model:?} {ta:?}"
                    );
                    assert!(
                        (tb.velocity[1] - 1.0).abs() < 0.3 && tb.velocity[0].abs() < 0.3,
                        "{model:?} {tb:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn turn_rate_model_follows_a_circle() {
        // 2 m/s on a circle of radius 5 m: yaw rate 0.4 rad/s.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut tr = Tracker::new(TrackerParams {
            model: MotionModel::ConstantTurnRate,
            ..TrackerParams::default()
        })
        .unwrap();
        for k in 0..=100 {
            let t = k as f64 * 0.1;
            let a = 0.4 * t;
            let (x, y) = (5.0 * a.sin(), 5.0 - 5.0 * a.cos());
            let mut n = || rng.random_range(-0.03..0.03);
            tr.update(Stamp::from_secs_f64(t).unwrap(), &[det(x + n(), y + n())])
                .unwrap();
        }
        let t: Vec<Track> = tr.tracks().collect();
        assert_eq!(t.len(), 1);
        let a = 0.4 * 10.0f64;
        let v = [2.0 * a.cos(), 2.0 * a.sin()];
        assert!((t[0].yaw_rate - 0.4).abs() < 0.1, "{:?}", t[0]);
        assert!(
            (t[0].velocity[0] - v[0]).abs() < 0.3 && (t[0].velocity[1] - v[1]).abs() < 0.3,
            "{:?}",
            t[0]
        );
    }

    #[test]
    fn births_deaths_and_time_order() {
        let mut tr = Tracker::new(TrackerParams::default()).unwrap();
        let s = |t: f64| Stamp::from_secs_f64(t).unwrap();
        for k in 0..3 {
            tr.update(s(k as f64 * 0.1), &[det(5.0, 5.0), det(f64::NAN, 0.0)])
                .unwrap();
        }
        assert_eq!(tr.tracks().count(), 1);
        // A far-away detection is a new (tentative) track, not a jump of the old one.
        tr.update(s(0.3), &[det(20.0, 5.0)]).unwrap();
        assert_eq!(tr.len_all(), 2);
        assert_eq!(tr.tracks().next().unwrap().misses, 1);
        for k in 4..8 {
            tr.update(s(k as f64 * 0.1), &[]).unwrap();
        }
        assert_eq!(tr.len_all(), 0, "confirmed track dies after 4 misses");
        let e = tr.update(s(0.1), &[]).unwrap_err();
        assert!(matches!(
            e,
            crate::PerceptionError::TimeWentBackwards { .. }
        ));
        assert!(
            Tracker::new(TrackerParams {
                gate_chi2: f64::NAN,
                ..TrackerParams::default()
            })
            .is_err()
        );
    }

    #[test]
    fn hungarian_prefers_the_globally_best_assignment() {
        // Tracks at x = 0 and 1, detections at 0.6 and 1.6: the closest pair (track 1, 0.6)
        // taken greedily would leave track 0 with 1.6; the optimum is 0→0.6 and 1→1.6.
        let mut tr = Tracker::new(TrackerParams {
            confirm_hits: 1,
            ..TrackerParams::default()
        })
        .unwrap();
        let s = |t: f64| Stamp::from_secs_f64(t).unwrap();
        tr.update(s(0.0), &[det(0.0, 0.0), det(1.0, 0.0)]).unwrap();
        let ids: Vec<u64> = tr.tracks().map(|t| t.id).collect();
        tr.update(s(0.1), &[det(1.6, 0.0), det(0.6, 0.0)]).unwrap();
        let tracks: Vec<Track> = tr.tracks().collect();
        assert_eq!(tracks.len(), 2);
        let t0 = tracks.iter().find(|t| t.id == ids[0]).unwrap();
        let t1 = tracks.iter().find(|t| t.id == ids[1]).unwrap();
        assert!(t0.position[0] > 0.3 && t0.position[0] < 0.7, "{t0:?}");
        assert!(t1.position[0] > 1.3 && t1.position[0] < 1.7, "{t1:?}");
    }
}
