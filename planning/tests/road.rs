//! Road routing: OSM parsing (oneway, maxspeed), fastest routes against brute force, and
//! delivery-run ordering (Held-Karp against brute force, the heuristic against Held-Karp).

use courier_planning::hybrid::PlanError;
use courier_planning::road::tour::{synthetic_matrix, tour_cost};
use courier_planning::road::{
    RoadGraph, RoadParams, TourParams, brute_force, held_karp, order_stops, parse_osm,
    solve_heuristic,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn town() -> RoadGraph {
    let xml = include_str!("data/grid_town.osm");
    parse_osm(xml, &RoadParams::default()).expect("fixture parses")
}

fn has_edge(g: &RoadGraph, a: i64, b: i64) -> Option<f64> {
    let (ia, ib) = (g.node(a).ok()?, g.node(b).ok()?);
    g.out[ia].iter().find(|e| e.to == ib).map(|e| e.speed_mps)
}

#[test]
fn osm_oneway_maxspeed_and_filters() {
    let g = town();
    assert_eq!(g.nodes.len(), 9, "node 10 is only on a building");
    // Residential both ways at the default 30 km/h.
    assert!((has_edge(&g, 1, 2).expect("1→2") - 30.0 / 3.6).abs() < 1e-9);
    assert!(has_edge(&g, 2, 1).is_some());
    // Primary with maxspeed 60, capped at the vehicle's 13.9 m/s top speed.
    assert!((has_edge(&g, 4, 5).expect("4→5") - 13.9).abs() < 1e-9);
    let fast = parse_osm(
        include_str!("data/grid_town.osm"),
        &RoadParams {
            max_vehicle_speed: 30.0,
            ..Default::default()
        },
    )
    .expect("parses");
    assert!((has_edge(&fast, 4, 5).expect("4→5") - 60.0 / 3.6).abs() < 1e-9);
    // oneway=yes: 7→8 only.
    assert!(has_edge(&g, 7, 8).is_some() && has_edge(&g, 8, 7).is_none());
    // oneway=-1: 8→5→2 only.
    assert!(has_edge(&g, 5, 2).is_some() && has_edge(&g, 2, 5).is_none());
    assert!((has_edge(&g, 5, 2).expect("5→2") - 50.0 / 3.6).abs() < 1e-9);
    // 20 mph.
    assert!((has_edge(&g, 1, 4).expect("1→4") - 20.0 * 1.609_344 / 3.6).abs() < 1e-9);
    // maxspeed=none falls back to the class default.
    assert!((has_edge(&g, 3, 6).expect("3→6") - 30.0 / 3.6).abs() < 1e-9);
    // Footway and private service road excluded.
    assert!(has_edge(&g, 1, 5).is_none() && has_edge(&g, 9, 6).map(|s| s > 5.0) == Some(true));
    assert_eq!(g.edge_count(), 2 * 2 + 2 * 2 + 2 + 2 * 2 + 2 + 2 * 2);
    // Positions: node 2 is ~113 m east of node 1.
    let (p1, p2) = (
        g.nodes[g.node(1).expect("1")].pos,
        g.nodes[g.node(2).expect("2")].pos,
    );
    assert!(
        ((p2[0] - p1[0]) - 112.6).abs() < 1.0 && (p2[1] - p1[1]).abs() < 0.1,
        "{p1:?} {p2:?}"
    );
    // Sidewalk robots may use the footway.
    let walk = parse_osm(
        include_str!("data/grid_town.osm"),
        &RoadParams {
            include_paths: true,
            ..Default::default()
        },
    )
    .expect("parses");
    assert!(has_edge(&walk, 1, 5).is_some());
}

/// Fastest time by enumerating every simple path.
fn brute_route(g: &RoadGraph, from: usize, to: usize) -> f64 {
    fn dfs(g: &RoadGraph, u: usize, to: usize, seen: &mut Vec<bool>, t: f64, best: &mut f64) {
        if u == to {
            *best = best.min(t);
            return;
        }
        for e in &g.out[u] {
            if !seen[e.to] {
                seen[e.to] = true;
                dfs(g, e.to, to, seen, t + e.time_s, best);
                seen[e.to] = false;
            }
        }
    }
    let mut seen = vec![false; g.nodes.len()];
    seen[from] = true;
    let mut best = f64::INFINITY;
    dfs(g, from, to, &mut seen, 0.0, &mut best);
    best
}

#[test]
fn routes_match_brute_force() {
    let g = town();
    for a in 0..g.nodes.len() {
        let times = g.times_from(a).expect("valid node");
        for (b, &tb) in times.iter().enumerate() {
            let want = brute_route(&g, a, b);
            let r = g.route(a, b).expect("valid nodes");
            match r {
                None => assert!(want.is_infinite()),
                Some(r) => {
                    assert!(
                        (r.time_s - want).abs() < 1e-9,
                        "{a}→{b}: {} vs {want}",
                        r.time_s
                    );
                    assert!((tb - want).abs() < 1e-9);
                    // The node sequence follows edges and adds up to the time.
                    let t: f64 = r
                        .nodes
                        .windows(2)
                        .map(|w| {
                            g.out[w[0]]
                                .iter()
                                .filter(|e| e.to == w[1])
                                .map(|e| e.time_s)
                                .fold(f64::INFINITY, f64::min)
                        })
                        .sum();
                    assert!((t - r.time_s).abs() < 1e-9);
                }
            }
        }
    }
    // One-way 8→7 is forbidden, so 8 → 7 must detour.
    let (n8, n7) = (g.node(8).expect("8"), g.node(7).expect("7"));
    let r = g.route(n8, n7).expect("ok").expect("reachable");
    assert!(r.nodes.len() > 2);
    assert!(matches!(g.route(0, 99), Err(PlanError::UnknownNode(99))));
}

#[test]
fn malformed_osm_is_a_typed_error() {
    let bad = r#"<osm><node id="1" lat="abc" lon="2"/></osm>"#;
    match parse_osm(bad, &RoadParams::default()) {
        Err(PlanError::Osm { location, message }) => {
            assert!(location.contains("line 1"), "{location}");
            assert!(message.contains("lat"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_osm("<osm><node id=", &RoadParams::default()),
        Err(PlanError::Osm { .. })
    ));
    assert!(matches!(
        parse_osm("<gpx/>", &RoadParams::default()),
        Err(PlanError::Osm { .. })
    ));
}

fn random_matrix(rng: &mut ChaCha8Rng, n: usize) -> Vec<Vec<f64>> {
    synthetic_matrix(n, rng.random())
}

#[test]
fn held_karp_equals_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for n in 0..=8 {
        for ret in [true, false] {
            let m = random_matrix(&mut rng, n);
            let hk = held_karp(&m, ret).expect("ok");
            let bf = brute_force(&m, ret).expect("ok");
            assert!(
                (hk.cost - bf.cost).abs() < 1e-6,
                "n={n}: {} vs {}",
                hk.cost,
                bf.cost
            );
            assert!((tour_cost(&m, &hk.order, ret) - hk.cost).abs() < 1e-6);
            let mut o = hk.order.clone();
            o.sort_unstable();
            assert_eq!(o, (1..=n).collect::<Vec<_>>());
        }
    }
}

#[test]
fn heuristic_is_close_to_held_karp() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut worst, mut sum, mut count) = (0.0f64, 0.0, 0);
    for n in 10..=12 {
        for ret in [true, false] {
            for _ in 0..3 {
                let m = random_matrix(&mut rng, n);
                let hk = held_karp(&m, ret).expect("ok");
                let h = solve_heuristic(&m, ret, TourParams::default().kicks, 1).expect("ok");
                assert!((tour_cost(&m, &h.order, ret) - h.cost).abs() < 1e-6);
                let gap = h.cost / hk.cost - 1.0;
                assert!(gap > -1e-9, "heuristic beat the optimum: {gap}");
                worst = worst.max(gap);
                sum += gap;
                count += 1;
            }
        }
    }
    assert!(worst < 0.03, "worst gap {worst}");
    assert!(
        sum / (count as f64) < 0.01,
        "mean gap {}",
        sum / count as f64
    );
}

