//! Ground segmentation for 3D LiDAR, in the family of Patchwork++: the plane around the sensor
//! is cut into a concentric zone model (zones of rings of sectors, coarser far away), a plane is
//! fitted in each bin from its lowest points, and each bin's plane is accepted or rejected by
//! uprightness, elevation and flatness tests. Then, beyond the bin planes: every point gets its
//! height above a local ground surface (the accepted planes, checked against their neighbours
//! so that car roofs and walls cannot pass as ground), and a fine grid removes the bases of
//! obstacles (points under something tall in the same cell) and recovers flat ground the bin
//! test missed.
//!
//! All buffers live in [`GroundSegmenter`] and are reused frame after frame: in steady state a
//! frame allocates nothing.

use crate::geom::{Moments, Plane, fast_atan2};
use serde::{Deserialize, Serialize};
use std::f32::consts::PI;

/// Parameters of [`GroundSegmenter`]. Heights are metres relative to the sensor origin
/// (z up); the defaults serve 16–128 beam spinning LiDARs mounted 0–2 m above the ground.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroundParams {
    /// Height of the sensor origin above the ground (m): the ground is expected near
    /// `z = -sensor_height`. `None` (default): estimated in every frame from the densest level
    /// of near points.
    pub sensor_height: Option<f32>,
    /// Points nearer than this (horizontal range, m) are never ground: the vehicle itself.
    /// Default 1.0 (low-mounted sensors see the ground from ~2 m; remove a bigger body with
    /// the crop's `ego_box`).
    pub min_range: f32,
    /// Points farther than this are never ground (m). Default 100.
    pub max_range: f32,
    /// Inner radius of zones 2.., m (zone 1 starts at `min_range`). Default [12.3625, 22.025, 41.0125].
    pub zone_starts: Vec<f32>,
    /// Rings per zone. Default [2, 4, 4, 4].
    pub zone_rings: Vec<usize>,
    /// Sectors per zone. Default [16, 32, 54, 32].
    pub zone_sectors: Vec<usize>,
    /// How many lowest points give the seed level of a bin. Default 20.
    pub num_lpr: usize,
    /// Seeds: points below the mean of the lowest points plus this (m). Default 0.25.
    pub seed_margin: f32,
    /// Plane-fit iterations. Default 3.
    pub iterations: usize,
    /// Bins with fewer points get no plane of their own. Default 10.
    pub min_points: usize,
    /// Points within this distance above a bin plane are its inliers while fitting (m). Default 0.15.
    pub fit_dist: f32,
    /// Minimum |normal.z| of a ground plane (cos of the steepest slope). Default 0.707 (45°).
    pub uprightness: f32,
    /// Greatest slope of the ground between neighbouring bins (rise over run). Default 0.25.
    pub max_slope: f32,
    /// Step allowed between a bin plane and its inner neighbour, on top of the slope (m). Default 0.3.
    pub max_step: f32,
    /// Greatest normal variance of an accepted ground plane (m²). Default 0.01.
    pub max_flatness: f32,
    /// Reflected noise: points this far below the expected ground in the nearest zone are
    /// noise (m). Default 0.8.
    pub noise_depth: f32,
    /// Final rule: a point is ground if within this height above the local ground (m). Default 0.2.
    pub ground_height: f32,
    /// Cell size of the refinement grid (m). Default 0.5.
    pub cell: f32,
    /// A point whose cell holds points this much higher than the ground is an obstacle base
    /// unless it is within `base_keep` of the cell's lowest point (m). Default 0.3.
    pub tall: f32,
    /// See `tall` (m). Default 0.05.
    pub base_keep: f32,
    /// Only points up to this far above a cell's lowest point count for `tall` (m), so that
    /// a canopy or a sign overhead does not make the ground below it rough. Default 2.0.
    pub tall_window: f32,
    /// Half-width of the refinement grid (m); beyond it bin planes alone decide. Default 40.
    pub refine_range: f32,
    /// Let the 8 neighbouring cells make a cell rough too. Default false.
    pub rough_neighbors: bool,
}

