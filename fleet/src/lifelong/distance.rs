//! True grid distances to goals: one breadth-first table per goal cell, kept in a cache with a
//! memory bound. On warehouse_large (70,000 cells) a table costs 140 KB, so 10,000 robots with
//! distinct goals cannot all keep one; when the cache is full and every table was used in the
//! current step, a new goal gets no table (callers fall back to the Manhattan distance) rather
//! than evicting a table in use, which would make the cache thrash.

use courier_core::GridMap;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Distance value of a cell that cannot reach the goal.
pub const UNREACHABLE: u16 = u16::MAX;

#[derive(Debug)]
struct Entry {
    table: Arc<[u16]>,
    last_used: u64,
}

/// Per-goal BFS distance tables with a least-recently-used bound.
#[derive(Debug)]
pub struct DistanceCache {
    width: usize,
    passable: Vec<bool>,
    tables: HashMap<u32, Entry>,
    capacity: usize,
    clock: u64,
    queue: VecDeque<u32>,
    /// Tables computed so far (a measure of work).
    pub computed: u64,
    /// Extra cost of a step against a lane's preferred direction (0: plain BFS distances).
    lane_penalty: u16,
}

impl DistanceCache {
    /// A cache for `map` holding at most `max_bytes` of tables (at least one table).
    pub fn new(map: &GridMap, max_bytes: usize) -> Self {
        let cells = map.width * map.height;
        Self {
            width: map.width,
            passable: map.passable.clone(),
            tables: HashMap::new(),
            capacity: (max_bytes / (2 * cells.max(1))).max(1),
            clock: 1,
            queue: VecDeque::new(),
            computed: 0,
            lane_penalty: 0,
        }
    }

    /// Makes distances prefer one-way lanes: even rows run east, odd rows west, even columns
    /// south, odd columns north; a step against its lane costs `1 + penalty`. Soft lanes cut
    /// head-on meetings, which under the rotation model are slow to resolve. Clears the cache.
    pub fn set_lane_penalty(&mut self, penalty: u16) {
        self.lane_penalty = penalty;
        self.tables.clear();
    }

    /// How many tables fit.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// How many tables are held.
    pub fn len(&self) -> usize {
        self.tables.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Starts a new step: tables used before it may be evicted again.
    pub fn tick(&mut self) {
        self.clock += 1;
    }

    /// The table of `goal` if held (marks it used).
    pub fn get(&mut self, goal: u32) -> Option<Arc<[u16]>> {
        let clock = self.clock;
        self.tables.get_mut(&goal).map(|e| {
            e.last_used = clock;
            e.table.clone()
        })
    }

    /// Whether the table of `goal` is held.
    pub fn contains(&self, goal: u32) -> bool {
        self.tables.contains_key(&goal)
    }

    /// The table of `goal`, computing it if needed; `None` when the cache is full of tables
    /// used in this step.
    pub fn ensure(&mut self, goal: u32) -> Option<Arc<[u16]>> {
        if let Some(t) = self.get(goal) {
            return Some(t);
        }
        if self.tables.len() >= self.capacity {
            let victim = self
                .tables
                .iter()
                .filter(|(_, e)| e.last_used < self.clock)
                .min_by_key(|&(&g, e)| (e.last_used, g))
                .map(|(&g, _)| g)?;
            self.tables.remove(&victim);
        }
        let table: Arc<[u16]> = self.bfs(goal).into();
        self.computed += 1;
        self.tables.insert(
            goal,
            Entry {
                table: table.clone(),
                last_used: self.clock,
            },
        );
        Some(table)
    }

    /// Manhattan distance between two cells (a lower bound of the true distance).
    pub fn manhattan(&self, a: u32, b: u32) -> u32 {
        let w = self.width as u32;
        (a % w).abs_diff(b % w) + (a / w).abs_diff(b / w)
    }

    /// Distance from `from` to `goal`: the true one if the table is held, else Manhattan.
    /// Never computes a table. Unreachable pairs give `u32::MAX / 4`.
    pub fn estimate(&self, from: u32, goal: u32) -> u32 {
        match self.tables.get(&goal) {
            Some(e) => match e.table[from as usize] {
                UNREACHABLE => u32::MAX / 4,
                d => d as u32,
            },
            None => self.manhattan(from, goal),
        }
    }

    fn bfs(&mut self, goal: u32) -> Vec<u16> {
        if self.lane_penalty > 0 {
            return self.lanes(goal);
        }
        let cells = self.passable.len();
        let mut dist = vec![UNREACHABLE; cells];
        if (goal as usize) >= cells || !self.passable[goal as usize] {
            return dist;
        }
        let w = self.width;
        let h = cells / w;
        dist[goal as usize] = 0;
        self.queue.clear();
        self.queue.push_back(goal);
        while let Some(c) = self.queue.pop_front() {
            let c = c as usize;
            let d = dist[c].saturating_add(1).min(UNREACHABLE - 1);
            let (x, y) = (c % w, c / w);
            let mut visit = |n: usize| {
                if self.passable[n] && dist[n] == UNREACHABLE {
                    dist[n] = d;
                    self.queue.push_back(n as u32);
                }
            };
            if x + 1 < w {
                visit(c + 1);
            }
            if x > 0 {
                visit(c - 1);
            }
            if y + 1 < h {
                visit(c + w);
            }
            if y > 0 {
                visit(c - w);
            }
        }
        dist
    }

    /// Cost of the step from `a` to its neighbour `b` under the lanes.
    fn step_cost(&self, a: usize, b: usize) -> u16 {
        let w = self.width;
        let (ax, ay) = (a % w, a / w);
        let against = if b == a + 1 {
            ay % 2 == 1
        } else if b + 1 == a {
            ay % 2 == 0
        } else if b == a + w {
            ax % 2 == 1
        } else {
            ax % 2 == 0
        };
        1 + if against { self.lane_penalty } else { 0 }
    }

    /// Dijkstra toward `goal` with lane costs: `dist[c]` is the cost from `c` to `goal`.
    fn lanes(&self, goal: u32) -> Vec<u16> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let cells = self.passable.len();
        let mut dist = vec![UNREACHABLE; cells];
        if (goal as usize) >= cells || !self.passable[goal as usize] {
            return dist;
        }
        let w = self.width;
        let h = cells / w;
        dist[goal as usize] = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0u16, goal)));
        while let Some(Reverse((d, c))) = heap.pop() {
            let c = c as usize;
            if d > dist[c] {
                continue;
            }
            let (x, y) = (c % w, c / w);
            let mut nbs = [usize::MAX; 4];
            if x + 1 < w {
                nbs[0] = c + 1;
            }
            if x > 0 {
                nbs[1] = c - 1;
            }
            if y + 1 < h {
                nbs[2] = c + w;
            }
            if y > 0 {
                nbs[3] = c - w;
            }
            for n in nbs {
                if n == usize::MAX || !self.passable[n] {
                    continue;
                }
                // A robot at n steps n → c.
                let nd = d.saturating_add(self.step_cost(n, c)).min(UNREACHABLE - 1);
                if nd < dist[n] {
                    dist[n] = nd;
                    heap.push(Reverse((nd, n as u32)));
                }
            }
        }
        dist
    }
}
