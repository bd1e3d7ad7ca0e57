//! The likelihood field: for every map cell, the distance to the nearest occupied cell (capped),
//! so the beam model is one lookup per beam end point.

use courier_core::maps::OccupancyGrid;
use std::collections::VecDeque;

/// Nav2's reading of occupancy values: ≥ 65 occupied, 0..65 free, negative unknown.
pub const OCCUPIED_THRESHOLD: i8 = 65;

#[derive(Debug, Clone)]
pub struct LikelihoodField {
    width: usize,
    height: usize,
    /// Distance to the nearest obstacle (m), capped at `max_dist`; row-major, row 0 at the origin.
    dist: Vec<f32>,
    max_dist: f64,
}

impl LikelihoodField {
    /// Brushfire from all occupied cells; each cell keeps the nearest obstacle seen by its
    /// neighbours (an 8-connected approximation of the Euclidean distance transform, exact to
    /// within a fraction of a cell at these ranges).
    pub fn new(map: &OccupancyGrid, max_dist: f64) -> Self {
        let (w, h) = (map.width(), map.height());
        let mut dist = vec![f32::INFINITY; w * h];
        let mut nearest = vec![(u32::MAX, u32::MAX); w * h];
        let mut queue = VecDeque::new();
        for ((row, col), &v) in map.data.indexed_iter() {
            if v >= OCCUPIED_THRESHOLD {
                let i = row * w + col;
                dist[i] = 0.0;
                nearest[i] = (col as u32, row as u32);
                queue.push_back(i);
            }
        }
        let res = map.resolution;
        let max_cells = max_dist / res;
        while let Some(i) = queue.pop_front() {
            let (c, r) = ((i % w) as i64, (i / w) as i64);
            let (oc, or) = nearest[i];
            for (dc, dr) in [
                (-1, 0),
                (1, 0),
                (0, -1),
                (0, 1),
                (-1, -1),
                (1, 1),
                (-1, 1),
                (1, -1),
            ] {
                let (nc, nr) = (c + dc, r + dr);
                if nc < 0 || nr < 0 || nc >= w as i64 || nr >= h as i64 {
                    continue;
                }
                let j = nr as usize * w + nc as usize;
                let d = ((nc - i64::from(oc)) as f64).hypot((nr - i64::from(or)) as f64);
                if d <= max_cells && (d as f32) < dist[j] {
                    dist[j] = d as f32;
                    nearest[j] = (oc, or);
                    queue.push_back(j);
                }
            }
        }
        for d in &mut dist {
            *d = if d.is_finite() {
                (f64::from(*d) * res) as f32
            } else {
                max_dist as f32
            };
        }
        Self {
            width: w,
            height: h,
            dist,
            max_dist,
        }
    }

    /// Distance (m) to the nearest obstacle from cell (col, row); `max_dist` off the map.
    pub fn distance(&self, col: i64, row: i64) -> f64 {
        if col < 0 || row < 0 || col >= self.width as i64 || row >= self.height as i64 {
            return self.max_dist;
        }
        f64::from(self.dist[row as usize * self.width + col as usize])
    }
}