impl Default for GroundParams {
    fn default() -> Self {
        Self {
            sensor_height: None,
            min_range: 1.0,
            max_range: 100.0,
            zone_starts: vec![12.3625, 22.025, 41.0125],
            zone_rings: vec![2, 4, 4, 4],
            zone_sectors: vec![16, 32, 54, 32],
            num_lpr: 20,
            seed_margin: 0.25,
            iterations: 3,
            min_points: 10,
            fit_dist: 0.15,
            uprightness: 0.707,
            max_slope: 0.25,
            max_step: 0.3,
            max_flatness: 0.01,
            noise_depth: 0.8,
            ground_height: 0.2,
            cell: 0.5,
            tall: 0.3,
            base_keep: 0.05,
            tall_window: 2.0,
            refine_range: 40.0,
            rough_neighbors: false,
        }
    }
}

/// Why a bin got no ground plane (for diagnostics and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinState {
    #[default]
    Empty,
    TooFew,
    Steep,
    Rough,
    Elevated,
    Ground,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    state: BinState,
    plane: Option<Plane>,
    /// Bin centre range.
    r: f32,
    /// The bin just inside this one at the same angle (`NO_BIN` for the innermost ring).
    inner: u32,
    /// The ground just inwards (this frame): its height and where it was measured.
    reference: Option<(f32, [f32; 2])>,
}

/// Per-frame summary.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GroundStats {
    /// Sensor height used (given or estimated), m.
    pub sensor_height: f32,
    pub points: usize,
    pub ground: usize,
    /// Bins with an accepted ground plane.
    pub ground_bins: usize,
}

const NO_BIN: u32 = u32::MAX;

/// The ground segmenter; keep one per sensor and call [`segment`](Self::segment) per frame.
#[derive(Debug, Clone)]
pub struct GroundSegmenter {
    params: GroundParams,
    /// Per zone: first bin index, ring width, sector width.
    zones: Vec<(usize, f32, f32, f32)>,
    bins: Vec<Bin>,
    // Reused buffers.
    bin_of: Vec<u32>,
    start: Vec<u32>,
    sorted: Vec<[f32; 3]>,
    sorted_idx: Vec<u32>,
    zbuf: Vec<f32>,
    height: Vec<f32>,
    hist: Vec<u32>,
    cell_of: Vec<u32>,
    cell_lo: Vec<f32>,
    cell_hi: Vec<f32>,
    cell_nhi: Vec<f32>,
}

impl GroundSegmenter {
    pub fn new(params: GroundParams) -> crate::Result<Self> {
        let bad = |name, value: String, why| {
            Err(crate::PerceptionError::BadParameter { name, value, why })
        };
        let nz = params.zone_rings.len();
        if nz == 0 || params.zone_sectors.len() != nz || params.zone_starts.len() + 1 != nz {
            return bad(
                "zone_rings/zone_sectors/zone_starts",
                format!(
                    "{:?}/{:?}/{:?}",
                    params.zone_rings, params.zone_sectors, params.zone_starts
                ),
                "need N rings, N sectors and N-1 zone starts",
            );
        }
        let mut edges = vec![params.min_range];
        edges.extend(&params.zone_starts);
        edges.push(params.max_range);
        if !edges.iter().all(|e| e.is_finite() && *e >= 0.0)
            || edges.windows(2).any(|w| w[0] >= w[1])
        {
            return bad(
                "min_range/zone_starts/max_range",
                format!("{edges:?}"),
                "must be finite and strictly increasing",
            );
        }
        if params
            .zone_rings
            .iter()
            .chain(&params.zone_sectors)
            .any(|&k| k == 0 || k > 4096)
        {
            return bad("zone_rings/zone_sectors", "0".into(), "must be 1..=4096");
        }
        if !(params.cell > 0.01 && params.cell.is_finite()) {
            return bad("cell", params.cell.to_string(), "must be > 0.01 m");
        }
        if !(params.refine_range >= 0.0 && params.refine_range / params.cell <= 1000.0) {
            return bad(
                "refine_range",
                params.refine_range.to_string(),
                "must be ≥ 0 and at most 1000 cells (the grid is 2000² cells at most)",
            );
        }
        let mut zones = Vec::with_capacity(nz);
        let mut bins = Vec::new();
        for z in 0..nz {
            let (r0, r1) = (edges[z], edges[z + 1]);
            let ring_w = (r1 - r0) / params.zone_rings[z] as f32;
            let sec_w = 2.0 * PI / params.zone_sectors[z] as f32;
            zones.push((bins.len(), r0, ring_w, sec_w));
            for ring in 0..params.zone_rings[z] {
                for _ in 0..params.zone_sectors[z] {
                    // (`inner` is filled in below, once every zone exists.)
                    bins.push(Bin {
                        r: r0 + (ring as f32 + 0.5) * ring_w,
                        inner: NO_BIN,
                        ..Bin::default()
                    });
                }
            }
        }
        let mut me = Self {
            params,
            zones,
            bins,
            bin_of: Vec::new(),
            start: Vec::new(),
            sorted: Vec::new(),
            sorted_idx: Vec::new(),
            zbuf: Vec::new(),
            height: Vec::new(),
            hist: Vec::new(),
            cell_of: Vec::new(),
            cell_lo: Vec::new(),
            cell_hi: Vec::new(),
            cell_nhi: Vec::new(),
        };
        for z in 0..nz {
            let (first, r0, ring_w, sec_w) = me.zones[z];
            for ring in 0..me.params.zone_rings[z] {
                for sec in 0..me.params.zone_sectors[z] {
                    let b = first + ring * me.params.zone_sectors[z] + sec;
                    let r = r0 + ring as f32 * ring_w - 0.01;
                    let a = -PI + (sec as f32 + 0.5) * sec_w;
                    me.bins[b].inner = me.bin_index(r * a.cos(), r * a.sin());
                }
            }
        }
        Ok(me)
    }

