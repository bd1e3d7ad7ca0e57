//! The layered costmap node core: static layer ⊕ obstacle layer, then inflation.

use super::footprint::Footprint;
use super::inflation::{InflationKernel, inflated_cost};
use super::{
    CellWindow, Costmap2D, FREE_SPACE, INSCRIBED_INFLATED_OBSTACLE, LETHAL_OBSTACLE, NO_INFORMATION,
};
use crate::error::{PlanningError, Result};
use courier_core::{OccupancyGrid, Pose2};
use serde::{Deserialize, Serialize};

/// Parameters of a [`LayeredCostmap`], named and defaulted as in Nav2's costmap_2d.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CostmapParams {
    /// Robot footprint polygon in `base_link`, `[[x, y], …]` in metres; empty means a disc of
    /// `robot_radius`. Default: empty.
    pub footprint: Vec<[f64; 2]>,
    /// Radius (m) of a disc robot, used when `footprint` is empty. Default 0.1.
    pub robot_radius: f64,
    /// Distance (m) from an obstacle out to which cost is spread; at least the inscribed radius.
    /// Default 0.55.
    pub inflation_radius: f64,
    /// Decay rate (1/m) of the inflated cost beyond the inscribed radius. Default 10.0.
    pub cost_scaling_factor: f64,
    /// Static-map occupancy (0..=100) at or above which a cell is lethal. Default 100.
    pub lethal_threshold: i8,
    /// Keep unknown static cells (-1) as 255; otherwise they are free. Default true.
    pub track_unknown_space: bool,
    /// Let inflation raise unknown cells to any inflated cost; otherwise only to inscribed or
    /// lethal. Default false.
    pub inflate_unknown: bool,
}

impl Default for CostmapParams {
    fn default() -> Self {
        Self {
            footprint: Vec::new(),
            robot_radius: 0.1,
            inflation_radius: 0.55,
            cost_scaling_factor: 10.0,
            lethal_threshold: 100,
            track_unknown_space: true,
            inflate_unknown: false,
        }
    }
}

/// What [`LayeredCostmap::set_obstacles`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObstacleUpdate {
    /// The cells recomputed (`None` when no cell changed).
    pub window: Option<CellWindow>,
    /// Distinct cells now marked by the obstacle layer.
    pub marked_cells: usize,
    /// Points that fell outside the map and were ignored.
    pub off_map_points: usize,
}

/// A costmap of a static layer (from an occupancy grid) and an obstacle layer (live points),
/// inflated around lethal cells for the robot's footprint. See the [module docs](super).
#[derive(Debug, Clone)]
pub struct LayeredCostmap {
    params: CostmapParams,
    footprint: Footprint,
    kernel: InflationKernel,
    /// The static layer's costs.
    static_costs: Vec<u8>,
    /// Obstacle-layer marks, one per cell, and the sorted list of marked cells.
    marked: Vec<bool>,
    marked_cells: Vec<usize>,
    /// Static ⊕ obstacles, before inflation.
    base: Vec<u8>,
    master: Costmap2D,
}

