//! A contraction hierarchy (Geisberger et al. 2008) over the 8-connected grid graph: a
//! precomputed speed-up that stays exactly optimal and, unlike jump point search, does not
//! care how cluttered the map is (random obstacle maps are JPS's worst case).
//!
//! Preprocessing contracts the passable cells one by one (lazy edge-difference order plus the
//! number of contracted neighbours, which spreads contraction evenly over the map); contracting
//! `v` adds a shortcut `u – x` for each neighbour pair unless a witness search (a bounded
//! Dijkstra that avoids `v`) finds a path no longer than `u – v – x`. A bounded witness search
//! can only add needless shortcuts, never drop a needed one, so exactness does not depend on
//! the bounds. A query is a bidirectional Dijkstra over the upward edges (the graph is
//! undirected, so both sides use the same edges) with stall-on-demand; the meeting path is
//! unpacked through the shortcuts' middle nodes into cells.
//!
//! Costs are integers: a cardinal step is 2³², a diagonal √2 · 2³² rounded; the rounding (under
//! 1.2e-10 per step) is far below the gap between distinct octile lengths, so the order of path
//! costs is that of exact arithmetic. The reported length is counted from the unpacked cells.

use super::{GridPlan, GridPlanner, check_endpoints, count_steps};
use crate::error::{PlanningError, Result};
use courier_core::GridMap;
use courier_core::path::Cell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(crate) const CARDINAL: u64 = 1 << 32;
pub(crate) const DIAGONAL: u64 = 6_074_001_000; // round(√2 · 2³²)
pub(crate) const NONE: u32 = u32::MAX;
/// Nodes a witness search may settle before giving up (then the shortcut is added).
const WITNESS_SETTLE_LIMIT: usize = 120;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub to: u32,
    /// The contracted node this shortcut bypasses, `NONE` for a grid step.
    pub mid: u32,
    pub w: u64,
}

/// Preprocessing figures, reported beside the query times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChStats {
    /// Passable cells (graph nodes).
    pub nodes: usize,
    /// Upward edges kept for queries (grid steps and shortcuts).
    pub up_edges: usize,
    /// Shortcuts added during contraction.
    pub shortcuts: usize,
    /// Bytes of the query structures (upward graph, node maps, per-query arrays).
    pub memory_bytes: usize,
    /// Grid steps over all upward edges, stored unpacked (one byte each) so a path is
    /// unpacked by copying moves rather than by recursing through shortcuts.
    pub unpacked_moves: usize,
}

