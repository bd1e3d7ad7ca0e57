//! LNS refinement and its single-agent planner: SIPP against a brute-force search over
//! (cell, step), and LNS improving a crowded generated instance while staying valid.

// Test helpers may unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::needless_range_loop)]

use courier_core::maps::GridMap;
use courier_fleet::mapf::sipp::{Reservations, Sipp};
use courier_fleet::mapf::{self, Cell, Deadline, Grid, Instance, MapfParams, bfs_from, validate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random map with about `block` of its cells blocked.
fn random_map(rng: &mut ChaCha8Rng, w: usize, h: usize, block: f64) -> GridMap {
    GridMap::new(
        w,
        h,
        (0..w * h).map(|_| rng.random::<f64>() >= block).collect(),
    )
}

/// Where a path is at step `t` (it stays at its end).
fn at(p: &[Cell], t: usize) -> Cell {
    p[t.min(p.len() - 1)]
}

/// Does `q` conflict with `p` (vertex, swap, or either one's goal holding)?
fn conflicts(p: &[Cell], q: &[Cell]) -> bool {
    let horizon = p.len().max(q.len()) + 1;
    (0..horizon).any(|t| {
        at(p, t) == at(q, t) || (t > 0 && at(p, t) == at(q, t - 1) && at(p, t - 1) == at(q, t))
    })
}

/// Brute force: the earliest step at which an agent leaving `start` at 0 can be at `goal` and
/// stay there forever, avoiding `others` (breadth-first over (cell, step) up to `horizon`).
fn brute_force(grid: &Grid, others: &[Vec<Cell>], start: Cell, goal: Cell) -> Option<usize> {
    let horizon = others.iter().map(Vec::len).max().unwrap_or(1) + grid.size() + 2;
    let occupied = |v: Cell, t: usize| others.iter().any(|p| at(p, t) == v);
    let swaps = |u: Cell, v: Cell, t: usize| {
        others
            .iter()
            .any(|p| u != v && at(p, t) == v && at(p, t + 1) == u)
    };
    if occupied(start, 0) {
        return None;
    }
    let mut reach = vec![false; grid.size()];
    reach[start as usize] = true;
    for t in 0..horizon {
        if reach[goal as usize] && (t..horizon + 2).all(|s| !occupied(goal, s)) {
            return Some(t);
        }
        let mut next = vec![false; grid.size()];
        for v in 0..grid.size() as Cell {
            if !reach[v as usize] {
                continue;
            }
            for &u in grid.neighbors(v).iter().chain(std::iter::once(&v)) {
                if !occupied(u, t + 1) && !swaps(v, u, t) {
                    next[u as usize] = true;
                }
            }
        }
        reach = next;
    }
    None
}

/// A random walk of `len` steps from a random free cell (waits included).
fn random_walk(rng: &mut ChaCha8Rng, grid: &Grid, len: usize) -> Vec<Cell> {
    let free: Vec<Cell> = (0..grid.size() as Cell)
        .filter(|&v| grid.is_passable(v))
        .collect();
    let mut p = vec![free[rng.random_range(0..free.len())]];
    for _ in 0..len {
        let v = *p.last().unwrap();
        let n = grid.neighbors(v);
        let k = rng.random_range(0..=n.len());
        p.push(if k == n.len() { v } else { n[k] });
    }
    p
}

#[test]
fn sipp_finds_earliest_arrivals_like_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut found, mut none) = (0, 0);
    for case in 0..300 {
        let map = random_map(&mut rng, 5 + case % 3, 4 + case % 4, 0.2);
        let grid = Grid::new(&map).unwrap();
        if grid.passable_count() < 4 {
            continue;
        }
        // Conflict-free other agents with distinct end cells (their goals).
        let mut others: Vec<Vec<Cell>> = Vec::new();
        for _ in 0..200 {
            if others.len() > case % 5 {
                break;
            }
            let len = rng.random_range(0..12);
            let p = random_walk(&mut rng, &grid, len);
            let end = *p.last().unwrap();
            if others
                .iter()
                .all(|q| !conflicts(q, &p) && *q.last().unwrap() != end)
            {
                others.push(p);
            }
        }
        let me_walk = random_walk(&mut rng, &grid, 0);
        let start = me_walk[0];
        let goal = random_walk(&mut rng, &grid, 0)[0];
        let mut goals: Vec<Cell> = others.iter().map(|p| *p.last().unwrap()).collect();
        if goals.contains(&goal) || bfs_from(&grid, goal)[start as usize] == u32::MAX {
            continue;
        }
        goals.push(goal);
        let me = goals.len() - 1;
        let mut res = Reservations::new(grid.size(), &goals);
        for (i, p) in others.iter().enumerate() {
            res.add(i, p);
        }
        let dist = bfs_from(&grid, goal);
        let mut sipp = Sipp::default();
        let mut path = Vec::new();
        let ok = sipp.plan(
            &grid,
            &res,
            me,
            start,
            goal,
            |v| dist[v as usize],
            u64::MAX,
            &Deadline::never(),
            &mut path,
        );
        let expect = brute_force(&grid, &others, start, goal);
        match expect {
            Some(cost) => {
                assert!(ok, "case {case}: SIPP found no path, brute force {cost}");
                assert_eq!(
                    path.len() - 1,
                    cost,
                    "case {case}: not the earliest arrival"
                );
                assert_eq!((path[0], *path.last().unwrap()), (start, goal));
                for t in 1..path.len() {
                    assert!(grid.is_step(path[t - 1], path[t]), "case {case}: jump");
                }
                for q in &others {
                    assert!(!conflicts(q, &path), "case {case}: conflict {q:?} {path:?}");
                }
                found += 1;
            }
            None => {
                assert!(!ok, "case {case}: SIPP found {path:?}, brute force none");
                none += 1;
            }
        }
        // Removing everyone leaves the plain shortest path.
        for (i, p) in others.iter().enumerate() {
            res.remove(i, p);
        }
        let free = sipp.plan(
            &grid,
            &res,
            me,
            start,
            goal,
            |v| dist[v as usize],
            u64::MAX,
            &Deadline::never(),
            &mut path,
        );
        assert!(free && path.len() - 1 == dist[start as usize] as usize);
    }
    // Both outcomes were exercised, mostly with paths.
    assert!(found > 100 && none > 0, "found {found}, none {none}");
}

