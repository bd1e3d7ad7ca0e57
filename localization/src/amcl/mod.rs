//! Localization on a known map: adaptive Monte Carlo localization (the AMCL class, as in
//! Nav2): a particle filter with the odometry motion model, the likelihood-field beam model,
//! KLD-adaptive sample counts (Fox 2003), augmented MCL recovery by random injection
//! (w_slow / w_fast, Thrun et al. "Probabilistic Robotics" §8.3.5), and global localization
//! from a uniform spread over free space. Its output includes the `map → odom` transform.

mod field;

pub use field::LikelihoodField;

use courier_core::geometry::{Covariance3, Pose2, normalize_angle};
use courier_core::maps::OccupancyGrid;
use courier_core::msgs::{LaserScan, WheelOdometry};
use courier_core::time::Stamp;
use nalgebra::{Isometry2, Point2, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Errors of the map localizer. The filter state is untouched when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmclError {
    #[error("map has no free cell to place particles in")]
    NoFreeSpace,
    #[error("map resolution {0} is not a positive finite number")]
    BadMap(f64),
    #[error("odometry at {stamp}: non-finite pose")]
    NonFiniteOdometry { stamp: Stamp },
    #[error("odometry at {stamp} is older than the previous input at {previous}")]
    OutOfOrder { stamp: Stamp, previous: Stamp },
    #[error("scan at {stamp}: {what}")]
    BadScan { stamp: Stamp, what: &'static str },
    #[error("initial pose: non-finite pose or covariance")]
    BadInitialPose,
}

/// Parameters of [`MapLocalizer`] (names and defaults follow Nav2's AMCL where they exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AmclParams {
    /// Particle count bounds. Defaults 500, 5000.
    pub min_particles: usize,
    pub max_particles: usize,
    /// KLD bound on the error between the sampled and true posterior, and the upper standard
    /// normal quantile of the confidence. Defaults 0.05, 2.33 (99 %).
    pub kld_err: f64,
    pub kld_z: f64,
    /// KLD histogram bin sizes: metres and radians. Defaults 0.5, 10°.
    pub bin_xy: f64,
    pub bin_theta: f64,
    /// Odometry noise (Thrun's α1..α4): rotation from rotation, rotation from translation,
    /// translation from translation, translation from rotation. Defaults 0.2 each.
    pub alpha1: f64,
    pub alpha2: f64,
    pub alpha3: f64,
    pub alpha4: f64,
    /// Likelihood-field model: mixture weights, hit std-dev (m), distance cap (m). Defaults
    /// 0.5, 0.5, 0.2, 2.0.
    pub z_hit: f64,
    pub z_rand: f64,
    pub sigma_hit: f64,
    pub laser_likelihood_max_dist: f64,
    /// Beams used per scan (evenly subsampled). Default 60.
    pub max_beams: usize,
    /// How the per-beam likelihoods p combine into a particle weight. 0: Nav2's 1 + Σ p³.
    /// k > 0: the tempered product exp(k Σ ln p) (k < 1 discounts the beams' correlation).
    /// Default 0.
    pub beam_product_exponent: f64,
    /// Augmented-MCL averaging rates; 0 disables injection. Defaults 0.001, 0.1.
    pub recovery_alpha_slow: f64,
    pub recovery_alpha_fast: f64,
    /// Filter updates only after this much motion (m, rad). Defaults 0.2, π/6.
    pub update_min_d: f64,
    pub update_min_a: f64,
    /// Resample every n-th filter update. Default 1.
    pub resample_interval: usize,
    /// Pose of the laser in base_link. Default identity.
    pub laser_pose: Pose2,
    /// Initial pose and its (x, y, θ) variances; `None`: global localization. Default `None`.
    pub initial_pose: Option<Pose2>,
    pub initial_cov: [f64; 3],
    /// Seed of the filter's random numbers. Default 0.
    pub seed: u64,
}

impl Default for AmclParams {
    fn default() -> Self {
        Self {
            min_particles: 500,
            max_particles: 5000,
            kld_err: 0.05,
            kld_z: 2.33,
            bin_xy: 0.5,
            bin_theta: 10f64.to_radians(),
            alpha1: 0.2,
            alpha2: 0.2,
            alpha3: 0.2,
            alpha4: 0.2,
            z_hit: 0.5,
            z_rand: 0.5,
            sigma_hit: 0.2,
            laser_likelihood_max_dist: 2.0,
            max_beams: 60,
            beam_product_exponent: 0.0,
            recovery_alpha_slow: 0.001,
            recovery_alpha_fast: 0.1,
            update_min_d: 0.2,
            update_min_a: std::f64::consts::FRAC_PI_6,
            resample_interval: 1,
            laser_pose: Pose2::identity(),
            initial_pose: None,
            initial_cov: [0.25, 0.25, 0.07],
            seed: 0,
        }
    }
}

/// The localizer's output for one scan.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEstimate {
    pub stamp: Stamp,
    /// Pose of base_link in `map`: the mean of the heaviest particle cluster.
    pub pose: Pose2,
    /// Covariance of that cluster, (x, y, θ).
    pub covariance: Covariance3,
    /// The transform to publish, map → odom = pose · odom_pose⁻¹.
    pub map_to_odom: Pose2,
    /// Share of the total weight in the chosen cluster (1 = unimodal).
    pub cluster_weight: f64,
    pub particles: usize,
    /// True when this scan ran a filter update (false: not enough motion since the last).
    pub updated: bool,
}