/// One side of the bidirectional query: generation-stamped distances and parents.
#[derive(Debug, Clone)]
struct Side {
    dist: Vec<u64>,
    parent: Vec<u32>,
    stamp: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Side {
    fn new(n: usize) -> Self {
        Self {
            dist: vec![u64::MAX; n],
            parent: vec![NONE; n],
            stamp: vec![0; n],
            heap: BinaryHeap::new(),
        }
    }
    #[inline]
    fn get(&self, v: usize, epoch: u32) -> u64 {
        if self.stamp[v] == epoch {
            self.dist[v]
        } else {
            u64::MAX
        }
    }
    #[inline]
    fn set(&mut self, v: usize, d: u64, parent: u32, epoch: u32) {
        self.stamp[v] = epoch;
        self.dist[v] = d;
        self.parent[v] = parent;
    }
}

/// Exact grid planner on a contraction hierarchy; build once per map (seconds), then query.
#[derive(Debug, Clone)]
pub struct ContractionHierarchy {
    pub(crate) map: GridMap,
    /// Cell index `y * width + x` → node id (`NONE` if blocked); ids are contraction ranks.
    pub(crate) node_of: Vec<u32>,
    /// Node id → cell index.
    cell_of: Vec<u32>,
    /// Upward edges of node `v`: `up[first[v]..first[v + 1]]`, to nodes of higher rank.
    pub(crate) first: Vec<u32>,
    pub(crate) up: Vec<Edge>,
    /// Per upward edge: its lower end (the node holding it).
    owner: Vec<u32>,
    /// Per upward shortcut `lo → hi` via `mid`: the indices of the edges `mid → lo` and
    /// `mid → hi` (both held by `mid`, the lowest of the three); unused for grid steps.
    child: Vec<[u32; 2]>,
    /// The moves of upward edge `e` (walked upwards): `moves[move_at[e]..move_at[e + 1]]`,
    /// each `(dy + 1) · 3 + (dx + 1)`.
    move_at: Vec<usize>,
    moves: Vec<u8>,
    fwd: Side,
    bwd: Side,
    epoch: u32,
    stats: ChStats,
}

impl ContractionHierarchy {
    /// Builds the hierarchy for `map` (all passable cells, every legal MovingAI move).
    pub fn new(map: &GridMap) -> Result<Self> {
        if map.width.saturating_mul(map.height) >= NONE as usize {
            return Err(PlanningError::InvalidInput {
                what: "grid map".into(),
                reason: format!("{}x{} cells is too large", map.width, map.height),
            });
        }
        let (w, h) = (map.width as i64, map.height as i64);
        let mut node_of = vec![NONE; map.width * map.height];
        let mut cell_of = Vec::new();
        for (i, &p) in map.passable.iter().enumerate() {
            if p {
                node_of[i] = cell_of.len() as u32;
                cell_of.push(i as u32);
            }
        }
        let n = cell_of.len();
        let mut adj: Vec<Vec<Edge>> = vec![Vec::with_capacity(8); n];
        for (v, &c) in cell_of.iter().enumerate() {
            let (x, y) = (i64::from(c) % w, i64::from(c) / w);
            for dy in -1..=1i64 {
                for dx in -1..=1i64 {
                    let (nx, ny) = (x + dx, y + dy);
                    if (dx, dy) == (0, 0) || nx < 0 || ny < 0 || nx >= w || ny >= h {
                        continue;
                    }
                    if !map.is_passable(nx, ny) {
                        continue;
                    }
                    let diag = dx != 0 && dy != 0;
                    if diag && !(map.is_passable(x + dx, y) && map.is_passable(x, y + dy)) {
                        continue;
                    }
                    adj[v].push(Edge {
                        to: node_of[(ny * w + nx) as usize],
                        mid: NONE,
                        w: if diag { DIAGONAL } else { CARDINAL },
                    });
                }
            }
        }
        let mut c = Contractor::new(adj);
        let (rank, ups, shortcuts) = c.run();
        // Renumber the nodes by rank: the top of the hierarchy, which every query visits,
        // then sits together in memory, and comparing ranks is comparing ids.
        let mut by_rank = vec![0u32; n];
        for (v, &r) in rank.iter().enumerate() {
            by_rank[r as usize] = v as u32;
        }
        let renum = |v: u32| if v == NONE { NONE } else { rank[v as usize] };
        let mut first = Vec::with_capacity(n + 1);
        let mut up = Vec::new();
        for &v in &by_rank {
            first.push(up.len() as u32);
            up.extend(ups[v as usize].iter().map(|e| Edge {
                to: renum(e.to),
                mid: renum(e.mid),
                w: e.w,
            }));
        }
        first.push(up.len() as u32);
        let mut owner = vec![0u32; up.len()];
        for v in 0..n {
            for o in &mut owner[first[v] as usize..first[v + 1] as usize] {
                *o = v as u32;
            }
        }
        let find = |lo: u32, hi: u32| {
            let (a, b) = (first[lo as usize] as usize, first[lo as usize + 1] as usize);
            up[a..b]
                .iter()
                .position(|e| e.to == hi)
                .map_or(NONE, |k| (a + k) as u32)
        };
        let child: Vec<[u32; 2]> = up
            .iter()
            .zip(&owner)
            .map(|(e, &lo)| {
                if e.mid == NONE {
                    [NONE, NONE]
                } else {
                    [find(e.mid, lo), find(e.mid, e.to)]
                }
            })
            .collect();
        let cell_of: Vec<u32> = by_rank.iter().map(|&v| cell_of[v as usize]).collect();
        for id in node_of.iter_mut() {
            *id = renum(*id);
        }
        let memory_bytes = node_of.len() * 4
            + cell_of.len() * 4
            + first.len() * 4
            + up.len() * (std::mem::size_of::<Edge>() + 4 + 8)
            + 2 * n * (8 + 4 + 4);
        let stats = ChStats {
            nodes: n,
            up_edges: up.len(),
            shortcuts,
            memory_bytes,
            unpacked_moves: 0,
        };
        let mut ch = Self {
            map: map.clone(),
            node_of,
            cell_of,
            first,
            up,
            owner,
            child,
            move_at: Vec::new(),
            moves: Vec::new(),
            fwd: Side::new(n),
            bwd: Side::new(n),
            epoch: 0,
            stats,
        };
        ch.store_moves();
        Ok(ch)
    }

