//! The map with a one-cell blocked border, so neighbour lookups need no bounds checks.

use courier_core::GridMap;
use courier_core::path::Cell;

#[derive(Debug, Clone)]
pub(crate) struct Padded {
    /// Padded width (map width + 2).
    pub w: usize,
    pub pass: Vec<bool>,
}

impl Padded {
    pub fn new(map: &GridMap) -> Self {
        let (w, h) = (map.width + 2, map.height + 2);
        let mut pass = vec![false; w * h];
        for y in 0..map.height {
            let src = &map.passable[y * map.width..(y + 1) * map.width];
            pass[(y + 1) * w + 1..(y + 1) * w + 1 + map.width].copy_from_slice(src);
        }
        Self { w, pass }
    }
    pub fn len(&self) -> usize {
        self.pass.len()
    }
    pub fn index(&self, c: Cell) -> usize {
        (c.y as usize + 1) * self.w + c.x as usize + 1
    }
    /// Map coordinates (x, y) of padded index `i`.
    pub fn xy(&self, i: usize) -> (u32, u32) {
        ((i % self.w - 1) as u32, (i / self.w - 1) as u32)
    }
    pub fn cell(&self, i: usize) -> Cell {
        let (x, y) = self.xy(i);
        Cell::new(x, y)
    }
}