/// Counters, for monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AmclCounters {
    pub scans: u64,
    pub updates: u64,
    /// Beams skipped as non-finite or out of range.
    pub beams_invalid: u64,
    /// Inputs refused with an error.
    pub rejected: u64,
    /// Particles injected by recovery.
    pub injected: u64,
}

#[derive(Debug, Clone, Copy)]
struct Particle {
    x: f64,
    y: f64,
    th: f64,
    w: f64,
}

/// The AMCL node core.
#[derive(Debug, Clone)]
pub struct MapLocalizer {
    params: AmclParams,
    field: LikelihoodField,
    /// map → grid cell frame.
    map_to_grid: Isometry2<f64>,
    inv_res: f64,
    free_cells: Vec<(f64, f64)>,
    cell: f64,
    particles: Vec<Particle>,
    rng: ChaCha8Rng,
    w_slow: f64,
    w_fast: f64,
    /// Latest odometry pose (odom → base_link) and the one at the last filter update.
    odom: Option<(Stamp, Pose2)>,
    last_update_odom: Option<Pose2>,
    updates_since_resample: usize,
    last_estimate: Option<(Pose2, Covariance3, f64)>,
    counters: AmclCounters,
    // Scratch reused per update.
    beams: Vec<(f64, f64)>,
    cumulative: Vec<f64>,
}

/// KLD-sampling bound: samples needed so that, with probability 1-δ (quantile z), the K-L
/// divergence between the sampled and the true posterior over `k` bins stays below ε.
pub fn kld_sample_count(k: usize, err: f64, z: f64) -> usize {
    if k <= 1 {
        return 1;
    }
    let km1 = (k - 1) as f64;
    let a = 2.0 / (9.0 * km1);
    let b = 1.0 - a + a.sqrt() * z;
    (km1 / (2.0 * err) * b * b * b).ceil() as usize
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    crate::sim_sequences::gaussian(rng)
}

