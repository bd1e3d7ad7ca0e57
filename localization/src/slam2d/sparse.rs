//! A block-sparse Cholesky solver for symmetric positive definite systems with 3×3 blocks (one
//! block per SE(2) pose). The fill-reducing order comes from a minimum-degree elimination on the
//! block graph; the neighbours of a block at its elimination are exactly the rows of its column
//! of the factor, so the symbolic factorisation falls out of the ordering.

use nalgebra::{Matrix3, Vector3};
use std::collections::{BinaryHeap, HashMap};

/// The lower triangle of a block-sparse symmetric matrix with a fixed pattern: `diag[i]`, and
/// `off[k]` = block (row `pairs[k].0`, column `pairs[k].1`) with row > column.
#[derive(Debug, Clone, Default)]
pub struct BlockMatrix {
    pub pairs: Vec<(usize, usize)>,
    pub diag: Vec<Matrix3<f64>>,
    pub off: Vec<Matrix3<f64>>,
}

impl BlockMatrix {
    /// A zero matrix of `n` diagonal blocks and the off-diagonal pattern `pairs` (each
    /// (row, column) with row > column, no duplicates).
    pub fn new(n: usize, pairs: Vec<(usize, usize)>) -> Self {
        Self {
            diag: vec![Matrix3::zeros(); n],
            off: vec![Matrix3::zeros(); pairs.len()],
            pairs,
        }
    }
    pub fn n(&self) -> usize {
        self.diag.len()
    }
    /// Sets every block to zero, keeping the pattern.
    pub fn clear(&mut self) {
        self.diag.iter_mut().for_each(|m| *m = Matrix3::zeros());
        self.off.iter_mut().for_each(|m| *m = Matrix3::zeros());
    }
}

/// Where a block of the input lands: its slot in the pattern and whether it is transposed.
pub type Slot = (usize, bool);

/// Builds a pattern from (i, j) block pairs in any orientation: returns the deduplicated
/// (row > column) pairs and, for each input pair, its slot and whether it was transposed.
pub fn pattern(input: &[(usize, usize)]) -> (Vec<(usize, usize)>, Vec<Slot>) {
    let mut index: HashMap<(usize, usize), usize> = HashMap::with_capacity(input.len());
    let mut pairs = Vec::new();
    let slots = input
        .iter()
        .map(|&(i, j)| {
            let (key, transposed) = if i > j {
                ((i, j), false)
            } else {
                ((j, i), true)
            };
            let slot = *index.entry(key).or_insert_with(|| {
                pairs.push(key);
                pairs.len() - 1
            });
            (slot, transposed)
        })
        .collect();
    (pairs, slots)
}

/// The symbolic part of a factorisation: the elimination order and the row pattern of each
/// column of the factor (in elimination positions). Reusable while the pattern is unchanged.
#[derive(Debug, Clone)]
pub struct Symbolic {
    /// `order[k]` is the block eliminated k-th.
    order: Vec<usize>,
    /// Rows (positions > k, sorted) of column k of the factor.
    rows: Vec<Vec<usize>>,
    /// Where each off-diagonal block of the matrix lands: (column, index in its rows, whether
    /// it must be transposed).
    dest: Vec<(usize, usize, bool)>,
}

impl Symbolic {
    /// Minimum-degree ordering of the pattern of `a`.
    pub fn analyse(a: &BlockMatrix) -> Self {
        let n = a.n();
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(i, j) in &a.pairs {
            adj[i].push(j);
            adj[j].push(i);
        }
        for l in &mut adj {
            l.sort_unstable();
            l.dedup();
        }
        let mut heap: BinaryHeap<std::cmp::Reverse<(usize, usize)>> = adj
            .iter()
            .enumerate()
            .map(|(v, l)| std::cmp::Reverse((l.len(), v)))
            .collect();
        let mut eliminated = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut neigh_at_elim: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut merged = Vec::new();
        while let Some(std::cmp::Reverse((deg, v))) = heap.pop() {
            if eliminated[v] || deg != adj[v].len() {
                continue;
            }
            eliminated[v] = true;
            order.push(v);
            let nb = std::mem::take(&mut adj[v]);
            for &u in &nb {
                // adj[u] ← (adj[u] ∪ nb) \ {u, v}, kept sorted.
                merged.clear();
                let (a_, b_) = (&adj[u], &nb);
                let (mut i, mut j) = (0, 0);
                while i < a_.len() || j < b_.len() {
                    let x = match (a_.get(i), b_.get(j)) {
                        (Some(&x), Some(&y)) if x == y => {
                            i += 1;
                            j += 1;
                            x
                        }
                        (Some(&x), Some(&y)) if x < y => {
                            i += 1;
                            x
                        }
                        (Some(_), Some(&y)) => {
                            j += 1;
                            y
                        }
                        (Some(&x), None) => {
                            i += 1;
                            x
                        }
                        (None, Some(&y)) => {
                            j += 1;
                            y
                        }
                        (None, None) => break,
                    };
                    if x != u && x != v {
                        merged.push(x);
                    }
                }
                std::mem::swap(&mut adj[u], &mut merged);
                heap.push(std::cmp::Reverse((adj[u].len(), u)));
            }
            neigh_at_elim[v] = nb;
        }
        let mut pos = vec![0; n];
        for (k, &v) in order.iter().enumerate() {
            pos[v] = k;
        }
        let rows: Vec<Vec<usize>> = order
            .iter()
            .map(|&v| {
                let mut r: Vec<usize> = neigh_at_elim[v].iter().map(|&u| pos[u]).collect();
                r.sort_unstable();
                r
            })
            .collect();
        let dest = a
            .pairs
            .iter()
            .map(|&(i, j)| {
                let (p, q) = (pos[i], pos[j]);
                let (row, col, t) = if p > q { (p, q, false) } else { (q, p, true) };
                let idx = rows[col].binary_search(&row).unwrap_or(usize::MAX);
                (col, idx, t)
            })
            .collect();
        Self { order, rows, dest }
    }