/// A crowded random instance: `n` agents with distinct random starts and goals in the
/// largest... (any) connected component of a random map.
fn crowded(seed: u64, w: usize, h: usize, n: usize) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let map = random_map(&mut rng, w, h, 0.15);
    let grid = Grid::new(&map).unwrap();
    let comp = grid.components();
    let mut count = std::collections::HashMap::new();
    for &c in comp.iter().filter(|&&c| c != u32::MAX) {
        *count.entry(c).or_insert(0) += 1;
    }
    let big = *count.iter().max_by_key(|(c, k)| (**k, **c)).unwrap().0;
    let mut cells: Vec<Cell> = (0..grid.size() as Cell)
        .filter(|&v| comp[v as usize] == big)
        .collect();
    let pick = |rng: &mut ChaCha8Rng, cells: &mut Vec<Cell>| -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut pool = cells.clone();
        for _ in 0..n {
            let v = pool.swap_remove(rng.random_range(0..pool.len()));
            out.push(grid.xy(v));
        }
        out
    };
    let starts = pick(&mut rng, &mut cells);
    let goals = pick(&mut rng, &mut cells);
    Instance::new(&map, &starts, &goals).unwrap()
}

#[test]
fn lns_strictly_improves_a_crowded_instance_and_stays_valid() {
    let inst = crowded(3, 16, 16, 70);
    let base = MapfParams {
        time_limit_s: 1e6,
        seed: 5,
        refine: true,
        lns_max_iterations: 3000,
        ..Default::default()
    };
    let out = mapf::solve(&inst, &base).unwrap();
    assert!(out.solved);
    assert_eq!(out.lns_iterations, 3000);
    let costs = validate(&inst, &out.paths).unwrap();
    assert_eq!(costs.sum_of_costs, out.sum_of_costs);
    assert!(
        out.sum_of_costs < out.first_sum_of_costs,
        "LNS did not improve: {} -> {}",
        out.first_sum_of_costs,
        out.sum_of_costs
    );
    assert!(out.sum_of_costs >= out.lower_bound);
    // A fixed number of iterations without a binding deadline: same seed, same result.
    let again = mapf::solve(&inst, &base).unwrap();
    assert_eq!(again.paths, out.paths);
    // Another seed explores differently but is valid too.
    let other = mapf::solve(&inst, &MapfParams { seed: 6, ..base }).unwrap();
    validate(&inst, &other.paths).unwrap();
}