impl LayeredCostmap {
    /// Builds the costmap of `grid` with no live obstacles.
    pub fn new(grid: &OccupancyGrid, params: CostmapParams) -> Result<Self> {
        let footprint = Footprint::new(&params.footprint, params.robot_radius)?;
        let check = |name: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(PlanningError::InvalidParameter {
                    name,
                    reason: format!("must be finite and ≥ 0, got {v}"),
                })
            }
        };
        check("inflation_radius", params.inflation_radius)?;
        check("cost_scaling_factor", params.cost_scaling_factor)?;
        if !(grid.resolution.is_finite() && grid.resolution > 0.0 && grid.origin.is_finite()) {
            return Err(PlanningError::InvalidInput {
                what: "occupancy grid".into(),
                reason: format!(
                    "resolution must be finite and > 0 and the origin finite, got resolution {}",
                    grid.resolution
                ),
            });
        }
        let inscribed = footprint.inscribed_radius();
        if params.inflation_radius < inscribed {
            return Err(PlanningError::InvalidParameter {
                name: "inflation_radius",
                reason: format!(
                    "{} m is less than the footprint's inscribed radius {inscribed} m",
                    params.inflation_radius
                ),
            });
        }
        let kernel = InflationKernel::new(
            grid.resolution,
            inscribed,
            params.inflation_radius,
            params.cost_scaling_factor,
        );
        let (w, h) = (grid.width(), grid.height());
        let static_costs = static_layer(grid, &params);
        let mut cm = Self {
            params,
            footprint,
            kernel,
            base: static_costs.clone(),
            static_costs,
            marked: vec![false; w * h],
            marked_cells: Vec::new(),
            master: Costmap2D::filled(w, h, grid.resolution, grid.origin, FREE_SPACE),
        };
        cm.recompute_all();
        Ok(cm)
    }

    /// The combined, inflated costmap.
    pub fn costmap(&self) -> &Costmap2D {
        &self.master
    }
    pub fn params(&self) -> &CostmapParams {
        &self.params
    }
    pub fn footprint(&self) -> &Footprint {
        &self.footprint
    }
    /// Largest disc (m) inside the footprint.
    pub fn inscribed_radius(&self) -> f64 {
        self.footprint.inscribed_radius()
    }
    /// Smallest disc (m) around the footprint.
    pub fn circumscribed_radius(&self) -> f64 {
        self.footprint.circumscribed_radius()
    }
    /// The inflated cost at the circumscribed radius: a robot centre on a cell of lower cost
    /// cannot touch an obstacle, whatever its heading (Nav2's `getCircumscribedCost`).
    pub fn circumscribed_cost(&self) -> u8 {
        inflated_cost(
            self.circumscribed_radius(),
            self.master.resolution,
            self.inscribed_radius(),
            self.params.inflation_radius,
            self.params.cost_scaling_factor,
        )
    }
    /// The inflation kernel in use.
    pub fn kernel(&self) -> &InflationKernel {
        &self.kernel
    }

    /// Replaces the live obstacles with `points` (map frame, metres): each point marks its cell
    /// lethal until the next call. Recomputes only the window around the cells that changed.
    /// A non-finite point is an error and leaves the costmap unchanged.
    pub fn set_obstacles(&mut self, points: &[[f64; 2]]) -> Result<ObstacleUpdate> {
        if let Some(i) = points
            .iter()
            .position(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(PlanningError::InvalidInput {
                what: "obstacle points".into(),
                reason: format!("point {i} is not finite: {:?}", points[i]),
            });
        }
        let (w, h) = (self.master.width, self.master.height);
        let mut cells = Vec::with_capacity(points.len());
        let mut off_map = 0;
        for p in points {
            let (c, r) = self.master.world_to_cell(p[0], p[1]);
            if c < 0 || r < 0 || c as usize >= w || r as usize >= h {
                off_map += 1;
            } else {
                cells.push(r as usize * w + c as usize);
            }
        }
        cells.sort_unstable();
        cells.dedup();
        // Cells whose mark flips: the symmetric difference of the old and new sorted lists.
        let mut changed: Option<CellWindow> = None;
        let (old, new) = (&self.marked_cells, &cells);
        let (mut i, mut j) = (0, 0);
        let mut flip = |k: usize, marked: &mut Vec<bool>| {
            marked[k] = !marked[k];
            let cell = CellWindow::cell(k % w, k / w);
            changed = Some(changed.map_or(cell, |c| c.union(&cell)));
        };
        while i < old.len() || j < new.len() {
            match (old.get(i), new.get(j)) {
                (Some(a), Some(b)) if a == b => {
                    i += 1;
                    j += 1;
                }
                (Some(&a), Some(&b)) if a < b => {
                    flip(a, &mut self.marked);
                    i += 1;
                }
                (Some(&a), None) => {
                    flip(a, &mut self.marked);
                    i += 1;
                }
                (_, Some(&b)) => {
                    flip(b, &mut self.marked);
                    j += 1;
                }
                (None, None) => unreachable!("loop condition"),
            }
        }
        let marked_cells = cells.len();
        self.marked_cells = cells;
        let window = changed.map(|c| {
            for row in c.row0..c.row1 {
                for col in c.col0..c.col1 {
                    let k = row * w + col;
                    self.base[k] = self.base_cost(k);
                }
            }
            let win = c.grown(self.kernel.radius_cells, w, h);
            self.inflate_window(win);
            win
        });
        Ok(ObstacleUpdate {
            window,
            marked_cells,
            off_map_points: off_map,
        })
    }

    /// Replaces the static layer with `grid` (same size, resolution and origin) and recomputes
    /// everything.
    pub fn set_static(&mut self, grid: &OccupancyGrid) -> Result<()> {
        if (grid.width(), grid.height()) != (self.master.width, self.master.height)
            || grid.resolution != self.master.resolution
            || grid.origin != self.master.origin
        {
            return Err(PlanningError::InvalidInput {
                what: "occupancy grid".into(),
                reason: format!(
                    "a new static map must match the costmap's {}x{} cells at {} m",
                    self.master.width, self.master.height, self.master.resolution
                ),
            });
        }
        self.static_costs = static_layer(grid, &self.params);
        for k in 0..self.base.len() {
            self.base[k] = self.base_cost(k);
        }
        self.recompute_all();
        Ok(())
    }

    /// Recomputes the whole costmap from the layers (what a windowed update must equal).
    pub fn recompute_all(&mut self) {
        let win = CellWindow::full(self.master.width, self.master.height);
        self.inflate_window(win);
    }

    /// Highest cost under the footprint placed at `pose` (map frame), as Nav2's footprint
    /// collision checker: the centre cell's cost for a disc robot (inflation already holds its
    /// radius), else the maximum over the polygon's outline and its centre cell. Off the map
    /// counts as [`NO_INFORMATION`]. See [`Self::in_collision`] for the verdict.
    pub fn footprint_cost(&self, pose: &Pose2) -> u8 {
        let cm = &self.master;
        let centre = cm.cost_at(pose.x(), pose.y()).unwrap_or(NO_INFORMATION);
        let outline = self.footprint.oriented(pose);
        let mut worst = centre;
        for i in 0..outline.len() {
            let (a, b) = (outline[i], outline[(i + 1) % outline.len()]);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            // Half-cell steps visit every cell the edge crosses (up to corner grazes).
            let n = (2.0 * len / cm.resolution).ceil().max(1.0) as usize;
            for s in 0..=n {
                let t = s as f64 / n as f64;
                let c = cm
                    .cost_at(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
                    .unwrap_or(NO_INFORMATION);
                worst = worst.max(c);
                if worst == NO_INFORMATION {
                    return worst;
                }
            }
        }
        worst
    }

    /// Does the robot at `pose` touch an obstacle? True when the centre cell is inscribed or
    /// lethal, when the polygon's outline crosses a lethal cell, or (unless `allow_unknown`)
    /// when any of those cells is unknown or off the map.
    pub fn in_collision(&self, pose: &Pose2, allow_unknown: bool) -> bool {
        let centre = self
            .master
            .cost_at(pose.x(), pose.y())
            .unwrap_or(NO_INFORMATION);
        if centre == NO_INFORMATION {
            return !allow_unknown;
        }
        if centre >= INSCRIBED_INFLATED_OBSTACLE {
            return true;
        }
        match self.footprint_cost(pose) {
            LETHAL_OBSTACLE => true,
            NO_INFORMATION => !allow_unknown,
            _ => false,
        }
    }

    fn base_cost(&self, k: usize) -> u8 {
        if self.marked[k] {
            LETHAL_OBSTACLE
        } else {
            self.static_costs[k]
        }
    }

    /// A lethal cell with a non-lethal 4-neighbour on the map. The nearest lethal cell to any
    /// non-lethal cell is such a cell (one step from it towards the query cell is closer, so not
    /// lethal), so inflating from these alone gives the same costs, faster.
    fn is_boundary(&self, col: usize, row: usize) -> bool {
        let (w, h) = (self.master.width, self.master.height);
        let k = row * w + col;
        (col > 0 && self.base[k - 1] != LETHAL_OBSTACLE)
            || (col + 1 < w && self.base[k + 1] != LETHAL_OBSTACLE)
            || (row > 0 && self.base[k - w] != LETHAL_OBSTACLE)
            || (row + 1 < h && self.base[k + w] != LETHAL_OBSTACLE)
    }

    /// Recomputes the master costs inside `win`: the layers' base cost, raised by every lethal
    /// cell within the inflation reach of the window.
    fn inflate_window(&mut self, win: CellWindow) {
        let (w, h) = (self.master.width, self.master.height);
        for row in win.row0..win.row1 {
            let k = row * w;
            self.master.data[k + win.col0..k + win.col1]
                .copy_from_slice(&self.base[k + win.col0..k + win.col1]);
        }
        let r = self.kernel.radius_cells;
        let side = 2 * r + 1;
        let inflate_unknown = self.params.inflate_unknown;
        let src = win.grown(r, w, h);
        for row in src.row0..src.row1 {
            for col in src.col0..src.col1 {
                if self.base[row * w + col] != LETHAL_OBSTACLE || !self.is_boundary(col, row) {
                    continue;
                }
                // The kernel centred on (col, row), clipped to the window.
                let c0 = col.saturating_sub(r).max(win.col0);
                let c1 = (col + r + 1).min(win.col1);
                let r0 = row.saturating_sub(r).max(win.row0);
                let r1 = (row + r + 1).min(win.row1);
                for rr in r0..r1 {
                    // Kernel row for map row rr, from the column c0.
                    let k0 = (rr + r - row) * side + r + c0 - col;
                    let kernel = &self.kernel.costs[k0..k0 + (c1 - c0)];
                    let out = &mut self.master.data[rr * w + c0..rr * w + c1];
                    for (t, &k) in out.iter_mut().zip(kernel) {
                        if *t == NO_INFORMATION {
                            // Unknown space is overwritten only by costs that matter (Nav2).
                            if k >= INSCRIBED_INFLATED_OBSTACLE
                                || (inflate_unknown && k > FREE_SPACE)
                            {
                                *t = k;
                            }
                        } else if k > *t {
                            *t = k;
                        }
                    }
                }
            }
        }
    }
}

/// Nav2's static layer reading of occupancy values.
fn static_layer(grid: &OccupancyGrid, p: &CostmapParams) -> Vec<u8> {
    let (w, h) = (grid.width(), grid.height());
    let mut out = vec![FREE_SPACE; w * h];
    for row in 0..h {
        for col in 0..w {
            let v = grid.data[[row, col]];
            out[row * w + col] = if v < 0 {
                if p.track_unknown_space {
                    NO_INFORMATION
                } else {
                    FREE_SPACE
                }
            } else if v >= p.lethal_threshold {
                LETHAL_OBSTACLE
            } else {
                FREE_SPACE
            };
        }
    }
    out
}
