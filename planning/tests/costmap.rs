//! Costmap tests: inflation values against Nav2's formula, footprint radii, unknown space, and
//! windowed updates against a full recompute and a brute-force reference.

use courier_core::maps::{OCCUPIED, UNKNOWN};
use courier_core::{OccupancyGrid, Pose2};
use courier_planning::PlanningError;
use courier_planning::costmap::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The formula written out independently of the crate's kernel.
fn expected(d_m: f64, inscribed: f64, inflation: f64, factor: f64) -> u8 {
    if d_m == 0.0 {
        254
    } else if d_m <= inscribed + 1e-9 {
        253
    } else if d_m <= inflation + 1e-9 {
        (252.0 * (-factor * (d_m - inscribed)).exp()).floor() as u8
    } else {
        0
    }
}

/// Brute force: every cell's cost from its distance to the nearest lethal cell.
fn brute_force(cm: &LayeredCostmap, lethal: &[bool], unknown: &[bool]) -> Vec<u8> {
    let c = cm.costmap();
    let p = cm.params();
    let (w, h) = (c.width, c.height);
    let mut out = vec![0u8; w * h];
    for k in 0..w * h {
        let (x, y) = ((k % w) as f64, (k / w) as f64);
        let mut best = f64::INFINITY;
        for (q, &l) in lethal.iter().enumerate() {
            if l {
                let d = (x - (q % w) as f64).hypot(y - (q / w) as f64) * c.resolution;
                best = best.min(d);
            }
        }
        let v = expected(
            best,
            cm.inscribed_radius(),
            p.inflation_radius,
            p.cost_scaling_factor,
        );
        out[k] = if unknown[k] && !lethal[k] {
            if v >= 253 || (p.inflate_unknown && v > 0) {
                v
            } else {
                255
            }
        } else {
            v
        };
    }
    out
}

#[test]
fn single_obstacle_matches_nav2_formula() {
    let mut grid = OccupancyGrid::filled(41, 31, 0.05, Pose2::new(-1.0, 0.5, 0.0), 0);
    grid.data[[15, 20]] = OCCUPIED;
    let params = CostmapParams {
        robot_radius: 0.12,
        inflation_radius: 0.6,
        cost_scaling_factor: 5.0,
        ..Default::default()
    };
    let cm = LayeredCostmap::new(&grid, params).unwrap();
    let c = cm.costmap();
    let mut seen = std::collections::BTreeSet::new();
    for row in 0..31 {
        for col in 0..41 {
            let d = ((col as f64 - 20.0).hypot(row as f64 - 15.0)) * 0.05;
            let want = expected(d, 0.12, 0.6, 5.0);
            assert_eq!(c.get(col, row), Some(want), "cell ({col}, {row}), d = {d}");
            seen.insert(want);
        }
    }
    // The test covers every regime: lethal, inscribed, decaying, free.
    assert!(seen.contains(&254) && seen.contains(&253) && seen.contains(&0));
    assert!(seen.iter().any(|&v| v > 0 && v < 253));
    // World lookup agrees with the cell grid (origin honoured).
    let (x, y) = c.cell_to_world(20, 15);
    assert_eq!(c.cost_at(x, y), Some(LETHAL_OBSTACLE));
    assert_eq!(c.cost_at(-1.01, 0.6), None);
}

#[test]
fn polygon_footprint_sets_inscribed_radius() {
    let mut grid = OccupancyGrid::filled(30, 30, 0.1, Pose2::identity(), 0);
    grid.data[[15, 15]] = OCCUPIED;
    let params = CostmapParams {
        footprint: vec![[0.45, 0.25], [-0.45, 0.25], [-0.45, -0.25], [0.45, -0.25]],
        inflation_radius: 1.0,
        cost_scaling_factor: 3.0,
        ..Default::default()
    };
    let cm = LayeredCostmap::new(&grid, params).unwrap();
    assert!((cm.inscribed_radius() - 0.25).abs() < 1e-12);
    let c = cm.costmap();
    assert_eq!(c.get(17, 15), Some(INSCRIBED_INFLATED_OBSTACLE)); // 0.2 m
    assert_eq!(c.get(18, 15), Some(expected(0.3, 0.25, 1.0, 3.0))); // 0.3 m
    assert!(c.get(18, 15).unwrap() < 253);
    assert_eq!(
        cm.circumscribed_cost(),
        expected(0.45f64.hypot(0.25), 0.25, 1.0, 3.0)
    );
    // A wall along column 15: robot centred 0.35 m from it, long side across it: collision.
    let mut walled = grid.clone();
    for row in 0..30 {
        walled.data[[row, 15]] = OCCUPIED;
    }
    let cm_wall = LayeredCostmap::new(&walled, cm.params().clone()).unwrap();
    let (ox, oy) = c.cell_to_world(15, 15);
    let pose = Pose2::new(ox + 0.35, oy, 0.0);
    assert_eq!(cm_wall.footprint_cost(&pose), LETHAL_OBSTACLE);
    assert!(cm_wall.in_collision(&pose, false));
    // Turned 90°, the short side faces the wall and 0.35 m > 0.25 m clears it.
    let turned = Pose2::new(ox + 0.35, oy, std::f64::consts::FRAC_PI_2);
    assert!(cm_wall.footprint_cost(&turned) < LETHAL_OBSTACLE);
    assert!(!cm_wall.in_collision(&turned, false));
    // Half off the map: unknown.
    assert!(cm_wall.in_collision(&Pose2::new(0.1, 0.1, 0.0), false));
    // Inflation smaller than the inscribed radius is refused.
    let bad = CostmapParams {
        robot_radius: 0.5,
        inflation_radius: 0.3,
        ..Default::default()
    };
    assert!(matches!(
        LayeredCostmap::new(&grid, bad),
        Err(PlanningError::InvalidParameter {
            name: "inflation_radius",
            ..
        })
    ));
}

