//! The MAPF graph (a 4-connected grid with flat neighbour lists and `u32` cell ids) and an
//! instance (starts and goals), checked before any search.

use crate::error::{FleetError, Result};
use courier_core::formats::movingai::Scenario;
use courier_core::maps::GridMap;
use std::sync::Arc;

/// A cell id: `y * width + x` as in [`GridMap`].
pub type Cell = u32;
/// "No cell" / "no agent" marker in flat arrays.
pub const NONE: u32 = u32::MAX;

/// (dx, dy) of one step in each heading: 0=E, 1=S, 2=W, 3=N (x = column, y = row down), as
/// the rotation model's headings.
pub const HEADING_STEPS: [(i64, i64); 4] = [(1, 0), (0, 1), (-1, 0), (0, -1)];

/// A 4-connected grid as flat arrays: each cell's passable neighbours (right, down, left, up
/// order, padded with [`NONE`]) and their count. Built once; the solvers' hot loops index it.
#[derive(Debug, Clone)]
pub struct Grid {
    pub width: u32,
    pub height: u32,
    passable: Vec<bool>,
    nbr: Vec<[Cell; 4]>,
    deg: Vec<u8>,
    passable_count: usize,
    slots: Arc<[u32]>,
}

impl Grid {
    /// Builds the graph of `map`'s passable cells. Fails if the cell ids would not fit `u32`.
    pub fn new(map: &GridMap) -> Result<Self> {
        let n = map.width * map.height;
        if n >= NONE as usize {
            return Err(FleetError::Instance(format!(
                "a {}x{} map has too many cells for u32 cell ids",
                map.width, map.height
            )));
        }
        let mut nbr = vec![[NONE; 4]; n];
        let mut deg = vec![0u8; n];
        for v in 0..n {
            if !map.passable[v] {
                continue;
            }
            for (k, u) in map.neighbors4(v).enumerate() {
                nbr[v][k] = u as Cell;
                deg[v] = k as u8 + 1;
            }
        }
        let passable_count = map.passable_count();
        let mut next = 0;
        let slots = map
            .passable
            .iter()
            .map(|&p| {
                if p {
                    next += 1;
                    next - 1
                } else {
                    passable_count as u32
                }
            })
            .collect();
        Ok(Self {
            width: map.width as u32,
            height: map.height as u32,
            passable: map.passable.clone(),
            nbr,
            deg,
            passable_count,
            slots,
        })
    }
    /// Number of cells (passable or not): the size of per-cell arrays.
    #[inline]
    pub fn size(&self) -> usize {
        self.nbr.len()
    }
    #[inline]
    pub fn passable_count(&self) -> usize {
        self.passable_count
    }
    /// Dense numbering of the cells for per-cell arrays that need only the passable ones:
    /// passable cells get `0..passable_count()` in cell order, every blocked cell gets
    /// `passable_count()` (one shared extra slot). Shared, so tables can keep a handle.
    #[inline]
    pub fn slots(&self) -> &Arc<[u32]> {
        &self.slots
    }
    #[inline]
    pub fn is_passable(&self, v: Cell) -> bool {
        (v as usize) < self.passable.len() && self.passable[v as usize]
    }
    /// The passable 4-neighbours of `v` (empty for a blocked cell).
    #[inline]
    pub fn neighbors(&self, v: Cell) -> &[Cell] {
        &self.nbr[v as usize][..self.deg[v as usize] as usize]
    }
    #[inline]
    pub fn degree(&self, v: Cell) -> usize {
        self.deg[v as usize] as usize
    }
    /// Are `u` and `v` the same cell or 4-neighbours (a legal step)?
    #[inline]
    pub fn is_step(&self, u: Cell, v: Cell) -> bool {
        u == v || self.neighbors(u).contains(&v)
    }
    #[inline]
    pub fn cell(&self, x: u32, y: u32) -> Cell {
        y * self.width + x
    }
    /// `(x, y)` = (column, row) of `v`.
    #[inline]
    pub fn xy(&self, v: Cell) -> (u32, u32) {
        (v % self.width, v / self.width)
    }
    /// Manhattan distance between two cells (a lower bound of the true distance).
    #[inline]
    pub fn manhattan(&self, a: Cell, b: Cell) -> u32 {
        let ((ax, ay), (bx, by)) = (self.xy(a), self.xy(b));
        ax.abs_diff(bx) + ay.abs_diff(by)
    }
    /// The passable cell one step from `v` in direction `dir` ([`HEADING_STEPS`]), if any.
    pub fn toward(&self, v: Cell, dir: u8) -> Option<Cell> {
        let (x, y) = self.xy(v);
        let (dx, dy) = HEADING_STEPS[(dir & 3) as usize];
        let x = u32::try_from(x as i64 + dx)
            .ok()
            .filter(|&x| x < self.width)?;
        let y = u32::try_from(y as i64 + dy)
            .ok()
            .filter(|&y| y < self.height)?;
        Some(self.cell(x, y)).filter(|&u| self.is_passable(u))
    }
    /// Connected-component label of every cell (blocked cells get [`NONE`]).
    pub fn components(&self) -> Vec<u32> {
        let mut label = vec![NONE; self.size()];
        let mut queue = Vec::new();
        let mut next = 0;
        for s in 0..self.size() as Cell {
            if !self.is_passable(s) || label[s as usize] != NONE {
                continue;
            }
            label[s as usize] = next;
            queue.clear();
            queue.push(s);
            while let Some(v) = queue.pop() {
                for &u in self.neighbors(v) {
                    if label[u as usize] == NONE {
                        label[u as usize] = next;
                        queue.push(u);
                    }
                }
            }
            next += 1;
        }
        label
    }
}

