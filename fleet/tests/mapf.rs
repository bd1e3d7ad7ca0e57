//! MAPF: validator, solvers (LaCAM + LNS, CBS) against brute force, bad input.

// Test helpers may unwrap: a failure there is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::needless_range_loop,
    clippy::type_complexity
)]

use courier_core::formats::movingai;
use courier_core::maps::GridMap;
use courier_fleet::FleetError;
use courier_fleet::mapf::{
    self, Cell, Deadline, DistanceTable, Instance, MapfParams, Pibt, cbs, lacam, validate,
};
use std::collections::{BinaryHeap, HashMap};

fn data(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn open_map(w: usize, h: usize) -> GridMap {
    GridMap::new(w, h, vec![true; w * h])
}

/// A map from rows of `.` and `@`.
fn map_of(rows: &[&str]) -> GridMap {
    let h = rows.len();
    let w = rows[0].len();
    let passable = rows
        .iter()
        .flat_map(|r| r.bytes().map(|c| c == b'.'))
        .collect();
    GridMap::new(w, h, passable)
}

fn far_future() -> Deadline {
    Deadline::never()
}

fn run_big<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

/// Optimal SoC by Dijkstra over joint states (positions + "finished" flags: a finished agent
/// sits on its goal for good). Each step costs the number of unfinished agents, so an agent
/// pays exactly its final arrival step.
fn brute_force_soc(inst: &Instance) -> u64 {
    let n = inst.num_agents();
    let g = &inst.grid;
    type State = (Vec<Cell>, u32);
    let start: State = (inst.starts.clone(), 0);
    let all = (1u32 << n) - 1;
    let mut best: HashMap<State, u64> = HashMap::new();
    let mut heap = BinaryHeap::new();
    best.insert(start.clone(), 0);
    heap.push(std::cmp::Reverse((0u64, start)));
    while let Some(std::cmp::Reverse((c, (q, done)))) = heap.pop() {
        if best.get(&(q.clone(), done)).is_some_and(|&b| b < c) {
            continue;
        }
        if done == all {
            return c;
        }
        // Enumerate joint moves.
        let mut choices: Vec<Vec<(Cell, bool)>> = Vec::new();
        for i in 0..n {
            let mut ch = Vec::new();
            if done >> i & 1 == 1 {
                ch.push((q[i], true));
            } else {
                for &u in g.neighbors(q[i]).iter().chain(std::iter::once(&q[i])) {
                    ch.push((u, false));
                }
                if q[i] == inst.goals[i] {
                    ch.push((q[i], true)); // declare finished now
                }
            }
            choices.push(ch);
        }
        let step_cost = n as u64 - done.count_ones() as u64;
        let mut idx = vec![0usize; n];
        'outer: loop {
            let next: Vec<Cell> = (0..n).map(|i| choices[i][idx[i]].0).collect();
            let mut nd = done;
            let mut finishing_now = false;
            for i in 0..n {
                if choices[i][idx[i]].1 && done >> i & 1 == 0 {
                    nd |= 1 << i;
                    finishing_now = true;
                }
            }
            let ok = (0..n).all(|i| {
                (i + 1..n).all(|j| {
                    next[i] != next[j] && !(next[i] == q[j] && next[j] == q[i] && q[i] != q[j])
                })
            });
            if ok {
                // Finishing is a zero-time decision: agents that finish now stay where they are.
                let (nq, cost) = if finishing_now && next == q && nd != done {
                    (q.clone(), c)
                } else if finishing_now {
                    // Only allow finishing without moving anyone else in the same transition.
                    (Vec::new(), 0)
                } else {
                    (next.clone(), c + step_cost)
                };
                if !nq.is_empty() {
                    let key = (nq, nd);
                    if best.get(&key).is_none_or(|&b| cost < b) {
                        best.insert(key.clone(), cost);
                        heap.push(std::cmp::Reverse((cost, key)));
                    }
                }
            }
            for i in 0..n {
                idx[i] += 1;
                if idx[i] < choices[i].len() {
                    continue 'outer;
                }
                idx[i] = 0;
            }
            break;
        }
    }
    u64::MAX
}

