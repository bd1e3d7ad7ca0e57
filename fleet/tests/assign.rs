//! Task assignment: the Hungarian solver against brute force, greedy validity, cost terms.

use courier_fleet::assign::{self, CostParams, TaskInfo};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Best (most pairs, then least cost) assignment by trying every injective map.
fn brute(rows: usize, cols: usize, costs: &[Option<i64>]) -> (usize, i64) {
    #[allow(clippy::too_many_arguments)]
    fn rec(
        r: usize,
        rows: usize,
        cols: usize,
        costs: &[Option<i64>],
        used: &mut Vec<bool>,
        pairs: usize,
        sum: i64,
        best: &mut (usize, i64),
    ) {
        if r == rows {
            if pairs > best.0 || (pairs == best.0 && sum < best.1) {
                *best = (pairs, sum);
            }
            return;
        }
        rec(r + 1, rows, cols, costs, used, pairs, sum, best);
        for c in 0..cols {
            if let Some(v) = costs[r * cols + c]
                && !used[c]
            {
                used[c] = true;
                rec(r + 1, rows, cols, costs, used, pairs + 1, sum + v, best);
                used[c] = false;
            }
        }
    }
    let mut best = (0, i64::MAX);
    rec(
        0,
        rows,
        cols,
        costs,
        &mut vec![false; cols],
        0,
        0,
        &mut best,
    );
    if best.0 == 0 {
        best.1 = 0;
    }
    best
}

#[test]
fn hungarian_matches_brute_force() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for trial in 0..300 {
        let rows = rng.random_range(1..=5);
        let cols = rng.random_range(1..=5);
        let costs: Vec<Option<i64>> = (0..rows * cols)
            .map(|_| (rng.random::<f64>() > 0.25).then(|| rng.random_range(-20..100)))
            .collect();
        let a = assign::optimal(rows, cols, &costs).unwrap();
        assert_eq!(a.len(), rows);
        let got = assign::total_cost(cols, &costs, &a).expect("valid assignment");
        let pairs = a.iter().flatten().count();
        assert_eq!(
            (pairs, got),
            brute(rows, cols, &costs),
            "trial {trial}: {rows}x{cols} {costs:?} → {a:?}"
        );
    }
}

#[test]
fn hungarian_rejects_bad_matrix() {
    assert!(assign::optimal(2, 2, &[Some(1), Some(2), Some(3)]).is_err());
    assert_eq!(
        assign::optimal(0, 3, &[]).unwrap(),
        Vec::<Option<usize>>::new()
    );
    assert_eq!(assign::optimal(2, 0, &[]).unwrap(), vec![None, None]);
}

#[test]
fn greedy_is_valid_and_maximal() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..200 {
        let rows = rng.random_range(1..=30);
        let cols = rng.random_range(1..=30);
        let mut cands: Vec<(i64, usize, usize)> = (0..rows * 3)
            .map(|_| {
                (
                    rng.random_range(0..50),
                    rng.random_range(0..rows),
                    rng.random_range(0..cols),
                )
            })
            .collect();
        let allowed: std::collections::HashSet<(usize, usize)> =
            cands.iter().map(|&(_, r, c)| (r, c)).collect();
        let a = assign::greedy(rows, cols, &mut cands);
        let mut used = vec![false; cols];
        for (r, t) in a.iter().enumerate() {
            if let Some(t) = *t {
                assert!(allowed.contains(&(r, t)), "only candidate pairs");
                assert!(!used[t], "a task given twice");
                used[t] = true;
            }
        }
        // Maximal: no candidate pair with both ends still free.
        for &(r, c) in &allowed {
            assert!(a[r].is_some() || used[c], "pair ({r},{c}) left free");
        }
    }
}

#[test]
fn greedy_takes_cheapest_first() {
    // Robot 0 is closest to both tasks; greedy gives it the cheaper one.
    let mut c = vec![(1, 0, 0), (2, 0, 1), (3, 1, 0), (9, 1, 1)];
    assert_eq!(assign::greedy(2, 2, &mut c), vec![Some(0), Some(1)]);
}