    pub fn params(&self) -> &GroundParams {
        &self.params
    }

    #[inline]
    fn bin_index(&self, x: f32, y: f32) -> u32 {
        let r = (x * x + y * y).sqrt();
        if !(r >= self.params.min_range && r < self.params.max_range) {
            return NO_BIN;
        }
        let mut z = 0;
        while z + 1 < self.zones.len() && r >= self.zones[z + 1].1 {
            z += 1;
        }
        let (first, r0, ring_w, sec_w) = self.zones[z];
        let rings = self.params.zone_rings[z];
        let secs = self.params.zone_sectors[z];
        let ring = (((r - r0) / ring_w) as usize).min(rings - 1);
        let sec = (((fast_atan2(y, x) + PI) / sec_w) as usize).min(secs - 1);
        (first + ring * secs + sec) as u32
    }

    /// Segments a [`PointCloud`](courier_core::msgs::PointCloud); an inconsistent cloud (fields
    /// of different lengths) is an error.
    pub fn segment_cloud(
        &mut self,
        cloud: &courier_core::msgs::PointCloud,
        mask: &mut Vec<u8>,
    ) -> crate::Result<GroundStats> {
        crate::error::check_cloud(cloud)?;
        Ok(self.segment(&cloud.x, &cloud.y, &cloud.z, mask))
    }

