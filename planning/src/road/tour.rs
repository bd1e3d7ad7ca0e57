//! Ordering a delivery run: given travel times between a depot (index 0) and N stops, the visit
//! order that minimises total time. Exact by Held-Karp dynamic programming for small N; for up
//! to hundreds of stops, nearest-neighbour construction, 2-opt and Or-opt local search, and
//! seeded double-bridge kicks (iterated local search). Times may be asymmetric (one-way roads).

use super::graph::RoadGraph;
use crate::hybrid::PlanError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Settings for [`order_stops`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TourParams {
    /// Whether the run ends back at the depot (default true).
    pub return_to_depot: bool,
    /// Up to this many stops, solve exactly with Held-Karp (default 12).
    pub exact_limit: usize,
    /// Double-bridge kicks of the iterated local search (default 200).
    pub kicks: usize,
    /// Seed of the kicks (default 0).
    pub seed: u64,
}

impl Default for TourParams {
    fn default() -> Self {
        Self {
            return_to_depot: true,
            exact_limit: 12,
            kicks: 200,
            seed: 0,
        }
    }
}

/// A visit order: stop indices (1-based, as rows of the matrix), and its total time.
#[derive(Debug, Clone, PartialEq)]
pub struct Tour {
    pub order: Vec<usize>,
    pub cost: f64,
}

fn check_matrix(m: &[Vec<f64>]) -> Result<(), PlanError> {
    let n = m.len();
    for (i, row) in m.iter().enumerate() {
        if row.len() != n {
            return Err(PlanError::InvalidParam {
                name: "time matrix",
                reason: format!("row {i} has {} entries, want {n}", row.len()),
            });
        }
        for (j, &v) in row.iter().enumerate() {
            if v.is_nan() || v < 0.0 {
                return Err(PlanError::InvalidParam {
                    name: "time matrix",
                    reason: format!("entry ({i}, {j}) = {v}"),
                });
            }
            if v.is_infinite() {
                return Err(PlanError::Unreachable { from: i, to: j });
            }
        }
    }
    Ok(())
}

/// Total time of visiting `order` from the depot (and back if `ret`).
pub fn tour_cost(m: &[Vec<f64>], order: &[usize], ret: bool) -> f64 {
    let mut c = 0.0;
    let mut at = 0;
    for &s in order {
        c += m[at][s];
        at = s;
    }
    if ret {
        c += m[at][0];
    }
    c
}

/// Exact optimum by trying every order (for tests; N ≤ 9).
pub fn brute_force(m: &[Vec<f64>], ret: bool) -> Result<Tour, PlanError> {
    check_matrix(m)?;
    let n = m.len().saturating_sub(1);
    if n > 9 {
        return Err(PlanError::InvalidParam {
            name: "stops",
            reason: format!("brute force takes at most 9 stops, got {n}"),
        });
    }
    let mut order: Vec<usize> = (1..=n).collect();
    let mut best = Tour {
        cost: tour_cost(m, &order, ret),
        order: order.clone(),
    };
    // Heap's algorithm over all permutations.
    let mut c = vec![0usize; n];
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                order.swap(0, i);
            } else {
                order.swap(c[i], i);
            }
            let cost = tour_cost(m, &order, ret);
            if cost < best.cost {
                best = Tour {
                    order: order.clone(),
                    cost,
                };
            }
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    Ok(best)
}