    /// Number of off-diagonal blocks in the factor (fill included).
    pub fn factor_blocks(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    /// Solves `(a + diag(damping)) x = b` by block Cholesky. `None` if the matrix is not
    /// positive definite.
    pub fn solve(
        &self,
        a: &BlockMatrix,
        damping: &[Vector3<f64>],
        b: &[Vector3<f64>],
    ) -> Option<Vec<Vector3<f64>>> {
        let n = self.order.len();
        let mut diag: Vec<Matrix3<f64>> = self
            .order
            .iter()
            .map(|&v| a.diag[v] + Matrix3::from_diagonal(&damping[v]))
            .collect();
        let mut cols: Vec<Vec<Matrix3<f64>>> = self
            .rows
            .iter()
            .map(|r| vec![Matrix3::zeros(); r.len()])
            .collect();
        if a.off.len() != self.dest.len() {
            return None;
        }
        for (m, &(col, idx, t)) in a.off.iter().zip(&self.dest) {
            let blk = if t { m.transpose() } else { *m };
            *cols[col].get_mut(idx)? += blk;
        }
        let mut lkk: Vec<Matrix3<f64>> = Vec::with_capacity(n);
        for k in 0..n {
            let l = diag[k].cholesky()?.l();
            let linv_t = l.try_inverse()?.transpose();
            let col = std::mem::take(&mut cols[k]);
            let lcol: Vec<Matrix3<f64>> = col.iter().map(|m| m * linv_t).collect();
            let rows = &self.rows[k];
            for (ia, &ra) in rows.iter().enumerate() {
                for ib in 0..=ia {
                    let rb = rows[ib];
                    let upd = lcol[ia] * lcol[ib].transpose();
                    if ra == rb {
                        diag[ra] -= upd;
                    } else {
                        let idx = self.rows[rb].binary_search(&ra).ok()?;
                        cols[rb][idx] -= upd;
                    }
                }
            }
            cols[k] = lcol;
            lkk.push(l);
        }
        // Forward substitution L y = b (in elimination positions).
        let mut y: Vec<Vector3<f64>> = self.order.iter().map(|&v| b[v]).collect();
        for k in 0..n {
            let yk = lkk[k].solve_lower_triangular(&y[k])?;
            for (idx, &r) in self.rows[k].iter().enumerate() {
                y[r] -= cols[k][idx] * yk;
            }
            y[k] = yk;
        }
        // Back substitution Lᵀ x = y.
        for k in (0..n).rev() {
            let mut acc = y[k];
            for (idx, &r) in self.rows[k].iter().enumerate() {
                acc -= cols[k][idx].transpose() * y[r];
            }
            y[k] = lkk[k].tr_solve_lower_triangular(&acc)?;
        }
        let mut x = vec![Vector3::zeros(); n];
        for (k, &v) in self.order.iter().enumerate() {
            x[v] = y[k];
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn block_cholesky_matches_dense_solve() {
        // A ring of 12 blocks with chords: fill-in is needed.
        let n = 12;
        let mut edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        edges.extend([(0, 6), (3, 9), (2, 10)]);
        let (pairs, slots) = pattern(&edges);
        let mut a = BlockMatrix::new(n, pairs);
        let mut dense = DMatrix::<f64>::zeros(3 * n, 3 * n);
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        for (e, &(i, j)) in edges.iter().enumerate() {
            let j3 = Matrix3::from_fn(|_, _| rnd());
            // J = [I, -j3] gives a PSD contribution [[I, -j3], [-j3ᵀ, j3ᵀ j3]].
            a.diag[i] += Matrix3::identity();
            a.diag[j] += j3.transpose() * j3;
            let (slot, t) = slots[e];
            a.off[slot] += if t { -j3.transpose() } else { -j3 };
            for r in 0..3 {
                for c in 0..3 {
                    dense[(3 * i + r, 3 * i + c)] += if r == c { 1.0 } else { 0.0 };
                    dense[(3 * j + r, 3 * j + c)] += (j3.transpose() * j3)[(r, c)];
                    dense[(3 * i + r, 3 * j + c)] -= j3[(r, c)];
                    dense[(3 * j + c, 3 * i + r)] -= j3[(r, c)];
                }
            }
        }
        let damp = vec![Vector3::new(0.1, 0.1, 0.1); n];
        for i in 0..3 * n {
            dense[(i, i)] += 0.1;
        }
        let b: Vec<Vector3<f64>> = (0..n).map(|_| Vector3::new(rnd(), rnd(), rnd())).collect();
        let sym = Symbolic::analyse(&a);
        let x = sym.solve(&a, &damp, &b).expect("positive definite");
        let bd = DMatrix::from_fn(3 * n, 1, |r, _| b[r / 3][r % 3]);
        let xd = dense.cholesky().expect("positive definite").solve(&bd);
        for i in 0..3 * n {
            assert!((x[i / 3][i % 3] - xd[(i, 0)]).abs() < 1e-9);
        }
    }
}