    /// Unpacks every upward edge once into `moves`.
    fn store_moves(&mut self) {
        let mut move_at = Vec::with_capacity(self.up.len() + 1);
        let mut moves = Vec::new();
        let mut cells = Vec::new();
        for e in 0..self.up.len() {
            move_at.push(moves.len());
            cells.clear();
            cells.push(self.cell(self.owner[e]));
            self.unpack_recursive(e as u32, true, &mut cells);
            moves.extend(cells.windows(2).map(|w| {
                let dx = i64::from(w[1].x) - i64::from(w[0].x);
                let dy = i64::from(w[1].y) - i64::from(w[0].y);
                ((dy + 1) * 3 + dx + 1) as u8
            }));
        }
        move_at.push(moves.len());
        moves.shrink_to_fit();
        self.stats.unpacked_moves = moves.len();
        self.stats.memory_bytes += moves.len() + move_at.len() * 8;
        self.move_at = move_at;
        self.moves = moves;
    }

    /// Preprocessing figures (node, edge and shortcut counts, memory).
    pub fn stats(&self) -> ChStats {
        self.stats
    }

    #[inline]
    pub(crate) fn ups(&self, v: usize) -> &[Edge] {
        &self.up[self.first[v] as usize..self.first[v + 1] as usize]
    }

    pub(crate) fn cell(&self, v: u32) -> Cell {
        let c = self.cell_of[v as usize] as usize;
        Cell::new((c % self.map.width) as u32, (c / self.map.width) as u32)
    }

    /// Appends the cells of edge `a → b` (excluding `a`) by unpacking shortcuts.
    pub(crate) fn unpack(&self, a: u32, b: u32, out: &mut Vec<Cell>) {
        // Ids are contraction ranks: the lower id holds the edge.
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let (f, l) = (
            self.first[lo as usize] as usize,
            self.first[lo as usize + 1] as usize,
        );
        if let Some(k) = self.up[f..l].iter().position(|e| e.to == hi) {
            self.unpack_edge((f + k) as u32, a == lo, out);
        }
    }

    /// Appends the cells of upward edge `e` (excluding the end it is walked from, which must
    /// be the last cell of `out`), walked upwards (from its owner to `to`) when `forward`,
    /// else downwards.
    #[inline]
    pub(crate) fn unpack_edge(&self, e: u32, forward: bool, out: &mut Vec<Cell>) {
        let ms = &self.moves[self.move_at[e as usize]..self.move_at[e as usize + 1]];
        let Some(&c) = out.last() else { return };
        let (mut x, mut y) = (i64::from(c.x), i64::from(c.y));
        let mut step = |m: u8| {
            x += i64::from(m % 3) - 1;
            y += i64::from(m / 3) - 1;
            out.push(Cell::new(x as u32, y as u32));
        };
        if forward {
            ms.iter().for_each(|&m| step(m));
        } else {
            ms.iter().rev().for_each(|&m| step(8 - m));
        }
    }

    /// [`Self::unpack_edge`] by recursing through the shortcuts' halves (builds `moves`).
    fn unpack_recursive(&self, e: u32, forward: bool, out: &mut Vec<Cell>) {
        let mut stack = vec![(e, forward)];
        while let Some((e, fwd)) = stack.pop() {
            let ei = e as usize;
            if self.up[ei].mid == NONE {
                out.push(self.cell(if fwd { self.up[ei].to } else { self.owner[ei] }));
            } else {
                // lo → hi is (mid → lo) backwards then (mid → hi) forwards; the stack is LIFO.
                let [to_lo, to_hi] = self.child[ei];
                if fwd {
                    stack.push((to_hi, true));
                    stack.push((to_lo, false));
                } else {
                    stack.push((to_lo, true));
                    stack.push((to_hi, false));
                }
            }
        }
    }

