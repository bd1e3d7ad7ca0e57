//! Per-node search state shared by A* and JPS, reused across queries: a generation stamp marks
//! which entries belong to the current search, so nothing is cleared or allocated per query.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// An open-list entry; lazily deleted (stale when its `g` is above the node's best).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Open {
    pub f: f64,
    pub g: f64,
    pub node: u32,
}

impl PartialEq for Open {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Open {}
impl PartialOrd for Open {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Open {
    /// "Greater" pops first from the max-heap: lower f, then higher g (deeper nodes first,
    /// which on ties heads straight for the goal).
    fn cmp(&self, o: &Self) -> Ordering {
        o.f.total_cmp(&self.f).then(self.g.total_cmp(&o.g))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Nodes {
    pub g: Vec<f64>,
    pub parent: Vec<u32>,
    /// `base` = seen (open) this search, `base + 1` = closed; older values = untouched.
    state: Vec<u32>,
    base: u32,
    pub open: BinaryHeap<Open>,
}

impl Nodes {
    pub fn new(n: usize) -> Self {
        Self {
            g: vec![0.0; n],
            parent: vec![0; n],
            state: vec![0; n],
            base: 0,
            open: BinaryHeap::new(),
        }
    }
    /// Starts a new search.
    pub fn reset(&mut self) {
        self.open.clear();
        if self.base >= u32::MAX - 2 {
            self.state.iter_mut().for_each(|s| *s = 0);
            self.base = 0;
        }
        self.base += 2;
    }
    pub fn seen(&self, i: usize) -> bool {
        self.state[i] >= self.base
    }
    pub fn closed(&self, i: usize) -> bool {
        self.state[i] == self.base + 1
    }
    pub fn close(&mut self, i: usize) {
        self.state[i] = self.base + 1;
    }
    /// Records a path to `i` of cost `g` through `parent` if it is the best so far; returns
    /// whether it was (and so should be pushed).
    pub fn relax(&mut self, i: usize, g: f64, parent: usize) -> bool {
        if !self.seen(i) {
            self.state[i] = self.base;
        } else if self.closed(i) || g >= self.g[i] {
            return false;
        }
        self.g[i] = g;
        self.parent[i] = parent as u32;
        true
    }
}
