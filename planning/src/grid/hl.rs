//! Hub labels (Abraham et al. 2011) derived from the contraction hierarchy: every node keeps
//! the nodes of its upward search space whose upward distance is the true distance (its
//! "hubs"), sorted by rank. For any start and goal, the top node of an up-down shortest path is
//! a hub of both, so a query is one linear merge of two sorted arrays: no priority queue and
//! no edge relaxations, which is what makes it fast on maps without structure (random
//! obstacles), where a contraction hierarchy's top levels are dense.
//!
//! Labels are built top-down: a node's label is the min-merge of its upward neighbours'
//! labels, each shifted by the edge's length, and then loses the entries a higher node proves
//! too long (the stall-on-demand test: a hub `h` reached with `d`, and a node `x` above `h`
//! with `d(x) + w(h, x) < d`). Every entry is the length of a real path, and an entry is only
//! dropped when it is longer than the distance, so the entries that make queries exact (the
//! exact-distance hubs) always stay.
//!
//! A distance is stored as a pair of step counts, cardinals in the low 16 bits and diagonals
//! in the high 16 bits; comparisons use `cardinals · 2³² + diagonals · round(√2 · 2³²)`, the
//! contraction hierarchy's integer costs, whose order is that of exact arithmetic. The path is
//! recovered by walking each side's upward chain to the meeting hub (the neighbour whose
//! label entry plus the edge gives the entry) and unpacking the hierarchy's shortcuts.

use super::ch::{CARDINAL, ContractionHierarchy, DIAGONAL};
use super::{GridPlan, GridPlanner, check_endpoints};
use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;

/// Preprocessing figures of [`HubLabels`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HlStats {
    /// Graph nodes (passable cells).
    pub nodes: usize,
    /// Label entries over all nodes.
    pub entries: usize,
    /// Mean label size (entries per node).
    pub mean_label: f64,
    /// Largest label.
    pub max_label: usize,
    /// Bytes of the labels plus the hierarchy kept for path unpacking.
    pub memory_bytes: usize,
}

/// Exact grid planner on hub labels; build once per map (the hierarchy, then the labels), then
/// query with two array merges.
#[derive(Debug, Clone)]
pub struct HubLabels {
    ch: ContractionHierarchy,
    /// Labels in build order (highest rank first): node `v`'s label is
    /// `hubs[off[n - 1 - v]..off[n - v]]`.
    off: Vec<usize>,
    hubs: Vec<u32>,
    /// Packed distances (cardinals | diagonals << 16), parallel to `hubs`.
    dists: Vec<u32>,
    /// First hop of each entry: the index, among the node's upward edges, of the edge its
    /// distance was derived through (unused for the node's own entry).
    via: Vec<u16>,
    stats: HlStats,
}

/// Integer cost of a packed distance.
#[inline]
fn cost(p: u32) -> u64 {
    u64::from(p & 0xffff) * CARDINAL + u64::from(p >> 16) * DIAGONAL
}

/// Adds two packed distances; `None` if a count would overflow 16 bits.
#[inline]
fn add(a: u32, b: u32) -> Option<u32> {
    let c = (a & 0xffff) + (b & 0xffff);
    let d = (a >> 16) + (b >> 16);
    (c <= 0xffff && d <= 0xffff).then_some(c | (d << 16))
}

/// The inverse of `k` (odd) modulo 2³².
const fn inverse_u32(k: u32) -> u32 {
    let mut x = k; // correct to 3 bits; each Newton step doubles that
    let mut i = 0;
    while i < 5 {
        x = x.wrapping_mul(2u32.wrapping_sub(k.wrapping_mul(x)));
        i += 1;
    }
    x
}

/// `DIAGONAL mod 2³² = 8 · ODD`; `w mod 2³² = diagonals · DIAGONAL mod 2³²` recovers the
/// diagonal count modulo 2²⁹.
const ODD: u32 = ((DIAGONAL % (1 << 32)) >> 3) as u32;
const ODD_INV: u32 = inverse_u32(ODD);