#[test]
fn priority_and_deadline_shape_the_assignment() {
    let p = CostParams::default();
    let urgent = TaskInfo {
        priority: 2,
        deadline: None,
    };
    let normal = TaskInfo::default();
    // One robot, two tasks: the urgent one is farther but wins.
    let costs = [
        Some(assign::cost(30, &normal, 0, &p)),
        Some(assign::cost(60, &urgent, 0, &p)),
    ];
    assert_eq!(assign::optimal(1, 2, &costs).unwrap(), vec![Some(1)]);
    // A deadline far off (more than `urgency_steps`) changes nothing; nearer, each step of
    // lost slack is credited, and each step of travel past the deadline charged.
    let due = |d| TaskInfo {
        priority: 0,
        deadline: Some(d),
    };
    assert_eq!(assign::cost(20, &due(100), 10, &p), 20);
    assert_eq!(
        assign::cost(20, &due(25), 10, &p),
        20 - (p.urgency_steps - 15) * p.lateness_weight + 5 * p.lateness_weight
    );
    // Past the deadline, a task costs the same however late it is, and more per step of
    // travel than a normal task.
    assert_eq!(
        assign::cost(20, &due(5), 10, &p),
        assign::cost(20, &due(0), 15, &p)
    );
    let overdue_near = assign::cost(10, &due(0), 10, &p);
    let overdue_far = assign::cost(20, &due(0), 10, &p);
    assert_eq!(overdue_far - overdue_near, 10 * (1 + p.lateness_weight));
    // Tasks outnumber robots: the overdue task is done first, though farther than a normal
    // one, and by the nearer robot.
    let costs = [
        Some(assign::cost(5, &normal, 10, &p)),
        Some(assign::cost(20, &due(0), 10, &p)),
    ];
    assert_eq!(assign::optimal(1, 2, &costs).unwrap(), vec![Some(1)]);
    let costs = two_by_two([[5, 30], [5, 12]], [normal, due(0)], 10, &p);
    assert_eq!(
        assign::optimal(2, 2, &costs).unwrap(),
        vec![Some(0), Some(1)]
    );
    // Two robots, two deadlines: the optimum meets both.
    let costs = two_by_two([[10, 4], [4, 12]], [due(5), due(50)], 0, &p);
    assert_eq!(
        assign::optimal(2, 2, &costs).unwrap(),
        vec![Some(1), Some(0)]
    );
}

/// Costs of two robots × two tasks, `travel[robot][task]`, at time `now`.
fn two_by_two(
    travel: [[u64; 2]; 2],
    tasks: [TaskInfo; 2],
    now: u64,
    p: &CostParams,
) -> Vec<Option<i64>> {
    (0..4)
        .map(|i| Some(assign::cost(travel[i / 2][i % 2], &tasks[i % 2], now, p)))
        .collect()
}

#[test]
fn the_credit_bounds_the_cost_from_below_and_nothing_overflows() {
    let p = CostParams::default();
    let mut rng = 12345u64;
    let mut next = |m: u64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) % m
    };
    for _ in 0..10_000 {
        let task = TaskInfo {
            priority: next(4) as u32,
            deadline: (next(2) == 0).then(|| next(400)),
        };
        let (travel, now) = (next(300), next(400));
        let c = assign::cost(travel, &task, now, &p);
        assert!(
            c >= travel as i64 - assign::credit(&task, now, &p),
            "{task:?} {travel} {now}"
        );
    }
    let extreme = TaskInfo {
        priority: u32::MAX,
        deadline: Some(0),
    };
    let huge = CostParams {
        priority_weight: i64::MAX,
        lateness_weight: i64::MAX,
        urgency_steps: i64::MAX,
    };
    for params in [p, huge] {
        assign::cost(u64::MAX, &extreme, u64::MAX, &params);
        assign::credit(&extreme, u64::MAX, &params);
    }
}
