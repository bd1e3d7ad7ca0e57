//! Seeded noise sources shared by the sensor models.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A seeded stream of uniform and Gaussian numbers. Each sensor model owns one, so a model's
/// output depends only on its own seed and inputs.
#[derive(Debug, Clone)]
pub(crate) struct Noise {
    rng: ChaCha8Rng,
    /// The second normal of the last polar-method pair.
    spare: Option<f64>,
}

impl Noise {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            spare: None,
        }
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f64 {
        self.rng.random::<f64>()
    }

    /// Standard normal, by Marsaglia's polar method (no trigonometry; two normals per accepted
    /// pair, so the spare is kept for the next call).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let m = (-2.0 * s.ln() / s).sqrt();
                self.spare = Some(v * m);
                return u * m;
            }
        }
    }

    /// True with probability `p` (never draws when `p` is 0, so a model with dropouts off spends
    /// no random numbers on them).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.uniform() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_has_unit_moments() {
        let mut n = Noise::new(7);
        let k = 200_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..k {
            let x = n.normal();
            s1 += x;
            s2 += x * x;
        }
        let mean = s1 / k as f64;
        let var = s2 / k as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
    }
}