#[test]
fn validator_catches_vertex_edge_and_endpoint_errors() {
    let map = open_map(3, 1);
    let inst = Instance::new(&map, &[(0, 0), (2, 0)], &[(2, 0), (0, 0)]).unwrap();
    // A 1x3 corridor: the agents cannot pass each other. Swapping is an edge conflict.
    let inst2 = Instance::new(&open_map(2, 1), &[(0, 0), (1, 0)], &[(1, 0), (0, 0)]).unwrap();
    let e = validate(&inst2, &[vec![0, 1], vec![1, 0]]).unwrap_err();
    assert!(e.to_string().contains("edge conflict"), "{e}");
    // Both at cell 1 at step 1.
    let e = validate(&inst, &[vec![0, 1, 2], vec![2, 1, 0]]).unwrap_err();
    assert!(e.to_string().contains("vertex conflict"), "{e}");
    // Wrong end.
    let e = validate(&inst, &[vec![0, 1], vec![2, 1, 0]]).unwrap_err();
    assert!(e.to_string().contains("not at its goal"), "{e}");
    // Wrong start.
    let e = validate(&inst, &[vec![1, 2], vec![2, 1, 0]]).unwrap_err();
    assert!(e.to_string().contains("not at its start"), "{e}");
    // A jump.
    let inst3 = Instance::new(&map, &[(0, 0)], &[(2, 0)]).unwrap();
    let e = validate(&inst3, &[vec![0, 2]]).unwrap_err();
    assert!(e.to_string().contains("jumps"), "{e}");
    assert_eq!(validate(&inst3, &[vec![0, 1, 2]]).unwrap().sum_of_costs, 2);
    // Staying at the goal after the path ends blocks others: agent 0 ends at 1 at step 1,
    // agent 1 passes through 1 at step 2.
    let inst4 = Instance::new(&open_map(3, 2), &[(0, 0), (0, 1)], &[(1, 0), (2, 0)]).unwrap();
    let e = validate(&inst4, &[vec![0, 1], vec![3, 0, 1, 2]]).unwrap_err();
    assert!(e.to_string().contains("vertex conflict"), "{e}");
    // Trailing waits at the goal cost nothing; waiting before counts.
    let c = validate(&inst4, &[vec![0, 1, 1, 1], vec![3, 4, 5, 2]]).unwrap();
    assert_eq!((c.sum_of_costs, c.makespan), (1 + 3, 3));
}

#[test]
fn bad_input_is_rejected_before_search() {
    let map = map_of(&["..@.", "..@.", "...."]);
    let walled = map_of(&["..@.", "..@.", "..@."]);
    let err = |r: Result<Instance, FleetError>| r.unwrap_err().to_string();
    let e = err(Instance::new(&walled, &[(0, 0)], &[(3, 0)]));
    assert!(e.contains("agent 0") && e.contains("unreachable"), "{e}");
    let e = err(Instance::new(&map, &[(0, 0), (2, 0)], &[(1, 0), (3, 0)]));
    assert!(e.contains("agent 1") && e.contains("obstacle"), "{e}");
    let e = err(Instance::new(&map, &[(0, 0), (0, 0)], &[(1, 0), (3, 0)]));
    assert!(e.contains("share the start"), "{e}");
    let e = err(Instance::new(&map, &[(0, 0), (1, 1)], &[(3, 0), (3, 0)]));
    assert!(e.contains("share the goal"), "{e}");
    let e = err(Instance::new(&map, &[(0, 0)], &[(9, 0)]));
    assert!(e.contains("outside"), "{e}");
    let m = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let s = movingai::read_scen(data("random-32-32-20-random-1.scen")).unwrap();
    let e = Instance::from_scen(&m, &s, 410).unwrap_err().to_string();
    assert!(e.contains("only 409 rows"), "{e}");
    assert!(
        mapf::solve(
            &Instance::from_scen(&m, &s, 3).unwrap(),
            &MapfParams {
                time_limit_s: f64::NAN,
                ..Default::default()
            }
        )
        .is_err()
    );
}

#[test]
fn pibt_steps_are_conflict_free_and_progress() {
    let m = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let s = movingai::read_scen(data("random-32-32-20-random-1.scen")).unwrap();
    let inst = Instance::from_scen(&m, &s, 150).unwrap();
    let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
    let mut pibt = Pibt::new(&inst.grid, 7);
    let order: Vec<u32> = (0..150).collect();
    let mut q = inst.starts.clone();
    let mut configs = vec![q.clone()];
    let mut next = Vec::new();
    for _ in 0..400 {
        assert!(pibt.step(&dist, &q, &order, &[], &mut next));
        q = next.clone();
        configs.push(q.clone());
        if q == inst.goals {
            break;
        }
    }
    // Whatever PIBT reached, the prefix must be a legal motion: validate it against an
    // instance whose goals are the last configuration.
    let mut reached = inst.clone();
    reached.goals = q.clone();
    let paths = lacam::configs_to_paths(&configs, &reached.goals);
    validate(&reached, &paths).unwrap();
    let at_goal = (0..150).filter(|&i| q[i] == inst.goals[i]).count();
    assert!(
        at_goal > 100,
        "PIBT left {} of 150 agents short",
        150 - at_goal
    );
    // Constraints are honoured: pin agent 0 to stay.
    let fixed = [(0u32, inst.starts[0])];
    assert!(pibt.step(&dist, &inst.starts, &order, &fixed, &mut next));
    assert_eq!(next[0], inst.starts[0]);
}