    /// One step of one side's search; returns false when that side is finished.
    fn step(&mut self, forward: bool, best: &mut (u64, u32)) -> bool {
        let epoch = self.epoch;
        let (me, other) = if forward {
            (&mut self.fwd, &self.bwd)
        } else {
            (&mut self.bwd, &self.fwd)
        };
        let Some(Reverse((d, v))) = me.heap.pop() else {
            return false;
        };
        if d >= best.0 {
            me.heap.clear();
            return false;
        }
        let vi = v as usize;
        if d > me.get(vi, epoch) {
            return true; // stale entry
        }
        let edges = &self.up[self.first[vi] as usize..self.first[vi + 1] as usize];
        // Stall-on-demand: a higher neighbour reaching v more cheaply proves v's distance here
        // is not a shortest one, so nothing above v needs relaxing from it.
        if edges
            .iter()
            .any(|e| me.get(e.to as usize, epoch).saturating_add(e.w) < d)
        {
            return true;
        }
        let od = other.get(vi, epoch);
        if od != u64::MAX && d + od < best.0 {
            *best = (d + od, v);
        }
        for e in edges {
            let nd = d + e.w;
            let t = e.to as usize;
            if nd < me.get(t, epoch) {
                me.set(t, nd, v, epoch);
                me.heap.push(Reverse((nd, e.to)));
            }
        }
        true
    }
}

impl GridPlanner for ContractionHierarchy {
    fn plan(&mut self, start: Cell, goal: Cell) -> Result<GridPlan> {
        check_endpoints(&self.map, start, goal)?;
        let idx = |c: Cell| self.node_of[c.y as usize * self.map.width + c.x as usize];
        let (s, t) = (idx(start), idx(goal));
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            for side in [&mut self.fwd, &mut self.bwd] {
                side.stamp.iter_mut().for_each(|x| *x = 0);
            }
            self.epoch = 1;
        }
        let epoch = self.epoch;
        self.fwd.heap.clear();
        self.bwd.heap.clear();
        self.fwd.set(s as usize, 0, NONE, epoch);
        self.bwd.set(t as usize, 0, NONE, epoch);
        self.fwd.heap.push(Reverse((0, s)));
        self.bwd.heap.push(Reverse((0, t)));
        let mut best = (u64::MAX, NONE);
        let mut expansions = 0u64;
        let (mut f_on, mut b_on) = (true, true);
        while f_on || b_on {
            // Alternate by smaller key, so both frontiers rise together.
            let fk = self.fwd.heap.peek().map_or(u64::MAX, |r| r.0.0);
            let bk = self.bwd.heap.peek().map_or(u64::MAX, |r| r.0.0);
            let forward = f_on && (!b_on || fk <= bk);
            let on = self.step(forward, &mut best);
            expansions += 1;
            if forward {
                f_on = on;
            } else {
                b_on = on;
            }
        }
        let (_, meet) = best;
        if meet == NONE {
            return Err(PlanningError::Unreachable {
                start: (start.x as usize, start.y as usize),
                goal: (goal.x as usize, goal.y as usize),
            });
        }
        // Upward chain s → meet (reversed from the parents), then meet → t down.
        let mut chain = vec![meet];
        let mut v = meet;
        while self.fwd.parent[v as usize] != NONE {
            v = self.fwd.parent[v as usize];
            chain.push(v);
        }
        chain.reverse();
        let mut v = meet;
        while self.bwd.parent[v as usize] != NONE {
            v = self.bwd.parent[v as usize];
            chain.push(v);
        }
        let mut cells = vec![start];
        for p in chain.windows(2) {
            self.unpack(p[0], p[1], &mut cells);
        }
        let (cardinals, diagonals) = count_steps(&self.map, &cells)?;
        Ok(GridPlan {
            cells,
            cardinals,
            diagonals,
            expansions,
        })
    }
}

/// The contraction itself: a dynamic undirected graph of the not yet contracted nodes.
struct Contractor {
    adj: Vec<Vec<Edge>>,
    contracted: Vec<bool>,
    deleted_neighbours: Vec<u32>,
    /// Hierarchy depth below each node: 1 + the deepest contracted neighbour.
    level: Vec<u32>,
    // Witness search scratch, generation-stamped.
    dist: Vec<u64>,
    stamp: Vec<u32>,
    epoch: u32,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Contractor {
    fn new(adj: Vec<Vec<Edge>>) -> Self {
        let n = adj.len();
        Self {
            adj,
            contracted: vec![false; n],
            deleted_neighbours: vec![0; n],
            level: vec![0; n],
            dist: vec![u64::MAX; n],
            stamp: vec![0; n],
            epoch: 0,
            heap: BinaryHeap::new(),
        }
    }

    /// Shortest distances from `src` avoiding `avoid`, settling at most the limit and nothing
    /// beyond `bound`; read with `witness_dist`.
    fn witness(&mut self, src: u32, avoid: u32, bound: u64) {
        self.epoch += 1;
        let epoch = self.epoch;
        self.heap.clear();
        self.stamp[src as usize] = epoch;
        self.dist[src as usize] = 0;
        self.heap.push(Reverse((0, src)));
        let mut settled = 0;
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            if d > bound || settled >= WITNESS_SETTLE_LIMIT {
                break;
            }
            settled += 1;
            for e in &self.adj[v as usize] {
                let t = e.to as usize;
                if e.to == avoid || self.contracted[t] {
                    continue;
                }
                let nd = d + e.w;
                if self.stamp[t] != epoch || nd < self.dist[t] {
                    self.stamp[t] = epoch;
                    self.dist[t] = nd;
                    self.heap.push(Reverse((nd, e.to)));
                }
            }
        }
    }

