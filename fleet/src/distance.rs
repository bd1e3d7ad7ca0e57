//! Per-goal distance tables over a [`Grid`]: the one place where fleet computes and stores
//! "how far is every cell from this goal". One-shot MAPF keeps one lazily filled table per agent
//! ([`DistanceTable`]); lifelong operation keeps a memory-bounded cache of tables keyed by goal
//! cell ([`DistanceCache`], with a Manhattan fallback for goals that get no table).
//!
//! A table is a full BFS from the goal (the grid is undirected, so the distance to the goal
//! equals the distance from it). It holds the passable cells only ([`Grid::slots`]), as `u16`
//! when every distance fits (fewer than 65,535 passable cells), else as `u32`: 10,000 agents
//! on warehouse-20-40-10-2-2 (38,756 of its 55,760 cells passable) take 0.78 GB, where tables
//! over every cell as `u32` took 2.2 GB. Measured against tables over every cell (`bench
//! mapf --no-refine --cpu-clock`, 1000 agents, scens 1–5): first solution 0.27 s CPU against
//! 0.24 s on warehouse-20-40-10-2-2 (the extra slot lookup), peak RSS 92 MB against 125 MB;
//! with brc202d's 254,930 cells in the run (it and warehouse-20-40-10-2-2, scens 1–3) peak
//! RSS 117 MB against 528 MB.
//!
//! ```
//! use courier_core::maps::GridMap;
//! use courier_fleet::distance::{DistanceTable, UNREACHABLE};
//! use courier_fleet::mapf::Grid;
//! let map = GridMap::new(3, 2, vec![true, false, true, true, true, true]);
//! let grid = Grid::new(&map).unwrap();
//! let dist = DistanceTable::new(&grid, vec![2]);
//! assert_eq!(dist.get(0, 0), 4); // (0,0) → (0,1) → (1,1) → (2,1) → (2,0)
//! assert_eq!(dist.get(0, 1), UNREACHABLE); // blocked cell
//! ```

use crate::mapf::{Cell, Grid};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Distance meaning "unreachable" (also returned for blocked cells).
pub const UNREACHABLE: u32 = u32::MAX;

/// A finite stand-in for [`UNREACHABLE`] where distances are added up as costs: a few of
/// them still sum without overflow, and any of them outweighs every real distance.
pub const FAR: u32 = u32::MAX / 4;

/// A table's distance as a step cost: [`UNREACHABLE`] becomes [`FAR`].
pub fn cost_or_far(d: u32) -> u64 {
    if d == UNREACHABLE {
        FAR as u64
    } else {
        d as u64
    }
}

/// A distance value a table can hold: `u16` (compact) or `u32`.
trait Distance: Copy + Eq {
    const INF: Self;
    const ZERO: Self;
    /// One more step (never reaching [`Self::INF`]).
    fn succ(self) -> Self;
}

impl Distance for u16 {
    const INF: Self = u16::MAX;
    const ZERO: Self = 0;
    #[inline]
    fn succ(self) -> Self {
        // Cannot overflow: `Table::bfs` picks u16 only for fewer than u16::MAX passable cells.
        self + 1
    }
}

impl Distance for u32 {
    const INF: Self = u32::MAX;
    const ZERO: Self = 0;
    #[inline]
    fn succ(self) -> Self {
        // Grid cell ids are below u32::MAX, so a BFS distance is too.
        self + 1
    }
}

/// Breadth-first distances from the nearest of `sources` to every passable cell, indexed by
/// [`Grid::slots`] (`INF` where there is no path, and in the blocked cells' slot). Blocked
/// or repeated sources are skipped.
fn bfs<T: Distance>(grid: &Grid, sources: &[Cell]) -> Vec<T> {
    let slots = grid.slots();
    let mut d = vec![T::INF; grid.passable_count() + 1];
    // A queue of fixed size (each passable cell enters at most once) written by index: with no
    // growth call in the loop, the loop state stays in registers (measured against
    // `Vec::push`: first solution on warehouse-20-40-10-2-2, 1000 agents, 0.28 → 0.22 s CPU).
    let mut queue: Vec<Cell> = vec![0; grid.passable_count()];
    let mut tail = 0;
    for &s in sources {
        if grid.is_passable(s) && d[slots[s as usize] as usize] == T::INF {
            d[slots[s as usize] as usize] = T::ZERO;
            queue[tail] = s;
            tail += 1;
        }
    }
    let mut head = 0;
    while head < tail {
        let v = queue[head];
        head += 1;
        let dv = d[slots[v as usize] as usize].succ();
        for &u in grid.neighbors(v) {
            let su = slots[u as usize] as usize;
            if d[su] == T::INF {
                d[su] = dv;
                queue[tail] = u;
                tail += 1;
            }
        }
    }
    d
}

/// Shortest distances between single pairs of cells: A* under the Manhattan heuristic,
/// which on a 4-connected grid with unit steps is consistent and changes by one per step, so
/// a successor's f is the current f or f + 2 and the open list is two stacks. The scratch
/// arrays are stamped per query, so a query allocates nothing. Random pairs (5000, this
/// 2-core machine beside two other runs): brc202d (LoRR GAME, a maze) 191 µs a pair against
/// 690 µs for a full table, warehouse_large 3.5 against 522, Paris_1_256 71 against 845.
#[derive(Debug, Default)]
pub struct PairDistance {
    g: Vec<u32>,
    stamp: Vec<u32>,
    query: u32,
    now: Vec<Cell>,
    later: Vec<Cell>,
}