/// The step counts (packed) of an edge of integer cost `w`; `None` if they do not fit.
fn pack(w: u64) -> Option<u32> {
    let low = (w & 0xffff_ffff) as u32 >> 3;
    let diag = u64::from(low.wrapping_mul(ODD_INV) & ((1 << 29) - 1));
    let card = w.checked_sub(diag * DIAGONAL)? >> 32;
    (card * CARDINAL + diag * DIAGONAL == w && card <= 0xffff && diag <= 0xffff)
        .then_some(card as u32 | (diag as u32) << 16)
}

fn too_long() -> PlanningError {
    PlanningError::InvalidInput {
        what: "grid map".into(),
        reason: "paths of over 65535 cardinal or diagonal steps do not fit hub labels".into(),
    }
}

impl HubLabels {
    /// Builds the contraction hierarchy of `map`, then the labels.
    pub fn new(map: &GridMap) -> Result<Self> {
        Self::from_ch(ContractionHierarchy::new(map)?)
    }

    /// Labels over an existing hierarchy.
    pub fn from_ch(ch: ContractionHierarchy) -> Result<Self> {
        let n = ch.stats().nodes;
        let mut off = Vec::with_capacity(n + 1);
        off.push(0);
        let mut hubs: Vec<u32> = Vec::new();
        let mut dists: Vec<u32> = Vec::new();
        let mut best = vec![u64::MAX; n];
        let mut best_p = vec![0u32; n];
        let mut best_via = vec![0u16; n];
        let mut via: Vec<u16> = Vec::new();
        let mut touched: Vec<u32> = Vec::new();
        let mut out: Vec<(u32, u32, u16)> = Vec::new();
        let mut max_label = 0;
        for v in (0..n).rev() {
            touched.clear();
            best[v] = 0;
            best_p[v] = 0;
            touched.push(v as u32);
            for (ki, e) in ch.ups(v).iter().enumerate() {
                let pe = pack(e.w).ok_or_else(too_long)?;
                let ki = u16::try_from(ki).map_err(|_| PlanningError::InvalidInput {
                    what: "grid map".into(),
                    reason: "a node has over 65535 upward edges".into(),
                })?;
                let (lo, hi) = span(&off, n, e.to as usize);
                for k in lo..hi {
                    let h = hubs[k] as usize;
                    let p = add(dists[k], pe).ok_or_else(too_long)?;
                    let d = cost(p);
                    if best[h] == u64::MAX {
                        touched.push(h as u32);
                    } else if d >= best[h] {
                        continue;
                    }
                    best[h] = d;
                    best_p[h] = p;
                    best_via[h] = ki;
                }
            }
            out.clear();
            for &h in &touched {
                let hi = h as usize;
                let dh = best[hi];
                let stalled = hi != v
                    && ch.ups(hi).iter().any(|e| {
                        let bx = best[e.to as usize];
                        bx != u64::MAX && bx + e.w < dh
                    });
                if !stalled {
                    out.push((h, best_p[hi], best_via[hi]));
                }
            }
            for &h in &touched {
                best[h as usize] = u64::MAX;
            }
            out.sort_unstable_by_key(|x| x.0);
            hubs.extend(out.iter().map(|x| x.0));
            dists.extend(out.iter().map(|x| x.1));
            via.extend(out.iter().map(|x| x.2));
            off.push(hubs.len());
            max_label = max_label.max(out.len());
        }
        hubs.shrink_to_fit();
        dists.shrink_to_fit();
        via.shrink_to_fit();
        let memory_bytes = hubs.len() * 10 + off.len() * 8 + ch.stats().memory_bytes;
        let stats = HlStats {
            nodes: n,
            entries: hubs.len(),
            mean_label: hubs.len() as f64 / n.max(1) as f64,
            max_label,
            memory_bytes,
        };
        Ok(Self {
            ch,
            off,
            hubs,
            dists,
            via,
            stats,
        })
    }