#[test]
fn heuristic_handles_two_hundred_stops_deterministically() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let m = random_matrix(&mut rng, 200);
    let a = solve_heuristic(&m, true, 20, 3).expect("ok");
    let b = solve_heuristic(&m, true, 20, 3).expect("ok");
    assert_eq!(a, b);
    let mut o = a.order.clone();
    o.sort_unstable();
    assert_eq!(o, (1..=200).collect::<Vec<_>>());
    // Far better than visiting in index order.
    let naive = tour_cost(&m, &(1..=200).collect::<Vec<_>>(), true);
    assert!(a.cost < 0.2 * naive, "{} vs {naive}", a.cost);
}

#[test]
fn order_stops_on_the_town() {
    let g = town();
    let ids = [9i64, 3, 7, 5];
    let stops: Vec<usize> = ids.iter().map(|&i| g.node(i).expect("in graph")).collect();
    let depot = g.node(1).expect("depot");
    let t = order_stops(&g, depot, &stops, &TourParams::default()).expect("ok");
    let mut nodes = vec![depot];
    nodes.extend_from_slice(&stops);
    let m = g.time_matrix(&nodes).expect("ok");
    let bf = brute_force(&m, true).expect("ok");
    assert!((t.cost - bf.cost).abs() < 1e-6);
    // Unreachable: a matrix with ∞ is a typed error.
    let m = vec![vec![0.0, f64::INFINITY], vec![1.0, 0.0]];
    assert!(matches!(
        held_karp(&m, true),
        Err(PlanError::Unreachable { from: 0, to: 1 })
    ));
}
