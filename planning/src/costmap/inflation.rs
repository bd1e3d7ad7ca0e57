//! Inflation: the cost a lethal cell spreads to the cells around it (Nav2's InflationLayer).

use super::{INSCRIBED_INFLATED_OBSTACLE, LETHAL_OBSTACLE};

/// The costs a single lethal cell gives to the cells around it, by cell offset.
///
/// Nav2 spreads each obstacle's cost as a function of the distance to the *nearest* obstacle;
/// that cost decreases with distance, so it equals the maximum over all obstacles of the cost
/// each one alone would give. Stamping this kernel with `max` is therefore exact, and lets a
/// windowed update touch only the obstacles near the window.
#[derive(Debug, Clone, PartialEq)]
pub struct InflationKernel {
    /// Reach in cells: offsets with |dx|, |dy| ≤ radius_cells can be non-zero.
    pub radius_cells: usize,
    /// `(2 r + 1)²` costs, row-major by (dy + r, dx + r).
    pub costs: Vec<u8>,
}

impl InflationKernel {
    /// The kernel for a grid of `resolution` m, with Nav2's cost function.
    pub fn new(
        resolution: f64,
        inscribed_radius: f64,
        inflation_radius: f64,
        cost_scaling_factor: f64,
    ) -> Self {
        let r = (inflation_radius / resolution).ceil().max(0.0) as usize;
        let side = 2 * r + 1;
        let mut costs = vec![0; side * side];
        for dy in 0..side {
            for dx in 0..side {
                let (ox, oy) = (dx as f64 - r as f64, dy as f64 - r as f64);
                let d = (ox * ox + oy * oy).sqrt() * resolution;
                costs[dy * side + dx] = inflated_cost(
                    d,
                    resolution,
                    inscribed_radius,
                    inflation_radius,
                    cost_scaling_factor,
                );
            }
        }
        Self {
            radius_cells: r,
            costs,
        }
    }

    /// Cost at offset (dx, dy) cells from an obstacle; 0 beyond the kernel.
    pub fn at(&self, dx: i64, dy: i64) -> u8 {
        let r = self.radius_cells as i64;
        if dx.abs() > r || dy.abs() > r {
            return 0;
        }
        let side = 2 * r + 1;
        self.costs[((dy + r) * side + dx + r) as usize]
    }
}

/// Nav2's inflation cost of a cell whose centre is `distance` metres from the nearest lethal
/// cell centre: 254 on the obstacle, 253 within the inscribed radius, then
/// `⌊252 · exp(-cost_scaling_factor · (distance − inscribed_radius))⌋` out to
/// `inflation_radius`, 0 beyond. (A small slack of 1e-9 m keeps cells exactly on a radius in.)
pub fn inflated_cost(
    distance: f64,
    resolution: f64,
    inscribed_radius: f64,
    inflation_radius: f64,
    cost_scaling_factor: f64,
) -> u8 {
    let eps = 1e-9 * resolution.max(1.0);
    if distance <= 0.0 {
        LETHAL_OBSTACLE
    } else if distance <= inscribed_radius + eps {
        INSCRIBED_INFLATED_OBSTACLE
    } else if distance <= inflation_radius + eps {
        let f = (-cost_scaling_factor * (distance - inscribed_radius)).exp();
        // Truncation as Nav2's static_cast<unsigned char>.
        (f64::from(INSCRIBED_INFLATED_OBSTACLE - 1) * f) as u8
    } else {
        0
    }
}
