//! The robot's footprint: a polygon in `base_link`, or a disc.

use crate::error::{PlanningError, Result};
use courier_core::Pose2;

/// A robot footprint in `base_link` (metres, REP-103).
#[derive(Debug, Clone, PartialEq)]
pub enum Footprint {
    /// A disc of this radius around the origin of `base_link`.
    Disc(f64),
    /// A simple polygon (either winding), at least 3 vertices, around the origin of `base_link`.
    Polygon(Vec<[f64; 2]>),
}

impl Footprint {
    /// A polygon footprint if `polygon` is non-empty, else a disc of `radius`; checks values.
    pub fn new(polygon: &[[f64; 2]], radius: f64) -> Result<Self> {
        if polygon.is_empty() {
            if !(radius.is_finite() && radius >= 0.0) {
                return Err(PlanningError::InvalidParameter {
                    name: "robot_radius",
                    reason: format!("must be finite and ≥ 0, got {radius}"),
                });
            }
            return Ok(Footprint::Disc(radius));
        }
        if polygon.len() < 3 {
            return Err(PlanningError::InvalidParameter {
                name: "footprint",
                reason: format!("a polygon needs at least 3 vertices, got {}", polygon.len()),
            });
        }
        if let Some(i) = polygon
            .iter()
            .position(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(PlanningError::InvalidParameter {
                name: "footprint",
                reason: format!("vertex {i} is not finite: {:?}", polygon[i]),
            });
        }
        Ok(Footprint::Polygon(polygon.to_vec()))
    }

    /// Distance from the origin to the nearest edge: the largest disc inside the footprint
    /// (Nav2's inscribed radius).
    pub fn inscribed_radius(&self) -> f64 {
        match self {
            Footprint::Disc(r) => *r,
            Footprint::Polygon(p) => edges(p)
                .map(|(a, b)| point_segment_distance([0.0, 0.0], a, b))
                .fold(f64::INFINITY, f64::min),
        }
    }

    /// Distance from the origin to the farthest vertex (Nav2's circumscribed radius).
    pub fn circumscribed_radius(&self) -> f64 {
        match self {
            Footprint::Disc(r) => *r,
            Footprint::Polygon(p) => p.iter().map(|v| v[0].hypot(v[1])).fold(0.0, f64::max),
        }
    }

    /// The polygon's vertices placed at `pose` in the map frame (empty for a disc).
    pub fn oriented(&self, pose: &Pose2) -> Vec<[f64; 2]> {
        match self {
            Footprint::Disc(_) => Vec::new(),
            Footprint::Polygon(p) => p
                .iter()
                .map(|v| {
                    let q = pose.transform_point(&nalgebra::Point2::new(v[0], v[1]));
                    [q.x, q.y]
                })
                .collect(),
        }
    }
}

/// The closed polygon's edges.
fn edges(p: &[[f64; 2]]) -> impl Iterator<Item = ([f64; 2], [f64; 2])> + '_ {
    (0..p.len()).map(move |i| (p[i], p[(i + 1) % p.len()]))
}

fn point_segment_distance(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
    let len2 = abx * abx + aby * aby;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p[0] - a[0] - t * abx).hypot(p[1] - a[1] - t * aby)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radii_of_a_rectangle() {
        let f = Footprint::new(&[[0.5, 0.3], [-0.5, 0.3], [-0.5, -0.3], [0.5, -0.3]], 0.0).unwrap();
        assert!((f.inscribed_radius() - 0.3).abs() < 1e-12);
        assert!((f.circumscribed_radius() - 0.5f64.hypot(0.3)).abs() < 1e-12);
        assert!(Footprint::new(&[[0.0, 0.0], [1.0, 0.0]], 0.0).is_err());
        assert!(Footprint::new(&[], f64::NAN).is_err());
        assert_eq!(Footprint::new(&[], 0.2).unwrap().inscribed_radius(), 0.2);
    }
}