/// Exact optimum by Held-Karp dynamic programming over subsets: O(2ᴺ·N²), N ≤ 16.
pub fn held_karp(m: &[Vec<f64>], ret: bool) -> Result<Tour, PlanError> {
    check_matrix(m)?;
    let n = m.len().saturating_sub(1);
    if n > 16 {
        return Err(PlanError::InvalidParam {
            name: "stops",
            reason: format!("Held-Karp takes at most 16 stops, got {n}"),
        });
    }
    if n == 0 {
        return Ok(Tour {
            order: vec![],
            cost: 0.0,
        });
    }
    let full = 1usize << n;
    // dp[set][last]: cheapest time from the depot through exactly `set`, ending at stop `last`.
    let mut dp = vec![f64::INFINITY; full * n];
    let mut parent = vec![u8::MAX; full * n];
    for j in 0..n {
        dp[(1 << j) * n + j] = m[0][j + 1];
    }
    for set in 1..full {
        for last in 0..n {
            let cur = dp[set * n + last];
            if set & (1 << last) == 0 || !cur.is_finite() {
                continue;
            }
            for next in 0..n {
                if set & (1 << next) != 0 {
                    continue;
                }
                let ns = set | (1 << next);
                let c = cur + m[last + 1][next + 1];
                if c < dp[ns * n + next] {
                    dp[ns * n + next] = c;
                    parent[ns * n + next] = last as u8;
                }
            }
        }
    }
    let all = full - 1;
    let (mut last, cost) = (0..n)
        .map(|j| (j, dp[all * n + j] + if ret { m[j + 1][0] } else { 0.0 }))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("n ≥ 1 stops, so there is a last stop");
    let mut order = Vec::with_capacity(n);
    let mut set = all;
    loop {
        order.push(last + 1);
        let p = parent[set * n + last];
        set &= !(1 << last);
        if p == u8::MAX {
            break;
        }
        last = p as usize;
    }
    order.reverse();
    Ok(Tour { order, cost })
}

/// Local search state over the sequence [depot, stops…, end] where `end` is a virtual node
/// (the depot again when returning, else free).
struct Seq<'a> {
    m: &'a [Vec<f64>],
    ret: bool,
    s: Vec<usize>,
    fwd: Vec<f64>,
    rev: Vec<f64>,
}

const END: usize = usize::MAX;

impl Seq<'_> {
    #[inline]
    fn c(&self, a: usize, b: usize) -> f64 {
        match (a, b) {
            (_, END) => {
                if self.ret {
                    self.m[a][0]
                } else {
                    0.0
                }
            }
            (END, _) => 0.0,
            _ => self.m[a][b],
        }
    }
    fn prefix(&mut self) {
        let k = self.s.len();
        self.fwd.resize(k, 0.0);
        self.rev.resize(k, 0.0);
        self.fwd[0] = 0.0;
        self.rev[0] = 0.0;
        for i in 1..k {
            self.fwd[i] = self.fwd[i - 1] + self.c(self.s[i - 1], self.s[i]);
            self.rev[i] = self.rev[i - 1] + self.c(self.s[i], self.s[i - 1]);
        }
    }
    fn cost(&self) -> f64 {
        self.fwd[self.s.len() - 1]
    }
    /// One improving 2-opt move (reverse s[i..=j]), if any.
    fn two_opt(&mut self) -> bool {
        let k = self.s.len();
        for i in 1..k - 2 {
            for j in i + 1..k - 1 {
                let s = &self.s;
                let old =
                    self.c(s[i - 1], s[i]) + (self.fwd[j] - self.fwd[i]) + self.c(s[j], s[j + 1]);
                let new =
                    self.c(s[i - 1], s[j]) + (self.rev[j] - self.rev[i]) + self.c(s[i], s[j + 1]);
                if new < old - 1e-9 {
                    self.s[i..=j].reverse();
                    self.prefix();
                    return true;
                }
            }
        }
        false
    }
    /// One improving Or-opt move (a segment of 1–3 stops moved elsewhere), if any.
    fn or_opt(&mut self) -> bool {
        let k = self.s.len();
        for len in 1..=3 {
            for i in 1..k - len {
                let e = i + len - 1;
                if e >= k - 1 {
                    break;
                }
                let s = &self.s;
                let (a, b) = (s[i - 1], s[e + 1]);
                let gain = self.c(a, s[i]) + self.c(s[e], b) - self.c(a, b);
                for p in 0..k - 1 {
                    if p + 1 >= i && p <= e {
                        continue;
                    }
                    let (u, v) = (s[p], s[p + 1]);
                    let add = self.c(u, s[i]) + self.c(s[e], v) - self.c(u, v);
                    if add < gain - 1e-9 {
                        let seg: Vec<usize> = self.s.drain(i..=e).collect();
                        let at = if p < i { p + 1 } else { p + 1 - len };
                        self.s.splice(at..at, seg);
                        self.prefix();
                        return true;
                    }
                }
            }
        }
        false
    }
    fn local_search(&mut self) {
        while self.two_opt() || self.or_opt() {}
    }
}