impl PairDistance {
    /// The distance from `a` to `b` ([`UNREACHABLE`] if there is no path or either is
    /// blocked).
    pub fn get(&mut self, grid: &Grid, a: Cell, b: Cell) -> u32 {
        if !grid.is_passable(a) || !grid.is_passable(b) {
            return UNREACHABLE;
        }
        if self.g.len() != grid.size() {
            self.g = vec![0; grid.size()];
            self.stamp = vec![0; grid.size()];
            self.query = 0;
        }
        self.query = self.query.wrapping_add(1);
        if self.query == 0 {
            self.stamp.fill(0);
            self.query = 1;
        }
        let h = |v: Cell| grid.manhattan(v, b);
        self.now.clear();
        self.later.clear();
        self.g[a as usize] = 0;
        self.stamp[a as usize] = self.query;
        self.now.push(a);
        let mut f = h(a);
        loop {
            let Some(v) = self.now.pop() else {
                if self.later.is_empty() {
                    return UNREACHABLE;
                }
                std::mem::swap(&mut self.now, &mut self.later);
                f += 2;
                continue;
            };
            let gv = self.g[v as usize];
            if gv + h(v) != f {
                continue; // reached later at a smaller g: expanded from the lower f already
            }
            if v == b {
                return gv;
            }
            for &u in grid.neighbors(v) {
                let (ui, gu) = (u as usize, gv + 1);
                if self.stamp[ui] == self.query && self.g[ui] <= gu {
                    continue;
                }
                self.stamp[ui] = self.query;
                self.g[ui] = gu;
                if gu + h(u) == f {
                    self.now.push(u);
                } else {
                    self.later.push(u);
                }
            }
        }
    }
}

/// Distances from `source` to every cell by BFS ([`UNREACHABLE`] where there is no path).
pub fn bfs_from(grid: &Grid, source: Cell) -> Vec<u32> {
    let t = Table::bfs(grid, source);
    (0..grid.size() as Cell).map(|v| t.get(v)).collect()
}

/// One goal's distance table: the distance of every cell of the grid to the goal. Only the
/// passable cells are stored ([`Grid::slots`]): on brc202d (LoRR GAME, 254,930 cells of which
/// 43,151 passable) a table takes 86 KB instead of 510 KB, so a 1 GiB cache holds 12,400
/// tables instead of 2,100.
#[derive(Debug, Clone)]
pub struct Table {
    slots: Arc<[u32]>,
    dist: Dist,
    /// Heading-aware tables (rotation model; see [`DistanceCache::set_headings`]): `dist`
    /// holds the cost from the best heading, and per cell one byte the extra cost from each
    /// heading h (0=E, 1=S, 2=W, 3=N) in bits 2h..2h+2. The extra is at most 2, the turns to
    /// the best heading, so a heading-aware table takes 3 bytes a cell instead of 8.
    turns: Option<Box<[u8]>>,
}

#[derive(Debug, Clone)]
enum Dist {
    Small(Box<[u16]>),
    Large(Box<[u32]>),
}

impl Table {
    /// The BFS table of `goal` (all [`UNREACHABLE`] if `goal` is blocked or off the grid).
    // Not inlined into the lazy `DistanceTable::get`, whose hot path is the lookup.
    #[inline(never)]
    pub fn bfs(grid: &Grid, goal: Cell) -> Self {
        Self::nearest(grid, &[goal])
    }

    /// The distance of every cell to the nearest of `cells` (blocked ones are skipped).
    pub fn nearest(grid: &Grid, cells: &[Cell]) -> Self {
        let dist = if Self::compact(grid) {
            // Written directly as u16 (no u32 table to convert): tables dominate set-up time.
            Dist::Small(bfs::<u16>(grid, cells).into_boxed_slice())
        } else {
            Dist::Large(bfs::<u32>(grid, cells).into_boxed_slice())
        };
        Self {
            slots: grid.slots().clone(),
            dist,
            turns: None,
        }
    }

    /// A table from a distance per grid cell ([`UNREACHABLE`] for none); values of compact
    /// tables saturate below `u16::MAX`.
    pub fn from_cells(grid: &Grid, d: &[u32]) -> Self {
        let slots = grid.slots();
        let mut packed = vec![UNREACHABLE; grid.passable_count() + 1];
        for (v, &x) in d.iter().enumerate() {
            if grid.is_passable(v as Cell) {
                packed[slots[v] as usize] = x;
            }
        }
        Self::from_slots(grid, packed, None)
    }

    /// A table from distances indexed by [`Grid::slots`] ([`UNREACHABLE`] for none), with
    /// the extra cost per heading (see `turns`) for a heading-aware one.
    fn from_slots(grid: &Grid, d: Vec<u32>, turns: Option<Box<[u8]>>) -> Self {
        let dist = if Self::compact(grid) {
            let small = |x: u32| match x {
                UNREACHABLE => u16::MAX,
                x => x.min(u16::MAX as u32 - 1) as u16,
            };
            Dist::Small(d.into_iter().map(small).collect())
        } else {
            Dist::Large(d.into_boxed_slice())
        };
        Self {
            slots: grid.slots().clone(),
            dist,
            turns,
        }
    }