#[test]
fn adaptive_neighbourhood_size_prefers_single_agents_and_stays_valid() {
    use courier_fleet::mapf::lns::{ADAPTIVE_SIZES, Lns};
    use courier_fleet::mapf::{DistanceTable, lacam};
    let inst = crowded(3, 16, 16, 70);
    let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
    let (configs, _) = lacam::solve(&inst, &dist, 1, &Deadline::never());
    let first = lacam::configs_to_paths(&configs.unwrap(), &inst.goals);
    let first_soc = validate(&inst, &first).unwrap().sum_of_costs;
    let run = |neighborhood: usize, seed: u64| {
        let mut lns = Lns::new(&inst, &dist, first.clone(), seed);
        lns.neighborhood = neighborhood;
        lns.max_iterations = 2000;
        let stats = lns.run(&Deadline::never());
        let soc = lns.sum_of_costs();
        let paths = lns.into_paths();
        assert_eq!(validate(&inst, &paths).unwrap().sum_of_costs, soc);
        (paths, soc, stats)
    };
    let (paths, soc, stats) = run(0, 9);
    assert!(
        soc < first_soc,
        "adaptive LNS did not improve: {first_soc} -> {soc}"
    );
    assert_eq!(stats.iterations, 2000);
    assert_eq!(stats.size_iterations.iter().sum::<usize>(), 2000);
    // Mostly single agents, but every size is tried.
    assert!(
        stats.size_iterations[0] > 1000,
        "sizes used: {:?}",
        stats.size_iterations
    );
    assert!(
        stats.size_iterations.iter().all(|&k| k > 0),
        "sizes used: {:?}",
        stats.size_iterations
    );
    assert_eq!(stats.size_iterations.len(), ADAPTIVE_SIZES);
    // Deterministic per seed: the size choice counts search work, not time.
    let (again, _, _) = run(0, 9);
    assert_eq!(again, paths);
    // A fixed size records no adaptive picks.
    let (_, fixed_soc, fixed) = run(4, 9);
    assert!(fixed_soc < first_soc);
    assert_eq!(fixed.size_iterations, [0; ADAPTIVE_SIZES]);
}

/// Agent A (goal next to its start) must wait in the hand-made first solution because agent B,
/// on a shortest path of its own, passes A's goal late. Neither replanned alone does better: A
/// cannot stop at its goal before B has passed, and B's path is already as short as it gets. The
/// goal-blocker neighbourhood replans A together with B, so even single-agent LNS finds the
/// optimum (B takes the other row).
#[test]
fn lns_moves_an_agent_that_passes_anothers_goal_late() {
    use courier_fleet::mapf::DistanceTable;
    use courier_fleet::mapf::lns::Lns;
    use courier_fleet::mapf::sipp::Reservations;
    let map = GridMap::new(8, 2, vec![true; 16]);
    // A: (5, 1) → (6, 0), distance 2; B: (0, 0) → (7, 1), distance 8.
    let inst = Instance::new(&map, &[(5, 1), (0, 0)], &[(6, 0), (7, 1)]).unwrap();
    let g = &inst.grid;
    let b: Vec<Cell> = (0..8).map(|x| g.cell(x, 0)).chain([g.cell(7, 1)]).collect();
    let mut a = vec![g.cell(5, 1); 6];
    a.extend([g.cell(6, 1), g.cell(6, 0)]);
    let first = vec![a, b];
    let costs = validate(&inst, &first).unwrap();
    assert_eq!(costs.sum_of_costs, 7 + 8);
    let mut res = Reservations::new(g.size(), &inst.goals);
    res.add(0, &first[0]);
    res.add(1, &first[1]);
    assert_eq!(res.last_visit(g.cell(6, 0), 0), Some((1, 6)));
    assert_eq!(res.last_visit(g.cell(6, 0), 1), Some((0, 7)));
    assert_eq!(res.last_visit(g.cell(0, 1), 0), None);

    let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
    for seed in 0..5 {
        let mut lns = Lns::new(&inst, &dist, first.clone(), seed);
        lns.neighborhood = 1;
        lns.max_iterations = 40;
        lns.run(&Deadline::never());
        let soc = lns.sum_of_costs();
        let paths = lns.into_paths();
        assert_eq!(validate(&inst, &paths).unwrap().sum_of_costs, soc);
        assert_eq!(soc, 2 + 8, "seed {seed}: {paths:?}");
    }
}