#[test]
fn lacam_and_lns_solve_the_benchmark_fixture_and_are_deterministic() {
    let out = run_big(|| {
        let m = movingai::read_map(data("random-32-32-20.map")).unwrap();
        let s = movingai::read_scen(data("random-32-32-20-random-1.scen")).unwrap();
        let inst = Instance::from_scen(&m, &s, 200).unwrap();
        let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
        let (a, _) = lacam::solve(&inst, &dist, 3, &far_future());
        let (b, _) = lacam::solve(&inst, &dist, 3, &far_future());
        assert_eq!(a, b, "same seed, same first solution");
        let a = a.expect("LaCAM solves 200 agents on random-32-32-20");
        let paths = lacam::configs_to_paths(&a, &inst.goals);
        let first = validate(&inst, &paths).unwrap();
        let out = mapf::solve(
            &inst,
            &MapfParams {
                time_limit_s: 1.0,
                seed: 3,
                ..Default::default()
            },
        )
        .unwrap();
        (first, out, inst)
    });
    let (first, out, inst) = out;
    assert!(out.solved);
    let c = validate(&inst, &out.paths).unwrap();
    assert_eq!(c.sum_of_costs, out.sum_of_costs);
    assert_eq!(out.first_sum_of_costs, first.sum_of_costs);
    assert!(out.sum_of_costs <= first.sum_of_costs);
    assert!(out.sum_of_costs >= out.lower_bound);
}

#[test]
fn lacam_solves_a_corridor_swap_that_needs_backing_up() {
    // Two agents must swap ends of a corridor with one side pocket.
    let map = map_of(&[".....", "@@.@@"]);
    let inst = Instance::new(&map, &[(0, 0), (4, 0)], &[(4, 0), (0, 0)]).unwrap();
    let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
    let (sol, _) = lacam::solve(&inst, &dist, 0, &far_future());
    let paths = lacam::configs_to_paths(&sol.expect("solvable"), &inst.goals);
    let c = validate(&inst, &paths).unwrap();
    let opt = brute_force_soc(&inst);
    assert!(c.sum_of_costs >= opt);
    let (cbs_paths, _) = cbs::solve(&inst, &dist, 1.0, &far_future());
    assert_eq!(
        validate(&inst, &cbs_paths.unwrap()).unwrap().sum_of_costs,
        opt
    );
}

#[test]
fn cbs_is_optimal_against_brute_force() {
    // Small crowded instances on a 3x3 grid with a hole and a 4x2 grid.
    let cases: Vec<(GridMap, Vec<(u32, u32)>, Vec<(u32, u32)>)> = vec![
        (
            map_of(&["...", ".@.", "..."]),
            vec![(0, 0), (2, 0), (0, 2)],
            vec![(2, 2), (0, 2), (2, 0)],
        ),
        (
            map_of(&["....", "...."]),
            vec![(0, 0), (3, 0), (1, 1)],
            vec![(3, 0), (0, 0), (2, 1)],
        ),
        (
            map_of(&["....", ".@@.", "...."]),
            vec![(0, 0), (3, 2), (0, 2)],
            vec![(3, 2), (0, 0), (3, 0)],
        ),
        (
            map_of(&["...", "..."]),
            vec![(0, 0), (1, 0), (2, 0)],
            vec![(2, 0), (1, 1), (0, 0)],
        ),
    ];
    for (k, (map, s, g)) in cases.into_iter().enumerate() {
        let inst = Instance::new(&map, &s, &g).unwrap();
        let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
        let opt = brute_force_soc(&inst);
        let (paths, _) = cbs::solve(&inst, &dist, 1.0, &far_future());
        let c = validate(&inst, &paths.expect("CBS solves it")).unwrap();
        assert_eq!(c.sum_of_costs, opt, "case {k}");
        let out = mapf::solve(
            &inst,
            &MapfParams {
                time_limit_s: 0.2,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(out.solved, "case {k}");
        assert!(out.sum_of_costs >= opt, "case {k}");
        // Bounded-suboptimal CBS stays within its factor.
        let (paths, _) = cbs::solve(&inst, &dist, 1.5, &far_future());
        let c = validate(&inst, &paths.unwrap()).unwrap();
        assert!(c.sum_of_costs as f64 <= 1.5 * opt as f64, "case {k}");
    }
}

#[test]
fn cbs_optimum_bounds_lacam_on_benchmark_agents() {
    let (cbs_soc, lacam_soc, lb) = run_big(|| {
        let m = movingai::read_map(data("random-32-32-20.map")).unwrap();
        let s = movingai::read_scen(data("random-32-32-20-random-1.scen")).unwrap();
        let inst = Instance::from_scen(&m, &s, 20).unwrap();
        let dist = DistanceTable::new(&inst.grid, inst.goals.clone());
        let (p, _) = cbs::solve(&inst, &dist, 1.0, &far_future());
        let cbs_soc = validate(&inst, &p.expect("CBS solves 20 agents"))
            .unwrap()
            .sum_of_costs;
        let out = mapf::solve(
            &inst,
            &MapfParams {
                time_limit_s: 0.5,
                ..Default::default()
            },
        )
        .unwrap();
        (cbs_soc, out.sum_of_costs, out.lower_bound)
    });
    assert!(
        lb <= cbs_soc && cbs_soc <= lacam_soc,
        "{lb} {cbs_soc} {lacam_soc}"
    );
}

#[test]
fn time_out_returns_unsolved_not_invalid() {
    let m = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let s = movingai::read_scen(data("random-32-32-20-random-1.scen")).unwrap();
    let inst = Instance::from_scen(&m, &s, 100).unwrap();
    let out = mapf::solve(
        &inst,
        &MapfParams {
            time_limit_s: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!out.solved && out.paths.is_empty());
}
