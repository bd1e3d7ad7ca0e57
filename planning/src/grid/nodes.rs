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

/// One node's search state, packed so a visit touches one cache line.
#[derive(Debug, Clone, Copy, Default)]
struct Node {
    g: f64,
    parent: u32,
    /// `base` = seen (open) this search, `base + 1` = closed; older values = untouched.
    state: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct Nodes {
    nodes: Vec<Node>,
    base: u32,
    pub open: BinaryHeap<Open>,
}

impl Nodes {
    pub fn new(n: usize) -> Self {
        Self {
            nodes: vec![Node::default(); n],
            base: 0,
            open: BinaryHeap::new(),
        }
    }
    /// Starts a new search.
    pub fn reset(&mut self) {
        self.open.clear();
        if self.base >= u32::MAX - 2 {
            self.nodes.iter_mut().for_each(|s| s.state = 0);
            self.base = 0;
        }
        self.base += 2;
    }
    #[inline]
    pub fn parent(&self, i: usize) -> usize {
        self.nodes[i].parent as usize
    }
    /// Should a popped entry for `i` with cost `g` be skipped (node closed, or entry stale)?
    #[inline]
    pub fn skip(&self, i: usize, g: f64) -> bool {
        let n = &self.nodes[i];
        n.state == self.base + 1 || g > n.g
    }
    #[inline]
    pub fn close(&mut self, i: usize) {
        self.nodes[i].state = self.base + 1;
    }
    /// Records a path to `i` of cost `g` through `parent` if it is the best so far; returns
    /// whether it was (and so should be pushed).
    #[inline]
    pub fn relax(&mut self, i: usize, g: f64, parent: usize) -> bool {
        let base = self.base;
        let n = &mut self.nodes[i];
        if n.state >= base && (n.state == base + 1 || g >= n.g) {
            return false;
        }
        *n = Node {
            g,
            parent: parent as u32,
            state: base,
        };
        true
    }
}