#[test]
fn unknown_space_is_kept_unless_inscribed() {
    let mut grid = OccupancyGrid::filled(20, 5, 0.1, Pose2::identity(), UNKNOWN);
    grid.data[[2, 0]] = OCCUPIED;
    let params = CostmapParams {
        robot_radius: 0.15,
        inflation_radius: 0.5,
        ..Default::default()
    };
    let cm = LayeredCostmap::new(&grid, params.clone()).unwrap();
    let c = cm.costmap();
    assert_eq!(c.get(0, 2), Some(LETHAL_OBSTACLE));
    assert_eq!(c.get(1, 2), Some(INSCRIBED_INFLATED_OBSTACLE));
    assert_eq!(c.get(3, 2), Some(NO_INFORMATION));
    let cm = LayeredCostmap::new(
        &grid,
        CostmapParams {
            inflate_unknown: true,
            ..params.clone()
        },
    )
    .unwrap();
    assert_eq!(cm.costmap().get(3, 2), Some(expected(0.3, 0.15, 0.5, 10.0)));
    let cm = LayeredCostmap::new(
        &grid,
        CostmapParams {
            track_unknown_space: false,
            ..params
        },
    )
    .unwrap();
    assert_eq!(cm.costmap().get(19, 0), Some(FREE_SPACE));
}

#[test]
fn bad_points_are_refused_without_change() {
    let grid = OccupancyGrid::filled(10, 10, 0.1, Pose2::identity(), 0);
    let mut cm = LayeredCostmap::new(&grid, CostmapParams::default()).unwrap();
    cm.set_obstacles(&[[0.55, 0.55]]).unwrap();
    let before = cm.costmap().clone();
    let err = cm
        .set_obstacles(&[[0.1, 0.1], [f64::NAN, 0.2]])
        .unwrap_err();
    assert!(err.to_string().contains("point 1"), "{err}");
    assert_eq!(cm.costmap(), &before);
    let up = cm
        .set_obstacles(&[[0.55, 0.55], [5.0, 5.0], [-0.01, 0.5]])
        .unwrap();
    assert_eq!(
        (up.window, up.marked_cells, up.off_map_points),
        (None, 1, 2)
    );
}

#[test]
fn windowed_updates_equal_full_recompute_and_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..6 {
        let (w, h) = (rng.random_range(20..60), rng.random_range(20..60));
        let res = [0.05, 0.1, 0.2][case % 3];
        let mut grid = OccupancyGrid::filled(w, h, res, Pose2::new(1.0, -2.0, 0.3), 0);
        for v in grid.data.iter_mut() {
            let u: f64 = rng.random();
            *v = if u < 0.06 {
                OCCUPIED
            } else if u < 0.1 {
                UNKNOWN
            } else if u < 0.15 {
                60 // below the lethal threshold: free
            } else {
                0
            };
        }
        let params = CostmapParams {
            robot_radius: rng.random_range(0.0..0.3),
            inflation_radius: rng.random_range(0.3..0.8),
            cost_scaling_factor: rng.random_range(1.0..12.0),
            inflate_unknown: case % 2 == 1,
            ..Default::default()
        };
        let mut cm = LayeredCostmap::new(&grid, params).unwrap();
        let static_lethal: Vec<bool> = (0..w * h)
            .map(|k| grid.data[[k / w, k % w]] == OCCUPIED)
            .collect();
        let unknown: Vec<bool> = (0..w * h)
            .map(|k| grid.data[[k / w, k % w]] == UNKNOWN)
            .collect();
        let mut windows = 0;
        for round in 0..25 {
            // A few clusters of points, as a scan of moving obstacles would give.
            let mut pts = Vec::new();
            for _ in 0..rng.random_range(0..4) {
                let (cc, cr) = (rng.random_range(0..w), rng.random_range(0..h));
                for _ in 0..rng.random_range(1..12) {
                    let col = cc as f64 + rng.random_range(-3.0..3.0);
                    let row = cr as f64 + rng.random_range(-3.0..3.0);
                    let local = nalgebra::Point2::new(col * res, row * res);
                    let p = grid.origin.transform_point(&local);
                    pts.push([p.x, p.y]);
                }
            }
            let up = cm.set_obstacles(&pts).unwrap();
            if let Some(win) = up.window {
                windows += 1;
                assert!(win.area() <= w * h);
            }
            let mut full = cm.clone();
            full.recompute_all();
            assert_eq!(cm.costmap(), full.costmap(), "case {case} round {round}");
            if round % 5 == 0 {
                let mut lethal = static_lethal.clone();
                for p in &pts {
                    let (c, r) = cm.costmap().world_to_cell(p[0], p[1]);
                    if c >= 0 && r >= 0 && (c as usize) < w && (r as usize) < h {
                        lethal[r as usize * w + c as usize] = true;
                    }
                }
                assert_eq!(
                    cm.costmap().data,
                    brute_force(&cm, &lethal, &unknown),
                    "case {case} round {round} vs brute force"
                );
            }
        }
        assert!(windows > 10, "the test must exercise windowed updates");
    }
}