    /// Whether `grid`'s tables hold `u16` (every BFS distance fits).
    fn compact(grid: &Grid) -> bool {
        grid.passable_count() < u16::MAX as usize
    }

    /// Distance from `v` to the goal, or [`UNREACHABLE`] (heading-aware: from the best
    /// heading).
    #[inline]
    pub fn get(&self, v: Cell) -> u32 {
        self.entry(self.slots[v as usize] as usize)
    }

    /// Heading-aware tables: the cost from `v` facing `heading` (every turn a step);
    /// `None` for a plain table.
    #[inline]
    pub fn get_heading(&self, v: Cell, heading: u8) -> Option<u32> {
        let s = self.slots[v as usize] as usize;
        let turns = self.turns.as_ref()?;
        Some(match self.entry(s) {
            UNREACHABLE => UNREACHABLE,
            d => d + (turns[s] >> (2 * (heading & 3)) & 3) as u32,
        })
    }

    #[inline]
    fn entry(&self, k: usize) -> u32 {
        match &self.dist {
            Dist::Small(t) => {
                let d = t[k];
                if d == u16::MAX { UNREACHABLE } else { d as u32 }
            }
            Dist::Large(t) => t[k],
        }
    }

    /// Bytes a table of `grid` takes (plain, or heading-aware with `headings`).
    pub fn bytes(grid: &Grid, headings: bool) -> usize {
        let per_cell = if Self::compact(grid) { 2 } else { 4 };
        (per_cell + headings as usize) * (grid.passable_count() + 1)
    }
}

/// Per-goal BFS distance tables over a [`Grid`], computed lazily (on the first [`get`] for a
/// goal) and kept. Not `Sync` (it fills itself through `&self`); build one per thread.
///
/// [`get`]: DistanceTable::get
#[derive(Debug)]
pub struct DistanceTable<'g> {
    grid: &'g Grid,
    goals: Vec<Cell>,
    tables: Vec<OnceCell<Table>>,
}

impl<'g> DistanceTable<'g> {
    /// One table per entry of `goals` (indexed like them, usually by agent).
    pub fn new(grid: &'g Grid, goals: Vec<Cell>) -> Self {
        let tables = (0..goals.len()).map(|_| OnceCell::new()).collect();
        Self {
            grid,
            goals,
            tables,
        }
    }

    /// The grid the tables are over.
    pub fn grid(&self) -> &'g Grid {
        self.grid
    }

    /// The goal of table `i`.
    pub fn goal(&self, i: usize) -> Cell {
        self.goals[i]
    }

    /// The number of tables (goals).
    pub fn len(&self) -> usize {
        self.goals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.goals.is_empty()
    }

    /// Shortest 4-connected distance from `v` to goal `i`, or [`UNREACHABLE`].
    #[inline]
    pub fn get(&self, i: usize, v: Cell) -> u32 {
        self.tables[i]
            .get_or_init(|| Table::bfs(self.grid, self.goals[i]))
            .get(v)
    }

    /// Fills every table now (e.g. before timing a search).
    pub fn fill_all(&self) {
        for i in 0..self.goals.len() {
            self.get(i, self.goals[i]);
        }
    }
}

/// Per-goal distance tables keyed by goal cell, with a least-recently-used memory bound. On
/// brc202d (GAME, 6500 robots) a table costs 86 KB, so a 1 GiB cache holds 12,400 of them,
/// but 10,000 robots with distinct goals on a larger map could not all keep one; when the cache is full and every table was used in the current step, a
/// new goal gets no table (callers fall back to the Manhattan distance) rather than evicting a
/// table in use, which would make the cache thrash.
#[derive(Debug)]
pub struct DistanceCache {
    grid: Grid,
    tables: HashMap<Cell, Entry>,
    capacity: usize,
    clock: u64,
    /// Tables computed so far (a measure of work).
    pub computed: u64,
    /// Extra cost of a step against a lane's preferred direction (0: plain BFS distances).
    lane_penalty: u16,
    /// Lane directions: per column, whether vertical steps should run south; per row, whether
    /// horizontal steps should run east (see [`Self::set_lane_penalty`]).
    col_south: Vec<bool>,
    row_east: Vec<bool>,
    /// Heading-aware tables (see [`Self::set_headings`]): per passable cell (by
    /// [`Grid::slots`]) and heading h, the slot of the cell a robot facing h leaves to enter
    /// it (`u32::MAX` for none) and that step's cost. Empty when off.
    behind: Vec<[(u32, u16); 4]>,
    /// The cell of each slot ([`Grid::slots`]).
    cells: Vec<Cell>,
    /// Extra cost of entering each slot's cell, where robots stand (see
    /// [`Self::set_crowd`]); empty when off.
    crowd: Vec<u16>,
    crowd_penalty: u16,
}

#[derive(Debug)]
struct Entry {
    table: Arc<Table>,
    last_used: u64,
    /// The step ([`DistanceCache::tick`]) the table was computed in.
    made: u64,
}