impl MapLocalizer {
    /// Builds the likelihood field of `map` and places the initial particles (around
    /// `params.initial_pose`, or uniformly over free space).
    pub fn new(map: &OccupancyGrid, params: AmclParams) -> Result<Self, AmclError> {
        if !(map.resolution.is_finite() && map.resolution > 0.0) {
            return Err(AmclError::BadMap(map.resolution));
        }
        let field = LikelihoodField::new(map, params.laser_likelihood_max_dist);
        let mut free_cells = Vec::new();
        for ((row, col), &v) in map.data.indexed_iter() {
            if (0..field::OCCUPIED_THRESHOLD).contains(&v) {
                free_cells.push(map.cell_to_world(col as i64, row as i64));
            }
        }
        if free_cells.is_empty() {
            return Err(AmclError::NoFreeSpace);
        }
        let mut me = Self {
            field,
            map_to_grid: map.origin.0.inverse(),
            inv_res: 1.0 / map.resolution,
            free_cells,
            cell: map.resolution,
            particles: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(params.seed),
            w_slow: 0.0,
            w_fast: 0.0,
            odom: None,
            last_update_odom: None,
            updates_since_resample: 0,
            last_estimate: None,
            counters: AmclCounters::default(),
            beams: Vec::new(),
            cumulative: Vec::new(),
            params,
        };
        match me.params.initial_pose {
            Some(p) => {
                let c = me.params.initial_cov;
                me.set_initial_pose(
                    &p,
                    &Covariance3::from_diagonal(&Vector3::new(c[0], c[1], c[2])),
                )?
            }
            None => me.global_localization(),
        }
        Ok(me)
    }

    pub fn params(&self) -> &AmclParams {
        &self.params
    }
    pub fn counters(&self) -> AmclCounters {
        self.counters
    }
    pub fn particle_count(&self) -> usize {
        self.particles.len()
    }

    /// Spreads `max_particles` uniformly over the free cells (unknown position).
    pub fn global_localization(&mut self) {
        let n = self.params.max_particles.max(1);
        self.particles.clear();
        for _ in 0..n {
            let p = self.random_free_pose();
            self.particles.push(p);
        }
        self.normalize();
        self.last_estimate = None;
        self.last_update_odom = None;
    }

    /// Resets the particles to a Gaussian around `pose` (e.g. an operator's initial pose).
    pub fn set_initial_pose(&mut self, pose: &Pose2, cov: &Covariance3) -> Result<(), AmclError> {
        if !pose.is_finite() || cov.iter().any(|v| !v.is_finite() || *v < -1e-12) {
            return Err(AmclError::BadInitialPose);
        }
        let n = self.params.max_particles.max(1);
        let s = [cov[(0, 0)].sqrt(), cov[(1, 1)].sqrt(), cov[(2, 2)].sqrt()];
        self.particles.clear();
        for _ in 0..n {
            let p = Particle {
                x: pose.x() + gaussian(&mut self.rng) * s[0],
                y: pose.y() + gaussian(&mut self.rng) * s[1],
                th: normalize_angle(pose.theta() + gaussian(&mut self.rng) * s[2]),
                w: 1.0,
            };
            self.particles.push(p);
        }
        self.normalize();
        self.last_estimate = None;
        self.last_update_odom = None;
        Ok(())
    }

    fn random_free_pose(&mut self) -> Particle {
        let (cx, cy) = self.free_cells[self.rng.random_range(0..self.free_cells.len())];
        let h = 0.5 * self.cell;
        Particle {
            x: cx + self.rng.random_range(-h..h),
            y: cy + self.rng.random_range(-h..h),
            th: self
                .rng
                .random_range(-std::f64::consts::PI..std::f64::consts::PI),
            w: 1.0,
        }
    }

    fn normalize(&mut self) {
        let total: f64 = self.particles.iter().map(|p| p.w).sum();
        let n = self.particles.len() as f64;
        for p in &mut self.particles {
            p.w = if total > 0.0 && total.is_finite() {
                p.w / total
            } else {
                1.0 / n
            };
        }
    }

    /// Wheel odometry (odom → base_link). Only the pose is used.
    pub fn on_odometry(&mut self, odom: &WheelOdometry) -> Result<(), AmclError> {
        if !odom.pose.is_finite() {
            self.counters.rejected += 1;
            return Err(AmclError::NonFiniteOdometry { stamp: odom.stamp });
        }
        if let Some((prev, _)) = self.odom.filter(|(s, _)| odom.stamp < *s) {
            self.counters.rejected += 1;
            return Err(AmclError::OutOfOrder {
                stamp: odom.stamp,
                previous: prev,
            });
        }
        self.odom = Some((odom.stamp, odom.pose));
        Ok(())
    }

