//! Parking for robots without a task in dense fleets. An idle robot blocks a cell as much as a
//! working one but moves no task; where it stands decides whether it blocks a through route.
//! Cells are ranked once by how many shortest paths cross them (BFS trees from sampled
//! sources, each cell counting the targets below it); the least crossed cells, as many as
//! `ratio` × the idle robots, are the parking. An idle robot stays put until a working robot
//! pushes it aside; it then makes way toward the nearest parking cell (see
//! [`super::epibt`]). Moving idle robots there on their own did worse (RANDOM-04 2363 tasks
//! against 2381; RANDOM-05 1304 against 1336 by step 1000): they crowd the ways while they go.

use crate::distance::Table;
use crate::mapf::Grid;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// The cells in parking order (least crossed first) and the current parking table.
#[derive(Debug)]
pub struct Parking {
    order: Vec<u32>,
    ratio: f64,
    /// Parking cells the table was built for, and the table.
    built: Option<(usize, Arc<Table>)>,
}

impl Parking {
    /// Ranks `grid`'s cells with BFS trees from `sources` passable cells drawn with `rng`
    /// (all cells if fewer).
    pub fn new(grid: &Grid, ratio: f64, sources: usize, rng: &mut ChaCha8Rng) -> Self {
        let mut cells: Vec<u32> = (0..grid.size() as u32)
            .filter(|&v| grid.is_passable(v))
            .collect();
        let mut crossed = vec![0u64; grid.size()];
        let mut picks = cells.clone();
        if picks.len() > sources {
            picks.shuffle(rng);
            picks.truncate(sources);
        }
        let mut parent = vec![u32::MAX; grid.size()];
        let mut below = vec![0u64; grid.size()];
        let mut order = Vec::with_capacity(cells.len());
        for &s in &picks {
            order.clear();
            parent[s as usize] = s;
            order.push(s);
            let mut head = 0;
            while head < order.len() {
                let v = order[head];
                head += 1;
                for &u in grid.neighbors(v) {
                    if parent[u as usize] == u32::MAX {
                        parent[u as usize] = v;
                        order.push(u);
                    }
                }
            }
            // Reverse BFS order: every cell after all its descendants.
            for &v in order.iter().rev() {
                below[v as usize] += 1;
                crossed[v as usize] += below[v as usize];
                if v != s {
                    below[parent[v as usize] as usize] += below[v as usize];
                }
            }
            for &v in &order {
                parent[v as usize] = u32::MAX;
                below[v as usize] = 0;
            }
        }
        cells.sort_by_key(|&v| (crossed[v as usize], v));
        Self {
            order: cells,
            ratio,
            built: None,
        }
    }

    /// The distance table over `grid` (the one the parking was ranked on) to the parking for
    /// `idle` robots; rebuilt only when the parking size changes by more than 5 %.
    pub fn table(&mut self, grid: &Grid, idle: usize) -> Option<Arc<Table>> {
        let want = ((idle as f64 * self.ratio).ceil() as usize).min(self.order.len());
        if want == 0 {
            return None;
        }
        let stale = self
            .built
            .as_ref()
            .is_none_or(|(k, _)| k.abs_diff(want) * 20 > want);
        if stale {
            let table = Table::nearest(grid, &self.order[..want]);
            self.built = Some((want, Arc::new(table)));
        }
        self.built.as_ref().map(|(_, t)| t.clone())
    }

    /// Distance of `cell` to the parking last built, if any.
    pub fn distance(&self, cell: u32) -> Option<u32> {
        self.built.as_ref().map(|(_, t)| t.get(cell))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::GridMap;
    use rand::SeedableRng;

    /// A plus-shaped map: the centre and the arms' inner cells carry all through traffic,
    /// the arm tips none.
    #[test]
    fn parking_fills_dead_ends_first() {
        // 5 x 5 cross: row 2 and column 2 free.
        let mut free = vec![false; 25];
        for k in 0..5 {
            free[2 * 5 + k] = true;
            free[k * 5 + 2] = true;
        }
        let map = GridMap::new(5, 5, free);
        let grid = Grid::new(&map).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let mut p = Parking::new(&grid, 1.0, 100, &mut rng);
        let tips = [2, 10, 14, 22];
        let mut first: Vec<u32> = p.order[..4].to_vec();
        first.sort();
        assert_eq!(first, tips);
        assert_eq!(*p.order.last().unwrap(), 12, "the centre is crossed most");
        let t = p.table(&grid, 4).unwrap();
        assert_eq!(t.get(2), 0);
        assert_eq!(t.get(7), 1);
        assert_eq!(t.get(12), 2);
        // No idle robot: no parking.
        assert!(p.table(&grid, 0).is_none());
    }
}