impl DistanceCache {
    /// A cache over `grid` holding at most `max_bytes` of tables (at least one table).
    pub fn new(grid: Grid, max_bytes: usize) -> Self {
        let tables = max_bytes / Table::bytes(&grid, false).max(1);
        Self::with_capacity(grid, tables)
    }

    /// The grid the tables are over.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// A cache over `grid` holding at most `tables` tables (at least one).
    pub fn with_capacity(grid: Grid, tables: usize) -> Self {
        Self {
            capacity: tables.max(1),
            tables: HashMap::new(),
            clock: 1,
            computed: 0,
            lane_penalty: 0,
            col_south: Vec::new(),
            row_east: Vec::new(),
            behind: Vec::new(),
            crowd: Vec::new(),
            crowd_penalty: 0,
            cells: (0..grid.size() as Cell)
                .filter(|&c| grid.is_passable(c))
                .collect(),
            grid,
        }
    }

    /// Makes distances prefer one-way lanes; a step against its lane costs `1 + penalty`. Soft
    /// lanes cut head-on meetings, which under the rotation model are slow to resolve.
    ///
    /// Directions alternate between neighbouring *corridors*, not between neighbouring rows or
    /// columns: a column holding a one-cell-wide vertical corridor (a passable cell walled left
    /// and right) is a corridor column, and corridor columns alternate south, north, south, …
    /// in their order across the map; other columns alternate by their own index. Rows
    /// likewise (east, west, …). On warehouse_large the vertical aisles sit every 4th column,
    /// all odd, so plain parity sent every aisle north. Clears the cache.
    pub fn set_lane_penalty(&mut self, penalty: u16) {
        self.lane_penalty = penalty;
        self.tables.clear();
        let c = Corridors::of(&self.grid);
        self.col_south = alternate(&c.cols);
        self.row_east = alternate(&c.rows);
        // Heading-aware tables keep their step costs with the lanes: recompute them.
        if self.headings() {
            self.set_headings(true);
        }
    }

    /// Makes tables heading-aware for the rotation model: the cost from each cell and
    /// heading, every 90° turn a step ([`Table::get_heading`]). Shortest cell paths on an
    /// open map are many and some turn at every step (under lanes, the cheapest ones zigzag
    /// between rows and columns that run the right way); a robot pays a step per turn.
    /// A table takes 3 bytes a cell instead of 2 ([`Table::bytes`]). Clears the cache.
    pub fn set_headings(&mut self, on: bool) {
        self.tables.clear();
        self.behind.clear();
        if !on {
            return;
        }
        let g = &self.grid;
        let slots = g.slots();
        let behind = self
            .cells
            .iter()
            .map(|&c| {
                // A robot facing h enters c from the cell opposite h.
                std::array::from_fn(|h| match g.toward(c, (h as u8 + 2) % 4) {
                    Some(p) => (slots[p as usize], self.move_cost(p, c)),
                    None => (u32::MAX, 0),
                })
            })
            .collect();
        self.behind = behind;
    }

    /// Makes tables computed from now on charge `penalty` extra for entering each of
    /// `occupied` (the cells robots stand on now), so that ways lead around crowds; tables
    /// already held keep their costs until [`Self::refresh`]. A penalty of 0 turns it off.
    pub fn set_crowd(&mut self, occupied: impl IntoIterator<Item = Cell>, penalty: u16) {
        self.crowd_penalty = penalty;
        self.crowd.clear();
        if penalty == 0 {
            return;
        }
        self.crowd.resize(self.grid.passable_count() + 1, 0);
        let slots = self.grid.slots();
        for c in occupied {
            if self.grid.is_passable(c) {
                self.crowd[slots[c as usize] as usize] = penalty;
            }
        }
    }