    /// Preprocessing figures (label sizes, memory).
    pub fn stats(&self) -> HlStats {
        self.stats
    }

    /// The contraction hierarchy under the labels.
    pub fn hierarchy(&self) -> &ContractionHierarchy {
        &self.ch
    }

    #[inline]
    fn label(&self, v: usize) -> (&[u32], &[u32]) {
        let (lo, hi) = span(&self.off, self.stats.nodes, v);
        (&self.hubs[lo..hi], &self.dists[lo..hi])
    }

    /// Appends the upward edges (global indices) from `v` to hub `h`, given the index `k` of
    /// `h` in `v`'s label.
    fn chain(&self, mut v: u32, h: u32, mut k: usize, out: &mut Vec<u32>) -> Result<()> {
        while v != h {
            let lo = span(&self.off, self.stats.nodes, v as usize).0;
            let e = self.ch.first[v as usize] + u32::from(self.via[lo + k]);
            out.push(e);
            v = self.ch.up[e as usize].to;
            let Ok(next) = self.label(v as usize).0.binary_search(&h) else {
                return Err(PlanningError::InvalidInput {
                    what: "hub labels".into(),
                    reason: format!("node {v} lacks hub {h} on a label chain"),
                });
            };
            k = next;
        }
        Ok(())
    }
}

/// Flat-array range of node `v`'s label (labels were appended from rank `n - 1` down).
#[inline]
fn span(off: &[usize], n: usize, v: usize) -> (usize, usize) {
    (off[n - 1 - v], off[n - v])
}

impl GridPlanner for HubLabels {
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan> {
        let map = &self.ch.map;
        check_endpoints(map, start, goal)?;
        let idx = |c: Cell| self.ch.node_of[c.y as usize * map.width + c.x as usize];
        let (s, t) = (idx(start), idx(goal));
        let (hs, ds) = self.label(s as usize);
        let (ht, dt) = self.label(t as usize);
        let (mut i, mut j) = (0, 0);
        let mut best = (u64::MAX, 0usize, 0usize);
        while i < hs.len() && j < ht.len() {
            let (a, b) = (hs[i], ht[j]);
            if a < b {
                i += 1;
            } else if a > b {
                j += 1;
            } else {
                let d = cost(ds[i]) + cost(dt[j]);
                if d < best.0 {
                    best = (d, i, j);
                }
                i += 1;
                j += 1;
            }
        }
        let expansions = (hs.len() + ht.len()) as u64;
        let (d, i, j) = best;
        if d == u64::MAX {
            return Err(PlanningError::Unreachable {
                start: (start.x as usize, start.y as usize),
                goal: (goal.x as usize, goal.y as usize),
            });
        }
        let (h, total) = (hs[i], add(ds[i], dt[j]).ok_or_else(too_long)?);
        let mut up = Vec::new();
        self.chain(s, h, i, &mut up)?;
        let mut down = Vec::new();
        self.chain(t, h, j, &mut down)?;
        let mut cells = Vec::with_capacity(((total & 0xffff) + (total >> 16)) as usize + 1);
        cells.push(start);
        for &e in &up {
            self.ch.unpack_edge(e, true, &mut cells);
        }
        for &e in down.iter().rev() {
            self.ch.unpack_edge(e, false, &mut cells);
        }
        Ok(GridPlan {
            cells,
            cardinals: total & 0xffff,
            diagonals: total >> 16,
            expansions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_recovers_step_counts() {
        for card in [0u64, 1, 7, 300, 65535] {
            for diag in [0u64, 1, 5, 999, 65535] {
                let w = card * CARDINAL + diag * DIAGONAL;
                assert_eq!(pack(w), Some(card as u32 | (diag as u32) << 16));
            }
        }
        assert_eq!(pack(65536 * CARDINAL), None);
    }
}