    /// A laser scan, taken at the latest odometry pose. Runs a filter update when the robot has
    /// moved enough since the last one (and on the first scan); returns the estimate.
    pub fn on_scan(&mut self, scan: &LaserScan) -> Result<MapEstimate, AmclError> {
        let bad = |what| AmclError::BadScan {
            stamp: scan.stamp,
            what,
        };
        let err = if !(scan.angle_min.is_finite() && scan.angle_increment.is_finite()) {
            Some(bad("non-finite angle_min or angle_increment"))
        } else if !(scan.range_max.is_finite() && scan.range_max > 0.0) {
            Some(bad("range_max is not a positive finite number"))
        } else if scan.ranges.is_empty() {
            Some(bad("no beams"))
        } else {
            None
        };
        if let Some(e) = err {
            self.counters.rejected += 1;
            return Err(e);
        }
        self.counters.scans += 1;
        let odom_pose = self.odom.map_or(Pose2::identity(), |(_, p)| p);
        let moved = match self.last_update_odom {
            None => true,
            Some(last) => {
                let d = last.between(&odom_pose);
                d.translation().norm() >= self.params.update_min_d
                    || d.theta().abs() >= self.params.update_min_a
            }
        };
        if moved {
            if let Some(last) = self.last_update_odom {
                self.motion_update(&last, &odom_pose);
            }
            self.last_update_odom = Some(odom_pose);
            self.sensor_update(scan);
            self.counters.updates += 1;
            self.updates_since_resample += 1;
            if self.updates_since_resample >= self.params.resample_interval.max(1) {
                self.resample();
                self.updates_since_resample = 0;
            }
            self.last_estimate = Some(self.cluster_estimate());
        }
        let (base_pose, covariance, cluster_weight) = match self.last_estimate {
            Some(e) => e,
            None => {
                let e = self.cluster_estimate();
                self.last_estimate = Some(e);
                e
            }
        };
        // The estimate refers to the odometry pose of the last update; carry it forward.
        let at_update = self.last_update_odom.unwrap_or(odom_pose);
        let map_to_odom = base_pose * at_update.inverse();
        Ok(MapEstimate {
            stamp: scan.stamp,
            pose: map_to_odom * odom_pose,
            covariance,
            map_to_odom,
            cluster_weight,
            particles: self.particles.len(),
            updated: moved,
        })
    }

    /// Thrun's sample_motion_model_odometry, per particle.
    fn motion_update(&mut self, from: &Pose2, to: &Pose2) {
        let p = &self.params;
        let (dx, dy) = (to.x() - from.x(), to.y() - from.y());
        let trans = dx.hypot(dy);
        let rot1 = if trans < 0.01 {
            0.0
        } else {
            normalize_angle(dy.atan2(dx) - from.theta())
        };
        let rot2 = normalize_angle(to.theta() - from.theta() - rot1);
        // Driving backwards is a small rotation, not a half turn (as Nav2 does).
        let r1n = rot1.abs().min((std::f64::consts::PI - rot1.abs()).abs());
        let r2n = rot2.abs().min((std::f64::consts::PI - rot2.abs()).abs());
        let s_rot1 = (p.alpha1 * r1n * r1n + p.alpha2 * trans * trans).sqrt();
        let s_trans = (p.alpha3 * trans * trans + p.alpha4 * (r1n * r1n + r2n * r2n)).sqrt();
        let s_rot2 = (p.alpha1 * r2n * r2n + p.alpha2 * trans * trans).sqrt();
        for q in &mut self.particles {
            let r1 = rot1 - gaussian(&mut self.rng) * s_rot1;
            let t = trans - gaussian(&mut self.rng) * s_trans;
            let r2 = rot2 - gaussian(&mut self.rng) * s_rot2;
            q.x += t * (q.th + r1).cos();
            q.y += t * (q.th + r1).sin();
            q.th = normalize_angle(q.th + r1 + r2);
        }
    }