    fn witness_dist(&self, v: u32) -> u64 {
        if self.stamp[v as usize] == self.epoch {
            self.dist[v as usize]
        } else {
            u64::MAX
        }
    }

    /// The shortcuts contracting `v` needs now: (u, x, weight) with u before x in `adj[v]`.
    fn shortcuts(&mut self, v: u32, out: &mut Vec<(u32, u32, u64)>) {
        out.clear();
        let nbrs = std::mem::take(&mut self.adj[v as usize]);
        for (i, a) in nbrs.iter().enumerate() {
            let rest = &nbrs[i + 1..];
            let Some(bound) = rest.iter().map(|b| a.w + b.w).max() else {
                continue;
            };
            self.witness(a.to, v, bound);
            for b in rest {
                if self.witness_dist(b.to) > a.w + b.w {
                    out.push((a.to, b.to, a.w + b.w));
                }
            }
        }
        self.adj[v as usize] = nbrs;
    }

    fn priority(&mut self, v: u32, scratch: &mut Vec<(u32, u32, u64)>) -> i64 {
        self.shortcuts(v, scratch);
        2 * scratch.len() as i64 - 2 * self.adj[v as usize].len() as i64
            + i64::from(self.deleted_neighbours[v as usize])
            + i64::from(self.level[v as usize])
    }

    /// Contracts every node; returns each node's rank, its upward edges and the number of
    /// shortcuts added.
    fn run(&mut self) -> (Vec<u32>, Vec<Vec<Edge>>, usize) {
        let n = self.adj.len();
        let mut scratch = Vec::new();
        let mut queue: BinaryHeap<Reverse<(i64, u32)>> = (0..n as u32)
            .map(|v| Reverse((self.priority(v, &mut scratch), v)))
            .collect();
        let mut rank = vec![0u32; n];
        let mut ups = vec![Vec::new(); n];
        let mut next_rank = 0u32;
        let mut added = 0usize;
        while let Some(Reverse((p, v))) = queue.pop() {
            let vi = v as usize;
            if self.contracted[vi] {
                continue;
            }
            // Lazy update: re-evaluate; if v is no longer the cheapest, put it back.
            let now = self.priority(v, &mut scratch);
            if now > p && queue.peek().is_some_and(|Reverse((top, _))| now > *top) {
                queue.push(Reverse((now, v)));
                continue;
            }
            // `scratch` holds v's shortcuts from the evaluation just made.
            for &(a, b, w) in &scratch {
                added += usize::from(self.add_edge(a, b, w, v));
                self.add_edge(b, a, w, v);
            }
            self.contracted[vi] = true;
            rank[vi] = next_rank;
            next_rank += 1;
            let nbrs = std::mem::take(&mut self.adj[vi]);
            for e in &nbrs {
                let t = e.to as usize;
                self.adj[t].retain(|x| x.to != v);
                self.deleted_neighbours[t] += 1;
                self.level[t] = self.level[t].max(self.level[vi] + 1);
            }
            // Neighbours' priorities are refreshed lazily when popped: refreshing them eagerly
            // made preprocessing of a 512×512 random map take over 13 min CPU (vs 39 s).
            ups[vi] = nbrs;
        }
        (rank, ups, added)
    }

    /// Adds edge `a → b` of weight `w` via `mid`, or lowers an existing one; returns whether a
    /// new edge was made.
    fn add_edge(&mut self, a: u32, b: u32, w: u64, mid: u32) -> bool {
        let list = &mut self.adj[a as usize];
        if let Some(e) = list.iter_mut().find(|e| e.to == b) {
            if w < e.w {
                e.w = w;
                e.mid = mid;
            }
            false
        } else {
            list.push(Edge { to: b, mid, w });
            true
        }
    }
}
