//! A block-sparse Cholesky solver for symmetric positive definite systems with 3×3 blocks (one
//! block per SE(2) pose). The fill-reducing order comes from a minimum-degree elimination on the
//! block graph; the neighbours of a block at its elimination are exactly the rows of its column
//! of the factor, so the symbolic factorisation falls out of the ordering.

use nalgebra::{Matrix3, Vector3};
use std::collections::{BinaryHeap, HashMap};

/// The lower triangle of a block-sparse symmetric matrix: `diag[i]` and, for `i > j`,
/// `off[(i, j)]` = block (row i, column j).
#[derive(Debug, Clone, Default)]
pub struct BlockMatrix {
    pub diag: Vec<Matrix3<f64>>,
    pub off: HashMap<(usize, usize), Matrix3<f64>>,
}

impl BlockMatrix {
    pub fn new(n: usize) -> Self {
        Self {
            diag: vec![Matrix3::zeros(); n],
            off: HashMap::new(),
        }
    }
    pub fn n(&self) -> usize {
        self.diag.len()
    }
    /// Adds `m` to block (i, j) (and so its transpose to (j, i)).
    pub fn add(&mut self, i: usize, j: usize, m: &Matrix3<f64>) {
        if i == j {
            self.diag[i] += m;
        } else if i > j {
            *self.off.entry((i, j)).or_insert_with(Matrix3::zeros) += m;
        } else {
            *self.off.entry((j, i)).or_insert_with(Matrix3::zeros) += m.transpose();
        }
    }
}

/// The symbolic part of a factorisation: the elimination order and the row pattern of each
/// column of the factor (in elimination positions). Reusable while the pattern is unchanged.
#[derive(Debug, Clone)]
pub struct Symbolic {
    /// `order[k]` is the block eliminated k-th; `pos` is its inverse.
    order: Vec<usize>,
    pos: Vec<usize>,
    /// Rows (positions > k, sorted) of column k of the factor.
    rows: Vec<Vec<usize>>,
}

impl Symbolic {
    /// Minimum-degree ordering of the pattern of `a`.
    pub fn analyse(a: &BlockMatrix) -> Self {
        let n = a.n();
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(i, j) in a.off.keys() {
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
        let rows = order
            .iter()
            .map(|&v| {
                let mut r: Vec<usize> = neigh_at_elim[v].iter().map(|&u| pos[u]).collect();
                r.sort_unstable();
                r
            })
            .collect();
        Self { order, pos, rows }
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
        for (&(i, j), m) in &a.off {
            let (p, q) = (self.pos[i], self.pos[j]);
            let (row, col, blk) = if p > q {
                (p, q, *m)
            } else {
                (q, p, m.transpose())
            };
            let idx = self.rows[col].binary_search(&row).ok()?;
            cols[col][idx] += blk;
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
        let mut a = BlockMatrix::new(n);
        let mut dense = DMatrix::<f64>::zeros(3 * n, 3 * n);
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as f64 / (1u64 << 31) as f64) - 0.5
        };
        let mut edges: Vec<(usize, usize)> = (0..n).map(|i| (i, (i + 1) % n)).collect();
        edges.extend([(0, 6), (3, 9), (2, 10)]);
        for (i, j) in edges {
            let j3 = Matrix3::from_fn(|_, _| rnd());
            // J = [I, -j3] gives a PSD contribution [[I, -j3], [-j3ᵀ, j3ᵀ j3]].
            a.add(i, i, &Matrix3::identity());
            a.add(j, j, &(j3.transpose() * j3));
            a.add(i, j, &(-j3));
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