    /// Likelihood-field weights, combined as Nav2 does (1 + Σ p³: robust to unmodelled beams).
    fn sensor_update(&mut self, scan: &LaserScan) {
        let p = &self.params;
        self.beams.clear();
        let n = scan.ranges.len();
        let step = (n as f64 / p.max_beams.max(1) as f64).max(1.0);
        let mut k = 0.0;
        let mut invalid = 0u64;
        while (k as usize) < n {
            let i = k as usize;
            k += step;
            let r = scan.ranges[i];
            if !scan.is_valid(i) {
                invalid += 1;
                continue;
            }
            let a = f64::from(scan.angle(i));
            let r = f64::from(r);
            // Beam end point in base_link.
            let e = p
                .laser_pose
                .transform_point(&Point2::new(r * a.cos(), r * a.sin()));
            self.beams.push((e.x, e.y));
        }
        self.counters.beams_invalid += invalid;
        let two_s2 = 2.0 * p.sigma_hit * p.sigma_hit;
        let z_rand_term = p.z_rand / f64::from(scan.range_max);
        let mut total = 0.0;
        for q in &mut self.particles {
            let (s, c) = q.th.sin_cos();
            let mut w = 1.0;
            let mut log_w = 0.0;
            for &(bx, by) in &self.beams {
                let wx = q.x + c * bx - s * by;
                let wy = q.y + s * bx + c * by;
                let g = self.map_to_grid * Point2::new(wx, wy);
                let col = (g.x * self.inv_res).floor() as i64;
                let row = (g.y * self.inv_res).floor() as i64;
                let d = self.field.distance(col, row);
                let pz = p.z_hit * (-d * d / two_s2).exp() + z_rand_term;
                w += pz * pz * pz;
                log_w += pz.ln();
            }
            if p.beam_product_exponent > 0.0 {
                w = (p.beam_product_exponent * log_w).exp();
            }
            q.w *= w;
            total += q.w;
        }
        // Prior weights sum to one, so the total is the average measurement likelihood.
        let w_avg = total;
        if self.w_slow == 0.0 {
            self.w_slow = w_avg;
        } else {
            self.w_slow += p.recovery_alpha_slow * (w_avg - self.w_slow);
        }
        if self.w_fast == 0.0 {
            self.w_fast = w_avg;
        } else {
            self.w_fast += p.recovery_alpha_fast * (w_avg - self.w_fast);
        }
        self.normalize();
    }

    fn bin(&self, q: &Particle) -> (i64, i64, i64) {
        (
            (q.x / self.params.bin_xy).floor() as i64,
            (q.y / self.params.bin_xy).floor() as i64,
            (normalize_angle(q.th) / self.params.bin_theta).floor() as i64,
        )
    }