    /// Recomputes up to `max` of the tables used in this step or the last one, those
    /// computed longest ago first (under [`Self::set_crowd`]'s current costs), until
    /// `deadline`. Returns how many it recomputed.
    pub fn refresh(&mut self, max: usize, deadline: Option<std::time::Instant>) -> usize {
        let recent = self.clock.saturating_sub(1);
        let mut stale: Vec<(u64, Cell)> = self
            .tables
            .iter()
            .filter(|(_, e)| e.last_used >= recent && e.made < self.clock)
            .map(|(&g, e)| (e.made, g))
            .collect();
        stale.sort_unstable();
        stale.truncate(max);
        let mut done = 0;
        for &(_, goal) in &stale {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                break;
            }
            let table = Arc::new(self.compute(goal));
            self.computed += 1;
            done += 1;
            if let Some(e) = self.tables.get_mut(&goal) {
                e.table = table;
                e.made = self.clock;
            }
        }
        done
    }

    /// Whether tables are heading-aware.
    pub fn headings(&self) -> bool {
        !self.behind.is_empty()
    }

    /// The lane penalty in use (0: none).
    pub fn lane_penalty(&self) -> u16 {
        self.lane_penalty
    }

    /// Share of the passable cells that lie in a one-cell-wide corridor (walled on both sides,
    /// across or along): 0.63 on warehouse_large, 0.57 on sortation_large, 0.11 on
    /// random-32-32-20, under 0.01 on Paris_1_256 and brc202d.
    pub fn corridor_share(&self) -> f64 {
        Corridors::of(&self.grid).cells as f64 / self.grid.passable_count().max(1) as f64
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
    pub fn get(&mut self, goal: Cell) -> Option<Arc<Table>> {
        let clock = self.clock;
        self.tables.get_mut(&goal).map(|e| {
            e.last_used = clock;
            e.table.clone()
        })
    }

    /// Whether the table of `goal` is held.
    pub fn contains(&self, goal: Cell) -> bool {
        self.tables.contains_key(&goal)
    }

    /// The table of `goal`, computing it if needed; `None` when the cache is full of tables
    /// used in this step.
    pub fn ensure(&mut self, goal: Cell) -> Option<Arc<Table>> {
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
        let table = Arc::new(self.compute(goal));
        self.computed += 1;
        self.tables.insert(
            goal,
            Entry {
                table: table.clone(),
                last_used: self.clock,
                made: self.clock,
            },
        );
        Some(table)
    }

    /// A new table of `goal` under the current step costs.
    fn compute(&self, goal: Cell) -> Table {
        if self.headings() {
            self.headed(goal)
        } else if self.lane_penalty > 0 || self.crowd_penalty > 0 {
            self.lanes(goal)
        } else {
            Table::bfs(&self.grid, goal)
        }
    }

    /// Extra cost of entering the cell of `slot` ([`Self::set_crowd`]).
    fn crowd(&self, slot: u32) -> u32 {
        self.crowd.get(slot as usize).map_or(0, |&c| c as u32)
    }

    /// Dial's ring for the costs in use: one bucket per step cost.
    fn ring(&self) -> usize {
        self.lane_penalty as usize + self.crowd_penalty as usize + 2
    }

    /// Manhattan distance between two cells (a lower bound of the true distance).
    pub fn manhattan(&self, a: Cell, b: Cell) -> u32 {
        self.grid.manhattan(a, b)
    }

    /// Distance from `from` to `goal`: the true one if the table is held, else Manhattan.
    /// Never computes a table. Unreachable pairs give [`FAR`].
    pub fn estimate(&self, from: Cell, goal: Cell) -> u32 {
        match self.tables.get(&goal) {
            Some(e) => match e.table.get(from) {
                UNREACHABLE => FAR,
                d => d,
            },
            None => self.manhattan(from, goal),
        }
    }

    /// Cost of the step from `a` to its neighbour `b` under the lanes.
    fn step_cost(&self, a: Cell, b: Cell) -> u16 {
        let w = self.grid.width;
        let (ax, ay) = self.grid.xy(a);
        let (east, south) = (self.row_east[ay as usize], self.col_south[ax as usize]);
        let against = if b == a + 1 {
            !east
        } else if b + 1 == a {
            east
        } else if b == a + w {
            !south
        } else {
            south
        };
        1 + if against { self.lane_penalty } else { 0 }
    }

    /// Cost of the step from `a` to its neighbour `b` (1, or under the lanes more).
    fn move_cost(&self, a: Cell, b: Cell) -> u16 {
        if self.lane_penalty > 0 {
            self.step_cost(a, b)
        } else {
            1
        }
    }

    /// Dijkstra over (cell, heading) states toward `goal` reached in any heading: a forward
    /// step costs [`Self::move_cost`], a 90° turn 1. State `4 × slot + h` is the cell of
    /// `slot` facing `h`, by [`dial`].
    fn headed(&self, goal: Cell) -> Table {
        let g = &self.grid;
        let mut dist = vec![UNREACHABLE; 4 * (g.passable_count() + 1)];
        if g.is_passable(goal) {
            let first = 4 * g.slots()[goal as usize];
            dial(&mut dist, self.ring(), first..first + 4, |state, q| {
                let (slot, h) = (state / 4, state % 4);
                q.relax(4 * slot + (h + 1) % 4, 1);
                q.relax(4 * slot + (h + 3) % 4, 1);
                let (p, cost) = self.behind[slot as usize][h as usize];
                if p != u32::MAX {
                    q.relax(4 * p + h, cost as u32 + self.crowd(slot));
                }
            });
        }
        // The best heading's cost, and each heading's extra (at most 2 turns) in 2 bits.
        let mut best = Vec::with_capacity(g.passable_count() + 1);
        let mut turns = Vec::with_capacity(g.passable_count() + 1);
        for s in dist.chunks_exact(4) {
            let min = *s.iter().min().unwrap_or(&UNREACHABLE);
            best.push(min);
            let extra = |h: usize| match s[h] {
                UNREACHABLE => 0,
                d => (d - min).min(3) as u8,
            };
            turns.push((0..4).fold(0u8, |b, h| b | extra(h) << (2 * h)));
        }
        Table::from_slots(g, best, Some(turns.into_boxed_slice()))
    }

    /// Dijkstra toward `goal` with lane and crowd costs: entry `c` is the cost from `c` to
    /// `goal`. Step costs are 1 to `1 + penalty + crowd`, so the queue is a ring of one bucket
    /// per cost ([`Self::ring`], Dial's algorithm): a cell is settled when its bucket comes
    /// round, with no heap.
    fn lanes(&self, goal: Cell) -> Table {
        let g = &self.grid;
        let slots = g.slots();
        let mut dist = vec![UNREACHABLE; g.passable_count() + 1];
        if g.is_passable(goal) {
            dial(&mut dist, self.ring(), [slots[goal as usize]], |slot, q| {
                let c = self.cells[slot as usize];
                let enter = self.crowd(slot);
                for &n in g.neighbors(c) {
                    // A robot at n steps n → c.
                    q.relax(slots[n as usize], self.move_cost(n, c) as u32 + enter);
                }
            });
        }
        Table::from_slots(&self.grid, dist, None)
    }
}