/// Heuristic order: nearest neighbour, then 2-opt + Or-opt, then `kicks` seeded double-bridge
/// perturbations each followed by local search, keeping the best.
pub fn solve_heuristic(
    m: &[Vec<f64>],
    ret: bool,
    kicks: usize,
    seed: u64,
) -> Result<Tour, PlanError> {
    check_matrix(m)?;
    let n = m.len().saturating_sub(1);
    if n <= 1 {
        let order: Vec<usize> = (1..=n).collect();
        return Ok(Tour {
            cost: tour_cost(m, &order, ret),
            order,
        });
    }
    let mut left: Vec<usize> = (1..=n).collect();
    let mut s = vec![0];
    let mut at = 0;
    while !left.is_empty() {
        let (k, _) = left
            .iter()
            .enumerate()
            .min_by(|a, b| m[at][*a.1].total_cmp(&m[at][*b.1]))
            .expect("left is non-empty inside the loop");
        at = left.swap_remove(k);
        s.push(at);
    }
    s.push(END);
    let mut seq = Seq {
        m,
        ret,
        s,
        fwd: Vec::new(),
        rev: Vec::new(),
    };
    seq.prefix();
    seq.local_search();
    let mut best = (seq.cost(), seq.s.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if n >= 4 {
        for _ in 0..kicks {
            // Double bridge on the stops: A B C D → A C B D.
            let mut cuts = [
                rng.random_range(1..n),
                rng.random_range(1..n),
                rng.random_range(1..n),
            ];
            cuts.sort_unstable();
            if cuts[0] == cuts[1] || cuts[1] == cuts[2] {
                continue;
            }
            let b = &best.1;
            let (p1, p2, p3) = (cuts[0] + 1, cuts[1] + 1, cuts[2] + 1);
            let mut s = b[..p1].to_vec();
            s.extend_from_slice(&b[p2..p3]);
            s.extend_from_slice(&b[p1..p2]);
            s.extend_from_slice(&b[p3..]);
            seq.s = s;
            seq.prefix();
            seq.local_search();
            if seq.cost() < best.0 - 1e-9 {
                best = (seq.cost(), seq.s.clone());
            }
        }
    }
    let order: Vec<usize> = best.1[1..best.1.len() - 1].to_vec();
    Ok(Tour {
        cost: tour_cost(m, &order, ret),
        order,
    })
}

/// Orders a delivery run on the road graph: `depot` and `stops` are node indices. Returns the
/// order as indices into `stops`, and the total time (s).
pub fn order_stops(
    graph: &RoadGraph,
    depot: usize,
    stops: &[usize],
    params: &TourParams,
) -> Result<Tour, PlanError> {
    let mut nodes = vec![depot];
    nodes.extend_from_slice(stops);
    let m = graph.time_matrix(&nodes)?;
    let t = if stops.len() <= params.exact_limit.min(16) {
        held_karp(&m, params.return_to_depot)?
    } else {
        solve_heuristic(&m, params.return_to_depot, params.kicks, params.seed)?
    };
    Ok(Tour {
        order: t.order.iter().map(|&i| i - 1).collect(),
        cost: t.cost,
    })
}

/// A seeded synthetic delivery instance: a depot and `n` stops uniformly in a 2 km square,
/// times = straight-line distance at 8 m/s × a per-direction detour factor in [1, 1.3)
/// (asymmetric, as one-way streets make real ones).
pub fn synthetic_matrix(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pts: Vec<(f64, f64)> = (0..=n)
        .map(|_| (rng.random_range(0.0..2000.0), rng.random_range(0.0..2000.0)))
        .collect();
    (0..=n)
        .map(|i| {
            (0..=n)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        let d = (pts[i].0 - pts[j].0).hypot(pts[i].1 - pts[j].1);
                        d / 8.0 * rng.random_range(1.0..1.3)
                    }
                })
                .collect()
        })
        .collect()
}