    /// Segments one frame given as coordinate slices of equal length; writes one byte per point
    /// into `mask` (1 ground, 0 not), in input order. Non-finite points are never ground.
    pub fn segment(&mut self, x: &[f32], y: &[f32], z: &[f32], mask: &mut Vec<u8>) -> GroundStats {
        let n = x.len().min(y.len()).min(z.len());
        mask.clear();
        mask.resize(n, 0);
        let h = self
            .params
            .sensor_height
            .filter(|h| h.is_finite())
            .unwrap_or_else(|| self.estimate_height(x, y, z));
        let ground_z = -h;

        // 1. Bin every point (counting sort by bin into flat arrays).
        let nb = self.bins.len();
        self.bin_of.clear();
        self.start.clear();
        self.start.resize(nb + 1, 0);
        for i in 0..n {
            let (px, py, pz) = (x[i], y[i], z[i]);
            let b = if px.is_finite() && py.is_finite() && pz.is_finite() {
                self.bin_index(px, py)
            } else {
                NO_BIN
            };
            self.bin_of.push(b);
            if b != NO_BIN {
                self.start[b as usize + 1] += 1;
            }
        }
        for b in 0..nb {
            self.start[b + 1] += self.start[b];
        }
        let total = self.start[nb] as usize;
        self.sorted.clear();
        self.sorted.resize(total, [0.0; 3]);
        self.sorted_idx.clear();
        self.sorted_idx.resize(total, 0);
        {
            // `start` doubles as the write cursor, then is restored.
            for i in 0..n {
                let b = self.bin_of[i];
                if b != NO_BIN {
                    let at = self.start[b as usize] as usize;
                    self.sorted[at] = [x[i], y[i], z[i]];
                    self.sorted_idx[at] = i as u32;
                    self.start[b as usize] += 1;
                }
            }
            for b in (1..=nb).rev() {
                self.start[b] = self.start[b - 1];
            }
            self.start[0] = 0;
        }

        // 2. Fit a plane per bin, inner rings first.
        let p = self.params.clone();
        for b in 0..nb {
            // The ground just inwards: the inner neighbour's plane if it is ground; otherwise
            // only the sensor-height rule applies. (Passing the reference on through elevated
            // bins would also stop platforms deeper than one ring, but it cut real ground on
            // the hilly Ouster frame, so it is not done.)
            let inner = self.bins[b].inner;
            self.bins[b].reference = self.bins.get(inner as usize).and_then(|nb_bin| {
                match (nb_bin.state, nb_bin.plane) {
                    (BinState::Ground, Some(np)) => Some((np.mean[2], [np.mean[0], np.mean[1]])),
                    _ => None,
                }
            });
            let (s, e) = (self.start[b] as usize, self.start[b + 1] as usize);
            let near = b < self.zones.get(1).map_or(nb, |zn| zn.0);
            let bin = &mut self.bins[b];
            bin.plane = None;
            bin.state = if s == e {
                BinState::Empty
            } else {
                BinState::TooFew
            };
            if e - s < p.min_points.max(3) {
                continue;
            }
            let pts = &self.sorted[s..e];
            self.zbuf.clear();
            let floor = if near {
                ground_z - p.noise_depth
            } else {
                f32::NEG_INFINITY
            };
            self.zbuf
                .extend(pts.iter().map(|q| q[2]).filter(|&zz| zz > floor));
            if self.zbuf.len() < p.min_points.max(3) {
                continue;
            }
            let k = p.num_lpr.clamp(1, self.zbuf.len());
            self.zbuf
                .select_nth_unstable_by(k - 1, |a, b| a.total_cmp(b));
            let lpr = self.zbuf[..k].iter().sum::<f32>() / k as f32;
            let mut m = Moments::default();
            for q in pts {
                if q[2] < lpr + p.seed_margin && q[2] > floor {
                    m.add(*q);
                }
            }
            let mut plane = m.plane();
            for _ in 0..p.iterations {
                let Some(pl) = plane else { break };
                let mut m = Moments::default();
                for q in pts {
                    let d = pl.dist(*q);
                    if d < p.fit_dist && q[2] > floor {
                        m.add(*q);
                    }
                }
                plane = m.plane().or(plane);
            }
            let Some(pl) = plane else { continue };
            bin.plane = Some(pl);
            let r_mid = bin.r;
            let reference = bin.reference;
            let mut state = if pl.normal[2] < p.uprightness {
                BinState::Steep
            } else if pl.flatness > p.max_flatness {
                BinState::Rough
            } else if pl.mean[2] > ground_z + p.max_step + p.max_slope * r_mid {
                BinState::Elevated
            } else {
                BinState::Ground
            };
            // Grow the ground outwards: a plane standing higher above the nearest ground
            // inwards than the slope allows is a roof or a platform, not the ground.
            if state == BinState::Ground
                && let Some((rz, rxy)) = reference
            {
                let run = (pl.mean[0] - rxy[0]).hypot(pl.mean[1] - rxy[1]);
                if pl.mean[2] - rz > p.max_step + p.max_slope * run {
                    state = BinState::Elevated;
                }
            }
            self.bins[b].state = state;
        }

        // 3. Height of each binned point above its bin's ground.
        self.height.clear();
        self.height.resize(total, f32::INFINITY);
        let mut ground_bins = 0;
        for b in 0..nb {
            let bin = self.bins[b];
            if bin.state != BinState::Ground {
                continue;
            }
            ground_bins += 1;
            let Some(pl) = bin.plane else { continue };
            let (s, e) = (self.start[b] as usize, self.start[b + 1] as usize);
            for j in s..e {
                self.height[j] = pl.dist(self.sorted[j]);
            }
        }

        // 4. Refinement on a fine grid around the sensor: in a rough cell (something stands
        // more than `tall` above the cell's lowest point) only the points near that lowest
        // point stay ground; this removes the bases of trunks, bushes, people and kerbs that
        // a bin plane cannot see at its scale.
        let half = (p.refine_range / p.cell).ceil() as i64;
        let side = (2 * half) as usize;
        let cells = side * side;
        self.cell_lo.clear();
        self.cell_lo.resize(cells, f32::INFINITY);
        self.cell_hi.clear();
        self.cell_hi.resize(cells, f32::NEG_INFINITY);
        self.cell_of.clear();
        let inv = 1.0 / p.cell;
        for j in 0..total {
            let q = self.sorted[j];
            let cx = (q[0] * inv).floor() as i64 + half;
            let cy = (q[1] * inv).floor() as i64 + half;
            let c = if (0..2 * half).contains(&cx) && (0..2 * half).contains(&cy) {
                (cy as usize * side + cx as usize) as u32
            } else {
                NO_BIN
            };
            self.cell_of.push(c);
            // Points well below their bin's ground are noise, not the cell's floor.
            if c != NO_BIN && self.height[j] >= -p.noise_depth {
                let lo = &mut self.cell_lo[c as usize];
                *lo = lo.min(q[2]);
            }
        }
        for j in 0..total {
            let c = self.cell_of[j];
            if c != NO_BIN {
                let (lo, z) = (self.cell_lo[c as usize], self.sorted[j][2]);
                if z < lo + p.tall_window {
                    let hi = &mut self.cell_hi[c as usize];
                    *hi = hi.max(z);
                }
            }
        }
        if p.rough_neighbors {
            // A cell is also rough when a neighbouring cell holds something tall: at low
            // point density one cell often holds only the ground next to an obstacle.
            self.cell_nhi.clear();
            self.cell_nhi.extend_from_slice(&self.cell_hi);
            for cy in 0..side {
                for cx in 0..side {
                    let mut m = f32::NEG_INFINITY;
                    for ny in cy.saturating_sub(1)..(cy + 2).min(side) {
                        for nx in cx.saturating_sub(1)..(cx + 2).min(side) {
                            m = m.max(self.cell_hi[ny * side + nx]);
                        }
                    }
                    let c = cy * side + cx;
                    if m < self.cell_lo[c] + p.tall_window {
                        self.cell_nhi[c] = m;
                    }
                }
            }
            std::mem::swap(&mut self.cell_hi, &mut self.cell_nhi);
        }

        // 5. Final labels.
        let mut count = 0;
        for j in 0..total {
            let mut g = self.height[j] < p.ground_height;
            let c = self.cell_of[j];
            if g && c != NO_BIN {
                let (lo, hi) = (self.cell_lo[c as usize], self.cell_hi[c as usize]);
                if hi - lo > p.tall && self.sorted[j][2] > lo + p.base_keep {
                    g = false;
                }
            }
            if g {
                mask[self.sorted_idx[j] as usize] = 1;
                count += 1;
            }
        }
        GroundStats {
            sensor_height: h,
            points: n,
            ground: count,
            ground_bins,
        }
    }