/// Dial's algorithm (Dijkstra with a ring of `ring` buckets, one per cost; every step costs
/// 1..ring): `dist[state]` becomes the least cost from any of `sources` (cost 0).
/// `expand(state, queue)` calls [`Ring::relax`] for each state one step away. The queue is a
/// concrete type, not a closure behind `dyn`, so the relaxations inline (a heading table on
/// sortation_large took ~3.7 ms with a `dyn` callback per relaxation).
fn dial(
    dist: &mut [u32],
    ring: usize,
    sources: impl IntoIterator<Item = u32>,
    mut expand: impl FnMut(u32, &mut Ring),
) {
    let mut q = Ring {
        dist,
        buckets: vec![Vec::new(); ring],
        queued: 0,
        d: 0,
    };
    for s in sources {
        q.dist[s as usize] = 0;
        q.buckets[0].push(s);
        q.queued += 1;
    }
    while q.queued > 0 {
        let k = q.d as usize % ring;
        let mut bucket = std::mem::take(&mut q.buckets[k]);
        q.queued -= bucket.len();
        for &state in &bucket {
            // A state queued again at a lower cost was settled then.
            if q.dist[state as usize] == q.d {
                expand(state, &mut q);
            }
        }
        bucket.clear();
        q.buckets[k] = bucket;
        q.d += 1;
    }
}

/// The queue of [`dial`] while it settles the states of cost `d`.
struct Ring<'a> {
    dist: &'a mut [u32],
    buckets: Vec<Vec<u32>>,
    queued: usize,
    d: u32,
}

impl Ring<'_> {
    /// `next` is `cost` beyond the state being settled.
    #[inline]
    fn relax(&mut self, next: u32, cost: u32) {
        let nd = self.d + cost;
        let slot = &mut self.dist[next as usize];
        if nd < *slot {
            *slot = nd;
            let ring = self.buckets.len();
            self.buckets[nd as usize % ring].push(next);
            self.queued += 1;
        }
    }
}

/// The one-cell-wide corridors of a grid: which columns hold a vertical one (a passable cell
/// walled left and right), which rows a horizontal one, and how many cells are either.
struct Corridors {
    cols: Vec<bool>,
    rows: Vec<bool>,
    cells: usize,
}

impl Corridors {
    fn of(g: &Grid) -> Self {
        let (w, h) = (g.width as i64, g.height as i64);
        let open = |x: i64, y: i64| {
            x >= 0 && y >= 0 && x < w && y < h && g.is_passable(g.cell(x as u32, y as u32))
        };
        let mut c = Self {
            cols: vec![false; w as usize],
            rows: vec![false; h as usize],
            cells: 0,
        };
        for y in 0..h {
            for x in (0..w).filter(|&x| open(x, y)) {
                let vertical = !open(x - 1, y) && !open(x + 1, y);
                let horizontal = !open(x, y - 1) && !open(x, y + 1);
                c.cols[x as usize] |= vertical;
                c.rows[y as usize] |= horizontal;
                c.cells += (vertical || horizontal) as usize;
            }
        }
        c
    }
}

