//! Traffic-flow guidance (after Chen et al., "Traffic Flow Optimisation for Lifelong
//! Multi-Agent Path Finding", AAAI 2024): when a robot gets a new goal it plans a *guide path*
//! with A* on costs that grow with the traffic already planned by the other robots — a step
//! against the flow of other guide paths (contraflow) and a step into a cell many guide paths
//! cross cost extra — and PIBT then follows the heuristic "steps along the guide path", so that
//! robots spread over parallel corridors and opposing streams stop meeting head on.
//!
//! The heuristic of robot `i` is a per-robot table: a cell on the guide path holds the steps
//! left along the path; any other cell holds the BFS distance to the path plus the steps left
//! from where it joins. Path cells are fixed (not relaxed through shortcuts), so a robot on its
//! path keeps following it. Flows count the not yet travelled part of every guide path.

use super::motion::neighbor;
use crate::distance::{Table, UNREACHABLE};
use crate::mapf::Grid;
use courier_core::GridMap;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;

/// Cost unit of the guide-path search: one step = `UNIT`.
const UNIT: u64 = 16;

/// Guide paths, their flows and the per-robot heuristic tables.
#[derive(Debug)]
pub struct Guidance {
    map: GridMap,
    grid: Grid,
    /// Contraflow weight in 1/16 step per opposing guide path.
    contra: u64,
    /// Vertex congestion weight in 1/16 step per guide path through the cell.
    vertex: u64,
    /// Guide paths crossing each directed edge `cell * 4 + dir` (untravelled parts only).
    flow: Vec<u16>,
    /// Guide paths through each cell (untravelled parts only).
    vflow: Vec<u16>,
    /// Per robot: goal, guide path, index of the robot's position on it, heuristic table.
    robots: Vec<Option<Guide>>,
    held: usize,
    max_tables: usize,
    // Scratch of the searches.
    g: Vec<u64>,
    seen: Vec<u32>,
    parent: Vec<u32>,
    stamp: u32,
}

#[derive(Debug)]
struct Guide {
    goal: u32,
    path: Vec<u32>,
    at: usize,
    table: Arc<Table>,
}

impl Guidance {
    /// `grid` is `map`'s graph. `max_bytes` bounds the memory of the per-robot tables; robots
    /// beyond it plan with the plain distance tables.
    pub fn new(
        map: &GridMap,
        grid: &Grid,
        agents: usize,
        contra: f64,
        vertex: f64,
        max_bytes: usize,
    ) -> Self {
        let cells = map.width * map.height;
        let per = Table::bytes(grid, false);
        Self {
            map: map.clone(),
            grid: grid.clone(),
            contra: (contra.max(0.0) * UNIT as f64).round() as u64,
            vertex: (vertex.max(0.0) * UNIT as f64).round() as u64,
            flow: vec![0; 4 * cells],
            vflow: vec![0; cells],
            robots: (0..agents).map(|_| None).collect(),
            held: 0,
            max_tables: max_bytes / per.max(1),
            g: vec![0; cells],
            seen: vec![0; cells],
            parent: vec![u32::MAX; cells],
            stamp: 0,
        }
    }

    /// The heuristic table of robot `i` if it holds one for `goal`.
    pub fn table(&self, i: usize, goal: u32) -> Option<Arc<Table>> {
        self.robots[i]
            .as_ref()
            .filter(|r| r.goal == goal)
            .map(|r| r.table.clone())
    }

    /// True if robot `i` needs a new guide path for `goal` (none held, or one for another goal).
    pub fn needs(&self, i: usize, goal: Option<u32>) -> bool {
        match (&self.robots[i], goal) {
            (Some(r), Some(g)) => r.goal != g,
            (None, Some(_)) => true,
            (_, None) => false,
        }
    }

    /// Drops robot `i`'s guide path (its goal changed or it has none).
    pub fn release(&mut self, i: usize) {
        if let Some(r) = self.robots[i].take() {
            self.held -= 1;
            for k in r.at..r.path.len() {
                self.remove_cell(&r.path, k);
            }
        }
    }

    fn remove_cell(&mut self, path: &[u32], k: usize) {
        let v = path[k] as usize;
        self.vflow[v] = self.vflow[v].saturating_sub(1);
        if k + 1 < path.len()
            && let Some(d) = super::motion::direction_to(self.map.width, path[k], path[k + 1])
        {
            let e = v * 4 + d as usize;
            self.flow[e] = self.flow[e].saturating_sub(1);
        }
    }

