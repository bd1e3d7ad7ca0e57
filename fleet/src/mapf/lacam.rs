//! LaCAM (Lazy Constraints Addition search for MAPF, Okumura 2023): a depth-first search over
//! whole configurations (one cell per agent) where the successor of a configuration is generated
//! by one PIBT step. Each configuration keeps a lazily grown tree of constraints ("agent `i` must
//! go to cell `v`"); each revisit pops one constraint set and asks PIBT for a successor that meets
//! it. Because every combination of moves is eventually enumerated, the search is complete: it
//! finds a solution if one exists (given time), and on the benchmark it usually needs few
//! revisits, so it scales to thousands of agents.
//!
//! Memory: a configuration costs 4 bytes per agent; the per-node priorities and agent order
//! (12 bytes per agent) are freed as soon as a node's constraint tree is exhausted.

use super::deadline::Deadline;
use super::instance::{Cell, Instance, NONE};
use super::pibt::Pibt;
use crate::distance::DistanceTable;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// A fast hasher for `u64` keys (configuration hashes, packed space-time states).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, x: u64) {
        // splitmix64 finaliser: spreads entropy to every bit (the map uses low and high bits).
        let mut z = x ^ self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.0 = z ^ (z >> 31);
    }
}

pub(crate) type IdentityMap<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// A well-mixed 64-bit hash of a configuration.
fn config_hash(q: &[Cell]) -> u64 {
    let mut h: u64 = 0x243F_6A88_85A3_08D3;
    for &v in q {
        h = (h ^ v as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    h ^ (h >> 31)
}

#[derive(Debug)]
struct HNode {
    config: Box<[Cell]>,
    parent: u32,
    /// Next node with the same configuration hash (chained buckets keep the hash map small).
    next_same_hash: u32,
    /// Integer part of each agent's PIBT priority; the fractional part is a per-agent constant
    /// (see `solve`), so 4 bytes per agent instead of 8.
    priorities: Vec<u32>,
    order: Vec<u32>,
    /// Constraint sets still to try: `(agent, cell)` lists, shortest first.
    pending: VecDeque<Vec<(u32, Cell)>>,
}

/// LaCAM gives up (no solution) rather than store more than about this many bytes of search
/// nodes (3 GiB).
pub const MAX_SEARCH_BYTES: usize = 3 << 30;

/// Statistics of one LaCAM run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LacamStats {
    /// Configurations stored.
    pub nodes: usize,
    /// PIBT calls.
    pub pibt_calls: usize,
}

/// Finds a solution (a sequence of configurations from the starts to the goals) with LaCAM, or
/// `None` if `deadline` passes first (or, for an unsolvable instance, when the search space is
/// exhausted). Deterministic for a given `seed`.
pub fn solve(
    inst: &Instance,
    dist: &DistanceTable,
    seed: u64,
    deadline: &Deadline,
) -> (Option<Vec<Vec<Cell>>>, LacamStats) {
    let n = inst.num_agents();
    let grid = &inst.grid;
    let mut pibt = Pibt::new(grid, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_1ACA);
    let mut stats = LacamStats::default();
    let mut nodes: Vec<HNode> = Vec::new();
    let mut table: IdentityMap<u32> = IdentityMap::default();
    let goals = &inst.goals;

    // PIBT priorities start at distance / n and grow by one per step away from the goal; at the
    // goal they drop back to their fractional part. The fractional part never changes, so a
    // node stores only the integer part.
    let start_prio: Vec<f64> = (0..n)
        .map(|i| dist.get(i, inst.starts[i]) as f64 / n as f64)
        .collect();
    let frac: Vec<f64> = start_prio.iter().map(|p| p - p.floor()).collect();
    let root_prio: Vec<u32> = start_prio.iter().map(|p| p.floor() as u32).collect();
    let make_node = |config: Box<[Cell]>, parent: u32, priorities: Vec<u32>| {
        let mut order: Vec<u32> = (0..n as u32).collect();
        let p = |a: u32| priorities[a as usize] as f64 + frac[a as usize];
        // Highest priority first; ties by agent id keep it deterministic.
        order.sort_by(|&a, &b| p(b).total_cmp(&p(a)));
        let mut pending = VecDeque::new();
        pending.push_back(Vec::new());
        HNode {
            config,
            parent,
            next_same_hash: NONE,
            priorities,
            order,
            pending,
        }
    };
    let insert = |nodes: &mut Vec<HNode>, table: &mut IdentityMap<u32>, node: HNode| -> u32 {
        let id = nodes.len() as u32;
        let h = config_hash(&node.config);
        nodes.push(node);
        if let Some(head) = table.insert(h, id) {
            nodes[id as usize].next_same_hash = head;
        }
        id
    };
    let find = |nodes: &[HNode], table: &IdentityMap<u32>, q: &[Cell]| -> u32 {
        let mut k = table.get(&config_hash(q)).copied().unwrap_or(NONE);
        while k != NONE {
            if &*nodes[k as usize].config == q {
                return k;
            }
            k = nodes[k as usize].next_same_hash;
        }
        NONE
    };

    let root = make_node(inst.starts.clone().into_boxed_slice(), NONE, root_prio);
    let root = insert(&mut nodes, &mut table, root);
    let mut open: Vec<u32> = vec![root];
    let mut next = Vec::with_capacity(n);
    let mut cells = Vec::with_capacity(5);
    let mut found = NONE;
    while let Some(&top) = open.last() {
        if deadline.passed() {
            break;
        }
        let h = &mut nodes[top as usize];
        if &*h.config == goals.as_slice() {
            found = top;
            break;
        }
        let Some(constraints) = h.pending.pop_front() else {
            open.pop();
            // Exhausted: never expanded again, so its order and priorities can go.
            h.priorities = Vec::new();
            h.order = Vec::new();
            continue;
        };
        // Grow the constraint tree lazily: the next agent in priority order, every move.
        if constraints.len() < n {
            let i = h.order[constraints.len()];
            let v = h.config[i as usize];
            cells.clear();
            cells.push(v);
            cells.extend_from_slice(grid.neighbors(v));
            cells.shuffle(&mut rng);
            for &u in &cells {
                let mut c = Vec::with_capacity(constraints.len() + 1);
                c.extend_from_slice(&constraints);
                c.push((i, u));
                h.pending.push_back(c);
            }
        }
        stats.pibt_calls += 1;
        if !pibt.step(dist, &h.config, &h.order, &constraints, &mut next) {
            continue;
        }
        let known = find(&nodes, &table, &next);
        if known != NONE {
            // Revisit it: its remaining constraint sets may lead elsewhere.
            open.push(known);
            continue;
        }
        let h = &nodes[top as usize];
        let priorities: Vec<u32> = (0..n)
            .map(|i| {
                if next[i] == goals[i] {
                    0
                } else {
                    h.priorities[i].saturating_add(1)
                }
            })
            .collect();
        // Bound memory: a stored configuration costs about 12 bytes per agent.
        if (nodes.len() + 1) * n * 12 > MAX_SEARCH_BYTES {
            break;
        }
        let child = make_node(next.clone().into_boxed_slice(), top, priorities);
        let id = insert(&mut nodes, &mut table, child);
        open.push(id);
    }
    stats.nodes = nodes.len();
    if found == NONE {
        return (None, stats);
    }
    let mut configs = Vec::new();
    let mut k = found;
    while k != NONE {
        configs.push(nodes[k as usize].config.to_vec());
        k = nodes[k as usize].parent;
    }
    configs.reverse();
    (Some(configs), stats)
}

/// Turns a configuration sequence into per-agent paths, each cut after its final arrival.
pub fn configs_to_paths(configs: &[Vec<Cell>], goals: &[Cell]) -> Vec<Vec<Cell>> {
    let n = goals.len();
    (0..n)
        .map(|i| {
            let mut p: Vec<Cell> = configs.iter().map(|q| q[i]).collect();
            let keep = p.iter().rposition(|&v| v != goals[i]).map_or(1, |k| k + 2);
            p.truncate(keep);
            p
        })
        .collect()
}