    /// KLD-adaptive resampling with random injection (augmented MCL).
    fn resample(&mut self) {
        let p = self.params.clone();
        let inject = if p.recovery_alpha_slow > 0.0 && self.w_slow > 0.0 {
            (1.0 - self.w_fast / self.w_slow).max(0.0)
        } else {
            0.0
        };
        self.cumulative.clear();
        let mut acc = 0.0;
        for q in &self.particles {
            acc += q.w;
            self.cumulative.push(acc);
        }
        // The sample count comes from KLD sampling (draws counted into histogram bins until
        // the bound is met); the samples themselves are then drawn by low-variance (systematic)
        // resampling, which keeps every hypothesis with weight ≥ 1/n: multinomial draws lose
        // the true mode among the look-alike ones of a symmetric building (seen as a wrong
        // global convergence).
        let mut bins = HashSet::new();
        let max = p.max_particles.max(1);
        let min = p.min_particles.clamp(1, max);
        let mut n = 0;
        while n < max {
            n += 1;
            let q = if self.rng.random::<f64>() < inject {
                self.random_free_pose()
            } else {
                let u = self.rng.random::<f64>() * acc;
                let i = self.cumulative.partition_point(|&c| c < u);
                self.particles[i.min(self.particles.len() - 1)]
            };
            bins.insert(self.bin(&q));
            if n >= min && n >= kld_sample_count(bins.len(), p.kld_err, p.kld_z) {
                break;
            }
        }
        let injected = (0..n).filter(|_| self.rng.random::<f64>() < inject).count();
        self.counters.injected += injected as u64;
        let mut out = Vec::with_capacity(n);
        for _ in 0..injected {
            out.push(self.random_free_pose());
        }
        let kept = n - injected;
        let step = acc / kept.max(1) as f64;
        let mut u = self.rng.random::<f64>() * step;
        let mut i = 0;
        for _ in 0..kept {
            while i + 1 < self.particles.len() && self.cumulative[i] < u {
                i += 1;
            }
            out.push(Particle {
                w: 1.0,
                ..self.particles[i]
            });
            u += step;
        }
        // Unlike Nav2, the averages are not reset after an injection (Thrun's Augmented_MCL):
        // injection goes on while the short-term likelihood stays below the long-term one,
        // which a kidnapped robot needs to find its new place.
        self.particles = out;
        self.normalize();
    }

    /// Mean and covariance of the heaviest cluster of adjacent occupied histogram bins.
    fn cluster_estimate(&self) -> (Pose2, Covariance3, f64) {
        let mut bin_of = Vec::with_capacity(self.particles.len());
        let mut bins: HashMap<(i64, i64, i64), usize> = HashMap::new();
        for q in &self.particles {
            let b = self.bin(q);
            bin_of.push(b);
            bins.entry(b).or_insert(usize::MAX);
        }
        let n_theta = (std::f64::consts::TAU / self.params.bin_theta).ceil() as i64;
        let keys: Vec<_> = bins.keys().copied().collect();
        let mut cluster = 0;
        for k in keys {
            if bins[&k] != usize::MAX {
                continue;
            }
            let mut stack = vec![k];
            bins.insert(k, cluster);
            while let Some((x, y, t)) = stack.pop() {
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for dt in -1..=1 {
                            let mut nt = t + dt;
                            // Heading bins wrap around.
                            let lo = (-std::f64::consts::PI / self.params.bin_theta).floor() as i64;
                            if nt < lo {
                                nt += n_theta;
                            } else if nt >= lo + n_theta {
                                nt -= n_theta;
                            }
                            let nb = (x + dx, y + dy, nt);
                            if bins.get(&nb) == Some(&usize::MAX) {
                                bins.insert(nb, cluster);
                                stack.push(nb);
                            }
                        }
                    }
                }
            }
            cluster += 1;
        }
        let mut weight = vec![0.0; cluster];
        for (q, b) in self.particles.iter().zip(&bin_of) {
            weight[bins[b]] += q.w;
        }
        let best = weight
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let total: f64 = weight.iter().sum();
        let (mut sw, mut mx, mut my, mut ms, mut mc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (q, b) in self.particles.iter().zip(&bin_of) {
            if bins[b] == best {
                sw += q.w;
                mx += q.w * q.x;
                my += q.w * q.y;
                ms += q.w * q.th.sin();
                mc += q.w * q.th.cos();
            }
        }
        let sw = sw.max(1e-300);
        let (mx, my, mth) = (mx / sw, my / sw, ms.atan2(mc));
        let mut cov = Covariance3::zeros();
        for (q, b) in self.particles.iter().zip(&bin_of) {
            if bins[b] == best {
                let d = Vector3::new(q.x - mx, q.y - my, normalize_angle(q.th - mth));
                cov += q.w / sw * d * d.transpose();
            }
        }
        (Pose2::new(mx, my, mth), cov, sw / total.max(1e-300))
    }
}

#[cfg(test)]
mod tests;