    /// The sensor height from the near ground: in each of 36 sectors of the 3–15 m ring, the
    /// 8th lowest z (robust to a few reflections below the ground), then the median over the
    /// sectors. Falls back to 1.73 m (KITTI) when fewer than 4 sectors have points.
    pub fn estimate_height(&mut self, x: &[f32], y: &[f32], z: &[f32]) -> f32 {
        const SECTORS: usize = 36;
        const K: usize = 8;
        self.hist.clear();
        self.hist.resize(SECTORS, 0);
        self.zbuf.clear();
        self.zbuf.resize(SECTORS * K, f32::INFINITY);
        let n = x.len().min(y.len()).min(z.len());
        for i in 0..n {
            let r2 = x[i] * x[i] + y[i] * y[i];
            if !((9.0..225.0).contains(&r2) && z[i].is_finite()) {
                continue;
            }
            let s = (((fast_atan2(y[i], x[i]) + PI) / (2.0 * PI) * SECTORS as f32) as usize)
                .min(SECTORS - 1);
            self.hist[s] += 1;
            // Insert into the sector's sorted list of its K lowest values.
            let low = &mut self.zbuf[s * K..(s + 1) * K];
            if z[i] < low[K - 1] {
                let mut k = K - 1;
                while k > 0 && low[k - 1] > z[i] {
                    low[k] = low[k - 1];
                    k -= 1;
                }
                low[k] = z[i];
            }
        }
        let mut levels = [0f32; SECTORS];
        let mut m = 0;
        for s in 0..SECTORS {
            if self.hist[s] as usize >= 4 * K {
                levels[m] = self.zbuf[s * K + K - 1];
                m += 1;
            }
        }
        if m < 4 {
            return 1.73;
        }
        let levels = &mut levels[..m];
        levels.sort_unstable_by(f32::total_cmp);
        -levels[m / 2]
    }
}