/// A one-shot MAPF instance: agent `i` goes from `starts[i]` to `goals[i]`.
#[derive(Debug, Clone)]
pub struct Instance {
    pub grid: Grid,
    pub starts: Vec<Cell>,
    pub goals: Vec<Cell>,
}

impl Instance {
    /// Builds and checks an instance from `(x, y)` starts and goals. Errors (before any search)
    /// name the agent and cell: off the map, on an obstacle, duplicate start or goal, goal not
    /// reachable from the start.
    pub fn new(map: &GridMap, starts: &[(u32, u32)], goals: &[(u32, u32)]) -> Result<Self> {
        let grid = Grid::new(map)?;
        if starts.len() != goals.len() {
            return Err(FleetError::Instance(format!(
                "{} starts but {} goals",
                starts.len(),
                goals.len()
            )));
        }
        if starts.is_empty() {
            return Err(FleetError::Instance("no agents".into()));
        }
        let cells = |what: &str, xys: &[(u32, u32)]| -> Result<Vec<Cell>> {
            let mut owner = vec![NONE; grid.size()];
            let mut out = Vec::with_capacity(xys.len());
            for (i, &(x, y)) in xys.iter().enumerate() {
                if x >= grid.width || y >= grid.height {
                    return Err(FleetError::Instance(format!(
                        "agent {i}: {what} ({x}, {y}) is outside the {}x{} map",
                        grid.width, grid.height
                    )));
                }
                let v = grid.cell(x, y);
                if !grid.is_passable(v) {
                    return Err(FleetError::Instance(format!(
                        "agent {i}: {what} ({x}, {y}) is on an obstacle"
                    )));
                }
                if owner[v as usize] != NONE {
                    return Err(FleetError::Instance(format!(
                        "agents {} and {i} share the {what} ({x}, {y})",
                        owner[v as usize]
                    )));
                }
                owner[v as usize] = i as u32;
                out.push(v);
            }
            Ok(out)
        };
        let s = cells("start", starts)?;
        let g = cells("goal", goals)?;
        let comp = grid.components();
        for i in 0..s.len() {
            if comp[s[i] as usize] != comp[g[i] as usize] {
                return Err(FleetError::Instance(format!(
                    "agent {i}: goal {:?} is unreachable from start {:?}",
                    starts[i], goals[i]
                )));
            }
        }
        Ok(Self {
            grid,
            starts: s,
            goals: g,
        })
    }

    /// The first `agents` rows of a MovingAI scenario on `map` (the scen's map column is ignored;
    /// its width and height must match the map).
    pub fn from_scen(map: &GridMap, scen: &Scenario, agents: usize) -> Result<Self> {
        if agents > scen.entries.len() {
            return Err(FleetError::Instance(format!(
                "{agents} agents asked for but the scenario has only {} rows",
                scen.entries.len()
            )));
        }
        let rows = &scen.entries[..agents];
        if let Some((k, e)) = rows
            .iter()
            .enumerate()
            .find(|(_, e)| (e.map_width, e.map_height) != (map.width, map.height))
        {
            return Err(FleetError::Instance(format!(
                "scenario row {} is for a {}x{} map but the map is {}x{}",
                k + 1,
                e.map_width,
                e.map_height,
                map.width,
                map.height
            )));
        }
        let xy = |p: (usize, usize)| (p.0 as u32, p.1 as u32);
        let starts: Vec<_> = rows.iter().map(|e| xy(e.start)).collect();
        let goals: Vec<_> = rows.iter().map(|e| xy(e.goal)).collect();
        Self::new(map, &starts, &goals)
    }

    #[inline]
    pub fn num_agents(&self) -> usize {
        self.starts.len()
    }
}