    /// Advances robot `i` along its guide path to `loc` (if `loc` is a few cells ahead), so
    /// that travelled cells stop counting as traffic.
    pub fn advance(&mut self, i: usize, loc: u32) {
        let Some(r) = self.robots[i].as_mut() else {
            return;
        };
        let end = (r.at + 4).min(r.path.len());
        let Some(k) = (r.at..end).find(|&k| r.path[k] == loc) else {
            return;
        };
        let from = r.at;
        r.at = k;
        let path = std::mem::take(&mut r.path);
        for j in from..k {
            self.remove_cell(&path, j);
        }
        if let Some(r) = self.robots[i].as_mut() {
            r.path = path;
        }
    }

    /// Plans robot `i`'s guide path from `from` to `goal` (with `base`, the goal's BFS table,
    /// as the A* heuristic) and returns its heuristic table; `None` when the memory bound is
    /// reached or the goal is unreachable.
    pub fn update(&mut self, i: usize, from: u32, goal: u32, base: &Table) -> Option<Arc<Table>> {
        self.release(i);
        if self.held >= self.max_tables || base.get(from) == UNREACHABLE {
            return None;
        }
        let path = self.search(from, goal, base)?;
        for k in 0..path.len() {
            let v = path[k] as usize;
            self.vflow[v] = self.vflow[v].saturating_add(1);
            if k + 1 < path.len()
                && let Some(d) = super::motion::direction_to(self.map.width, path[k], path[k + 1])
            {
                let e = v * 4 + d as usize;
                self.flow[e] = self.flow[e].saturating_add(1);
            }
        }
        let table = Arc::new(self.heuristic(&path));
        self.robots[i] = Some(Guide {
            goal,
            path,
            at: 0,
            table: table.clone(),
        });
        self.held += 1;
        Some(table)
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// A* from `from` to `goal` on traffic-weighted costs.
    fn search(&mut self, from: u32, goal: u32, base: &Table) -> Option<Vec<u32>> {
        let stamp = self.next_stamp();
        let h = |v: u32| base.get(v) as u64 * UNIT;
        let mut open = BinaryHeap::new();
        self.g[from as usize] = 0;
        self.seen[from as usize] = stamp;
        self.parent[from as usize] = u32::MAX;
        open.push(Reverse((h(from), 0u64, from)));
        while let Some(Reverse((_, gv, v))) = open.pop() {
            if gv > self.g[v as usize] {
                continue;
            }
            if v == goal {
                let mut path = vec![goal];
                let mut c = goal;
                while self.parent[c as usize] != u32::MAX {
                    c = self.parent[c as usize];
                    path.push(c);
                }
                path.reverse();
                return Some(path);
            }
            for d in 0..4u8 {
                let Some(u) = neighbor(&self.map, v, d) else {
                    continue;
                };
                if base.get(u) == UNREACHABLE {
                    continue;
                }
                let back = u as usize * 4 + ((d + 2) % 4) as usize;
                let cost = UNIT
                    + self.contra * self.flow[back] as u64
                    + self.vertex * self.vflow[u as usize] as u64;
                let gu = gv + cost;
                let ui = u as usize;
                if self.seen[ui] != stamp || gu < self.g[ui] {
                    self.seen[ui] = stamp;
                    self.g[ui] = gu;
                    self.parent[ui] = v;
                    open.push(Reverse((gu + h(u), gu, u)));
                }
            }
        }
        None
    }

    /// The guide heuristic of `path` (see the module docs): a breadth-first search from all
    /// path cells at once, each starting at its steps left, merged in order of value.
    fn heuristic(&mut self, path: &[u32]) -> Table {
        let cells = self.map.width * self.map.height;
        let mut d = vec![UNREACHABLE; cells];
        let last = path.len() - 1;
        // Sources in increasing value: the goal (0) first. A cell the path visits twice keeps
        // its later (smaller) value.
        let mut sources: Vec<(u32, u32)> = Vec::with_capacity(path.len());
        for (k, &v) in path.iter().enumerate().rev() {
            let val = (last - k) as u32;
            if d[v as usize] == UNREACHABLE {
                d[v as usize] = val;
                sources.push((val, v));
            }
        }
        let mut queue: VecDeque<(u32, u32)> = VecDeque::new();
        let mut s = 0;
        loop {
            let take_source = match (sources.get(s), queue.front()) {
                (Some(a), Some(b)) => a.0 <= b.0,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (val, v) = if take_source {
                s += 1;
                sources[s - 1]
            } else {
                queue.pop_front().expect("front() was Some just above")
            };
            for dir in 0..4u8 {
                if let Some(u) = neighbor(&self.map, v, dir)
                    && d[u as usize] == UNREACHABLE
                {
                    d[u as usize] = val + 1;
                    queue.push_back((val + 1, u));
                }
            }
        }
        Table::from_cells(&self.grid, &d)
    }
}