/// Precision, recall and F1 of a ground mask against per-point labels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct GroundScore {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Scores `mask` against `labels`: `is_ground(label)` says which labels are ground,
/// `ignore(label)` which points are left out (e.g. unlabelled ones).
pub fn score(
    mask: &[u8],
    labels: &[u16],
    is_ground: impl Fn(u16) -> bool,
    ignore: impl Fn(u16) -> bool,
) -> crate::Result<GroundScore> {
    if mask.len() != labels.len() {
        return Err(crate::PerceptionError::LengthMismatch {
            what: "label array",
            got: labels.len(),
            expected: mask.len(),
        });
    }
    let mut s = GroundScore::default();
    for (&m, &l) in mask.iter().zip(labels) {
        if ignore(l) {
            continue;
        }
        match (m != 0, is_ground(l)) {
            (true, true) => s.tp += 1,
            (true, false) => s.fp += 1,
            (false, true) => s.fn_ += 1,
            (false, false) => s.tn += 1,
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    s.precision = ratio(s.tp, s.tp + s.fp);
    s.recall = ratio(s.tp, s.tp + s.fn_);
    s.f1 = if s.precision + s.recall > 0.0 {
        2.0 * s.precision * s.recall / (s.precision + s.recall)
    } else {
        0.0
    };
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flat ground at -1.7 m, and a flat platform 2.5 m above it filling whole bins at
    /// 12.4–14.7 m ahead (±30°, one ring of zone 2): by its own bins it looks like ground
    /// (flat, level, within the slope allowance from the sensor); grown from the inner bins it
    /// is not.
    #[test]
    fn elevated_platform_is_not_ground() {
        let (mut x, mut y, mut z) = (Vec::new(), Vec::new(), Vec::new());
        let mut platform = Vec::new();
        for ri in 0..300 {
            let r = 3.0 + ri as f32 * 0.1;
            for ai in 0..720 {
                let a = (ai as f32 * 0.5 - 180.0).to_radians();
                let on = (12.4..14.7).contains(&r) && a.abs() < 30f32.to_radians();
                if (14.7..15.5).contains(&r) && a.abs() < 30f32.to_radians() {
                    continue; // the platform's shadow
                }
                x.push(r * a.cos());
                y.push(r * a.sin());
                z.push(if on { 0.8 } else { -1.7 });
                platform.push(on);
            }
        }
        let mut seg = GroundSegmenter::new(GroundParams {
            sensor_height: Some(1.7),
            ..GroundParams::default()
        })
        .unwrap();
        let mut mask = Vec::new();
        seg.segment(&x, &y, &z, &mut mask);
        let on_platform = platform.iter().filter(|&&p| p).count();
        let wrong = mask
            .iter()
            .zip(&platform)
            .filter(|&(&m, &p)| p && m == 1)
            .count();
        let ground_ok = mask
            .iter()
            .zip(&platform)
            .filter(|&(&m, &p)| !p && m == 1)
            .count();
        assert!(
            wrong * 100 < on_platform,
            "{wrong} of {on_platform} platform points are ground"
        );
        assert!(ground_ok * 100 > 98 * (platform.len() - on_platform));
        // Without the height, and for an empty or non-finite cloud, no panic and sane output.
        let mut auto = GroundSegmenter::new(GroundParams::default()).unwrap();
        let st = auto.segment(&x, &y, &z, &mut mask);
        assert!((st.sensor_height - 1.7).abs() < 1e-3);
        assert_eq!(auto.segment(&[], &[], &[], &mut mask).ground, 0);
        let st = auto.segment(&[f32::NAN; 5], &[0.0; 5], &[1.0; 5], &mut mask);
        assert_eq!((st.ground, mask.len()), (0, 5));
    }

    #[test]
    fn bad_parameters_are_errors() {
        let p = GroundParams {
            zone_rings: vec![2, 4],
            ..GroundParams::default()
        };
        assert!(GroundSegmenter::new(p).is_err());
        let p = GroundParams {
            min_range: 50.0,
            ..GroundParams::default()
        };
        assert!(GroundSegmenter::new(p).is_err());
        let p = GroundParams {
            cell: 0.0,
            ..GroundParams::default()
        };
        assert!(GroundSegmenter::new(p).is_err());
    }
}