/// Alternating directions (true, false, true, …) over lines: corridor lines alternate in
/// their own order, the other lines by their index.
fn alternate(corridor: &[bool]) -> Vec<bool> {
    let mut rank = 0;
    corridor
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            if c {
                rank += 1;
                rank % 2 == 1
            } else {
                i % 2 == 0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::maps::GridMap;

    /// The compact and the wide tables hold the same distances, and the cache serves the same
    /// table as the per-agent store.
    #[test]
    fn u16_and_u32_tables_and_both_stores_agree() {
        // A 7x5 map with a wall that forces a detour and one walled-in cell.
        let rows = ["..#....", "..#.#..", "..#.#..", "....#.#", "....##."];
        let passable: Vec<bool> = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c == '.'))
            .collect();
        let map = GridMap::new(7, 5, passable);
        let grid = Grid::new(&map).unwrap();
        let goal = grid.cell(3, 0);
        let small = bfs::<u16>(&grid, &[goal]);
        let large = bfs::<u32>(&grid, &[goal]);
        let per_agent = DistanceTable::new(&grid, vec![goal]);
        let mut cache = DistanceCache::new(grid.clone(), 1 << 20);
        let cached = cache.ensure(goal).unwrap();
        // Tables hold the passable cells only (26 of 35), plus one slot for all blocked ones.
        assert_eq!(grid.passable_count(), 26);
        assert_eq!((small.len(), Table::bytes(&grid, false)), (27, 54));
        let mut cells = Vec::new();
        for v in 0..grid.size() as Cell {
            let s = grid.slots()[v as usize] as usize;
            let expect = if small[s] == u16::MAX {
                UNREACHABLE
            } else {
                small[s] as u32
            };
            assert_eq!(large[s], expect, "cell {v}");
            assert_eq!(per_agent.get(0, v), expect, "cell {v}");
            assert_eq!(cached.get(v), expect, "cell {v}");
            if !grid.is_passable(v) {
                assert_eq!(expect, UNREACHABLE, "blocked cell {v}");
            }
            cells.push(expect);
        }
        // A table rebuilt from per-cell distances reads back the same.
        let rebuilt = Table::from_cells(&grid, &cells);
        assert!((0..grid.size() as Cell).all(|v| rebuilt.get(v) == cells[v as usize]));
        // Down column 3, round the wall's foot and up column 1: (1,0) is 8 steps from (3,0).
        assert_eq!(per_agent.get(0, grid.cell(1, 0)), 8);
        assert_eq!(per_agent.get(0, grid.cell(6, 4)), UNREACHABLE);
        assert_eq!(
            bfs_from(&grid, crate::mapf::NONE),
            vec![UNREACHABLE; grid.size()]
        );
        // To the nearer of two cells; a blocked source and a repeated one change nothing.
        let (a, b) = (grid.cell(0, 0), grid.cell(3, 4));
        let near = Table::nearest(&grid, &[a, grid.cell(2, 0), b, a]);
        let (ta, tb) = (Table::bfs(&grid, a), Table::bfs(&grid, b));
        assert!((0..grid.size() as Cell).all(|v| near.get(v) == ta.get(v).min(tb.get(v))));
        assert_eq!(near.get(grid.cell(1, 4)), 2);
    }

    fn passable_cells(grid: &Grid) -> Vec<Cell> {
        (0..grid.size() as Cell)
            .filter(|&v| grid.is_passable(v))
            .collect()
    }

    /// Every third passable cell, as if robots stood there.
    fn crowded(passable: &[Cell]) -> Vec<Cell> {
        passable.iter().copied().step_by(3).collect()
    }

    /// The extra cost of entering a cell: `crowd` on [`crowded`] cells, else 0.
    fn entry_cost(passable: &[Cell], crowd: u16) -> impl Fn(Cell) -> u32 {
        let occupied: std::collections::HashSet<Cell> = crowded(passable).into_iter().collect();
        move |c| {
            if occupied.contains(&c) {
                crowd as u32
            } else {
                0
            }
        }
    }

    #[test]
    fn crowd_costs_reach_held_tables_on_refresh() {
        let grid = random_32_32_20();
        let passable = passable_cells(&grid);
        let (a, b) = (passable[10], passable[700]);
        let mut cache = DistanceCache::new(grid.clone(), 1 << 20);
        let plain = cache.ensure(a).unwrap();
        cache.ensure(b);
        cache.set_crowd(crowded(&passable), 4);
        // Held tables keep their costs until refreshed ...
        assert!(Arc::ptr_eq(&cache.ensure(a).unwrap(), &plain));
        cache.tick();
        // ... and a refresh recomputes those used lately, at most `max`, oldest first.
        assert_eq!(cache.refresh(1, None), 1);
        assert_eq!(cache.refresh(5, None), 1);
        assert_eq!(cache.refresh(5, None), 0);
        let mut fresh = DistanceCache::new(grid.clone(), 1 << 20);
        fresh.set_crowd(crowded(&passable), 4);
        for goal in [a, b] {
            let (got, want) = (cache.get(goal).unwrap(), fresh.ensure(goal).unwrap());
            assert!(passable.iter().all(|&v| got.get(v) == want.get(v)));
            assert!(passable.iter().any(|&v| got.get(v) > plain.get(v)));
        }
        // Off again: new tables are plain BFS ones.
        cache.set_crowd([], 0);
        let c = passable[300];
        let t = cache.ensure(c).unwrap();
        let bfs = Table::bfs(&grid, c);
        assert!(passable.iter().all(|&v| t.get(v) == bfs.get(v)));
    }

    /// The grid of the test fixture `random-32-32-20.map`.
    fn random_32_32_20() -> Grid {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/random-32-32-20.map");
        let map = courier_core::formats::movingai::read_map(path).unwrap();
        Grid::new(&map).unwrap()
    }

    /// A* between pairs gives the tables' distances, unreachable pairs and blocked cells
    /// included, and its scratch carries over between grids.
    #[test]
    fn pair_distances_equal_the_tables() {
        let mut pair = PairDistance::default();
        let grid = random_32_32_20();
        let mut checked = 0;
        for b in (0..grid.size() as Cell).step_by(37) {
            let t = Table::bfs(&grid, b);
            for a in (0..grid.size() as Cell).step_by(11) {
                assert_eq!(pair.get(&grid, a, b), t.get(a), "{a} -> {b}");
                checked += 1;
            }
        }
        assert!(checked > 2000);
        let rows = ["..#....", "..#.#..", "..#.#..", "....#.#", "....##."];
        let passable: Vec<bool> = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c == '.'))
            .collect();
        let small = Grid::new(&GridMap::new(7, 5, passable)).unwrap();
        assert_eq!(pair.get(&small, small.cell(3, 0), small.cell(1, 0)), 8);
        assert_eq!(
            pair.get(&small, small.cell(0, 0), small.cell(6, 4)),
            UNREACHABLE
        );
        assert_eq!(
            pair.get(&small, small.cell(2, 0), small.cell(0, 0)),
            UNREACHABLE
        );
        assert_eq!(pair.get(&small, small.cell(5, 1), small.cell(5, 1)), 0);
    }

    /// Lane tables (Dial's bucket queue) hold the least lane cost to the goal: every entry
    /// equals the fixpoint of relaxing all steps until nothing changes.
    #[test]
    fn lane_tables_are_least_costs() {
        let grid = random_32_32_20();
        let passable = passable_cells(&grid);
        for (penalty, crowd) in [(2, 0), (5, 0), (0, 3), (2, 3)] {
            let mut cache = DistanceCache::new(grid.clone(), 1 << 20);
            cache.set_lane_penalty(penalty);
            cache.set_crowd(crowded(&passable), crowd);
            let enter = entry_cost(&passable, crowd);
            for goal in [passable[0], passable[400], passable[passable.len() - 1]] {
                let table = cache.ensure(goal).unwrap();
                let mut want = vec![UNREACHABLE; grid.size()];
                want[goal as usize] = 0;
                let mut changed = true;
                while changed {
                    changed = false;
                    for c in 0..grid.size() as Cell {
                        for &n in grid.neighbors(c) {
                            if want[c as usize] != UNREACHABLE {
                                let d = want[c as usize] + cache.move_cost(n, c) as u32 + enter(c);
                                if d < want[n as usize] {
                                    want[n as usize] = d;
                                    changed = true;
                                }
                            }
                        }
                    }
                }
                for v in 0..grid.size() as Cell {
                    assert_eq!(
                        table.get(v),
                        want[v as usize],
                        "penalty {penalty}, crowd {crowd}, cell {v}"
                    );
                }
                // Lanes and crowds make paths dearer, never cheaper, than plain BFS.
                let plain = Table::bfs(&grid, goal);
                assert!((0..grid.size() as Cell).all(|v| table.get(v) >= plain.get(v)));
                assert!((0..grid.size() as Cell).any(|v| table.get(v) > plain.get(v)));
            }
        }
    }

    /// Heading-aware tables hold the least cost over (cell, heading) states under the
    /// rotation model (forward along the heading at the lane cost, a 90° turn 1), found here
    /// by relaxing the model's moves to a fixed point.
    #[test]
    fn heading_tables_are_least_costs_of_the_rotation_model() {
        let grid = random_32_32_20();
        let forward = |c: Cell, h: usize| {
            let (x, y) = grid.xy(c);
            let (dx, dy) = [(1, 0), (0, 1), (-1, 0), (0, -1)][h];
            let (nx, ny) = (x as i64 + dx, y as i64 + dy);
            let inside = nx >= 0 && ny >= 0 && nx < grid.width as i64 && ny < grid.height as i64;
            inside
                .then(|| grid.cell(nx as u32, ny as u32))
                .filter(|&n| grid.is_passable(n))
        };
        let passable = passable_cells(&grid);
        for (penalty, crowd) in [(0, 0), (2, 0), (2, 3)] {
            let mut cache = DistanceCache::new(grid.clone(), 1 << 24);
            if penalty > 0 {
                cache.set_lane_penalty(penalty);
            }
            cache.set_headings(true);
            assert!(cache.headings());
            cache.set_crowd(crowded(&passable), crowd);
            let enter = entry_cost(&passable, crowd);
            for goal in [passable[0], passable[500]] {
                let table = cache.ensure(goal).unwrap();
                let mut want = vec![[UNREACHABLE; 4]; grid.size()];
                want[goal as usize] = [0; 4];
                let mut changed = true;
                while changed {
                    changed = false;
                    for &c in &passable {
                        for h in 0..4 {
                            let mut best = want[c as usize][h];
                            for t in [(h + 1) % 4, (h + 3) % 4] {
                                best = best.min(want[c as usize][t].saturating_add(1));
                            }
                            if let Some(n) = forward(c, h) {
                                let step = cache.move_cost(c, n) as u32 + enter(n);
                                best = best.min(want[n as usize][h].saturating_add(step));
                            }
                            if best < want[c as usize][h] {
                                want[c as usize][h] = best;
                                changed = true;
                            }
                        }
                    }
                }
                let plain = Table::bfs(&grid, goal);
                let mut turned = false;
                for &c in &passable {
                    for h in 0..4u8 {
                        let got = table.get_heading(c, h).unwrap();
                        assert_eq!(
                            got, want[c as usize][h as usize],
                            "penalty {penalty}, crowd {crowd}, cell {c}, heading {h}"
                        );
                    }
                    assert_eq!(table.get(c), *want[c as usize].iter().min().unwrap());
                    assert!(table.get(c) >= plain.get(c));
                    turned |= table.get(c) > plain.get(c);
                }
                // Turns cost: somewhere the best heading still needs more than the cell path.
                assert!(turned);
                assert_eq!(plain.get_heading(goal, 0), None);
            }
        }
    }
}
