//! Lifelong operation: LoRR parsing (both years, bad input), the simulator's validation, and
//! short seeded runs.

#![allow(clippy::unwrap_used)] // test helpers: a failure here is a broken fixture.

use courier_core::GridMap;
use courier_core::formats::movingai;
use courier_fleet::lifelong::{
    self, Action, AgentState, LifelongError, LifelongParams, MotionModel, PlannerParams, Problem,
    Simulator, TaskRules,
};
use courier_fleet::lorr::{self, Year};
use std::path::{Path, PathBuf};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

/// A fresh directory under the system temp dir for files a test writes.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("courier-fleet-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("maps")).unwrap();
    d
}

#[test]
fn parses_lorr_2024() {
    let (p, year) = lorr::read_instance(data("lorr2024/TINY-01.json")).unwrap();
    assert_eq!(year, Year::Y2024);
    assert_eq!((p.map.width, p.map.height), (6, 4));
    assert_eq!(p.starts, vec![0, 5, 18]);
    assert_eq!(
        p.tasks,
        vec![vec![13, 10], vec![3, 23, 0], vec![19, 6], vec![21, 12]]
    );
    assert_eq!(
        p.rules,
        TaskRules::Reveal {
            pool_per_agent: 1.5
        }
    );
    assert_eq!(p.steps, Some(40));
    assert_eq!(p.name, "TINY-01");
}

#[test]
fn best_known_results_are_those_of_the_competition_archive() {
    assert_eq!(lorr::best_known("RANDOM-01", Year::Y2024), Some(696));
    assert_eq!(lorr::best_known("WAREHOUSE", Year::Y2024), Some(154_834));
    assert_eq!(lorr::best_known("MR23-I-10", Year::Y2023), Some(194_677));
    // Names are per year, and unknown instances have none.
    assert_eq!(lorr::best_known("RANDOM-01", Year::Y2023), None);
    assert_eq!(lorr::best_known("TINY-01", Year::Y2024), None);
    assert_eq!(Year::Y2024.score(10, 25), 10);
    assert_eq!(Year::Y2023.score(10, 25), 25);
}

#[test]
fn a_full_length_main_round_run_is_set_against_the_best_known_result() {
    use courier_fleet::lifelong::{Metrics, MotionModel};
    let rot = MotionModel::Rotation;
    let m = Metrics {
        name: "RANDOM-05".into(),
        steps: 2000,
        tasks_completed: 2440,
        errands_completed: 9000,
        ..Default::default()
    };
    // 2024 scores whole tasks: 2440 of RANDOM-05's 3050.
    let (best, share) = lorr::standing(Year::Y2024, Some(2000), rot, &m).unwrap();
    assert_eq!(best, 3050);
    assert!((share - 0.8).abs() < 1e-12, "{share}");
    // A shortened run, 4-connected moves, the other year's rules, or an instance without a
    // best-known result: no standing.
    assert_eq!(lorr::standing(Year::Y2024, Some(2500), rot, &m), None);
    let four = MotionModel::FourConnected;
    assert_eq!(lorr::standing(Year::Y2024, Some(2000), four, &m), None);
    assert_eq!(lorr::standing(Year::Y2023, Some(2000), rot, &m), None);
    let tiny = Metrics {
        name: "TINY-01".into(),
        ..m.clone()
    };
    assert_eq!(lorr::standing(Year::Y2024, Some(2000), rot, &tiny), None);
    // 2023 scores errands.
    let mr = Metrics {
        name: "MR23-I-08".into(),
        ..m
    };
    let (best, share) = lorr::standing(Year::Y2023, Some(2000), rot, &mr).unwrap();
    assert_eq!(best, 6059);
    assert!((share - 9000.0 / 6059.0).abs() < 1e-12);
}

#[test]
fn parses_lorr_2023() {
    let (p, year) = lorr::read_instance(data("lorr2023/MR23-T-01.json")).unwrap();
    assert_eq!(year, Year::Y2023);
    assert_eq!(p.starts, vec![0, 23]);
    assert_eq!(
        p.tasks,
        vec![vec![13], vec![10], vec![3], vec![12], vec![6]]
    );
    assert_eq!(p.rules, TaskRules::RoundRobin);
    assert_eq!(p.steps, Some(30), "2023 keys drop the MR23- prefix");
}

/// Writes a 2024 instance with the given agents and tasks text over the tiny map.
fn write_instance(name: &str, agents: &str, tasks: &str) -> PathBuf {
    let d = scratch(name);
    std::fs::copy(data("lorr2024/maps/tiny.map"), d.join("maps/tiny.map")).unwrap();
    std::fs::write(d.join("a.agents"), agents).unwrap();
    std::fs::write(d.join("t.tasks"), tasks).unwrap();
    let json = r#"{"mapFile": "maps/tiny.map", "agentFile": "a.agents", "teamSize": 2,
                   "taskFile": "t.tasks", "numTasksReveal": 1.5}"#;
    std::fs::write(d.join("i.json"), json).unwrap();
    d.join("i.json")
}

fn err_text(path: &Path) -> String {
    lorr::read_instance(path).unwrap_err().to_string()
}

#[test]
fn bad_lorr_input_names_file_and_line() {
    // Unknown file.
    let e = err_text(Path::new("/nonexistent/nowhere.json"));
    assert!(e.contains("/nonexistent/nowhere.json"), "{e}");

    // Start location off the map (24 cells), on line 3.
    let p = write_instance("offmap", "2\n0\n24\n", "1\n13,10\n");
    let e = err_text(&p);
    assert!(
        e.contains("a.agents:3") && e.contains("off the 6x4 map"),
        "{e}"
    );

    // Errand on an obstacle (cell 7 = row 1, col 1), line 3 of the tasks.
    let p = write_instance("obstacle", "2\n0\n5\n", "# v\n2\n13,10\n3,7\n");
    let e = err_text(&p);
    assert!(e.contains("t.tasks:4") && e.contains("obstacle"), "{e}");

    // Malformed line.
    let p = write_instance("malformed", "2\n0\nfive\n", "1\n13\n");
    let e = err_text(&p);
    assert!(e.contains("a.agents:3") && e.contains("\"five\""), "{e}");

    // Fewer tasks than announced.
    let p = write_instance("short", "2\n0\n5\n", "3\n13\n10\n");
    let e = err_text(&p);
    assert!(e.contains("t.tasks") && e.contains("2 of 3 tasks"), "{e}");

    // Fewer agents than the team.
    let p = write_instance("team", "1\n0\n", "1\n13\n");
    let e = err_text(&p);
    assert!(
        e.contains("a.agents:1") && e.contains("teamSize is 2"),
        "{e}"
    );

    // Broken JSON, with its line.
    let d = scratch("json");
    std::fs::write(d.join("i.json"), "{\n \"mapFile\": \"x.map\",\n oops\n}").unwrap();
    let e = err_text(&d.join("i.json"));
    assert!(e.contains("i.json:3") && e.contains("JSON"), "{e}");

    // Missing field.
    std::fs::write(d.join("j.json"), "{\"mapFile\": \"x.map\"}").unwrap();
    let e = err_text(&d.join("j.json"));
    assert!(e.contains("agentFile"), "{e}");

    // A 2023 task line with two errands.
    let tiny = movingai::read_map(data("lorr2024/maps/tiny.map")).unwrap();
    let e = lorr::parse_tasks("1\n13,10\n", "t.tasks", &tiny, Year::Y2023).unwrap_err();
    assert!(e.to_string().contains("t.tasks:2"), "{e}");
}

fn open_map(w: usize, h: usize) -> GridMap {
    GridMap::new(w, h, vec![true; w * h])
}

fn problem(map: GridMap, starts: Vec<u32>, tasks: Vec<Vec<u32>>) -> Problem {
    Problem {
        name: "t".into(),
        map,
        starts,
        tasks,
        terms: Vec::new(),
        rules: TaskRules::Reveal {
            pool_per_agent: 1.5,
        },
        steps: None,
    }
}

fn is_plan_error(r: Result<lifelong::StepOutcome, LifelongError>) -> bool {
    matches!(r, Err(LifelongError::IllegalPlan { .. }))
}

#[test]
fn simulator_rejects_conflicts_and_illegal_moves() {
    use Action::*;
    // 3x1 corridor, robots at 0 and 2, both facing east.
    let p = problem(open_map(3, 1), vec![0, 2], vec![vec![1]]);
    let mut sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    let none = vec![None, None];
    // Off the map: robot 1 faces east at the last cell.
    assert!(is_plan_error(sim.step(&none, &[Wait, Forward])));
    // Vertex conflict: both into cell 1 (robot 1 turned around first).
    sim.step(&none, &[Wait, Clockwise]).unwrap();
    sim.step(&none, &[Wait, Clockwise]).unwrap();
    assert_eq!(sim.states()[1], AgentState { loc: 2, dir: 2 });
    assert!(is_plan_error(sim.step(&none, &[Forward, Forward])));
    // A refused step changes nothing.
    assert_eq!(sim.states()[0], AgentState { loc: 0, dir: 0 });
    assert_eq!(sim.step_index(), 2);
    // A 4-connected action is foreign to the rotation model, and vice versa.
    assert!(is_plan_error(sim.step(&none, &[Move(0), Wait])));
    let mut four = Simulator::new(&p, MotionModel::FourConnected).unwrap();
    assert!(is_plan_error(four.step(&none, &[Forward, Wait])));
    // Wrong number of actions.
    assert!(is_plan_error(four.step(&none, &[Wait])));
    // Edge conflict: a swap in a 2-cell corridor.
    let p2 = problem(open_map(2, 1), vec![0, 1], vec![vec![1]]);
    let mut s2 = Simulator::new(&p2, MotionModel::FourConnected).unwrap();
    assert!(is_plan_error(s2.step(&none, &[Move(0), Move(2)])));
    // Into an obstacle.
    let mut m = open_map(3, 1);
    m.passable[1] = false;
    let p3 = problem(m, vec![0], vec![vec![2]]);
    let mut s3 = Simulator::new(&p3, MotionModel::FourConnected).unwrap();
    assert!(is_plan_error(s3.step(&[None], &[Move(0)])));
    // Following (moving into a cell being vacated) is legal.
    let p4 = problem(open_map(3, 1), vec![0, 1], vec![vec![2]]);
    let mut s4 = Simulator::new(&p4, MotionModel::FourConnected).unwrap();
    s4.step(&none, &[Move(0), Move(0)]).unwrap();
    assert_eq!((s4.states()[0].loc, s4.states()[1].loc), (1, 2));
}

#[test]
fn simulator_counts_tasks_and_enforces_schedule_rules() {
    use Action::*;
    // Robot 0 at cell 0 facing east; tasks [1 -> 2] and [0].
    let p = problem(open_map(3, 1), vec![0], vec![vec![1, 2], vec![0]]);
    let mut sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    assert_eq!(sim.pool().len(), 1, "1.5 × 1 robot → 1 task revealed");
    let t0 = *sim.pool().keys().next().unwrap();
    // Unknown task id.
    assert!(matches!(
        sim.step(&[Some(99)], &[Wait]),
        Err(LifelongError::IllegalSchedule { .. })
    ));
    let out = sim.step(&[Some(t0)], &[Forward]).unwrap();
    assert_eq!((out.errands, out.finished.len()), (1, 0));
    // Opened: cannot be dropped.
    assert!(matches!(
        sim.step(&[None], &[Wait]),
        Err(LifelongError::IllegalSchedule { .. })
    ));
    let out = sim.step(&[Some(t0)], &[Forward]).unwrap();
    assert_eq!(out.finished, vec![(0, t0)]);
    assert_eq!(sim.tasks_completed, 1);
    assert_eq!(sim.assignment()[0], None);
    assert_eq!(sim.pool().len(), 1, "a new task is revealed");
}

#[test]
fn scheduler_spreads_robots_over_first_errands() {
    use lifelong::{Planner, PlannerParams, Scheduler, SchedulerParams};
    // A 9-cell corridor; robot 0 at cell 0 already heads for cell 4, robot 1 (cell 1) is free.
    // Tasks: two start at cell 4, one at cell 6.
    let p = problem(
        open_map(9, 1),
        vec![0, 1],
        vec![vec![4, 5], vec![4, 5], vec![6, 5]],
    );
    let mut sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    let id = |first: u32| -> Vec<usize> {
        let pool = sim.pool();
        pool.keys()
            .copied()
            .filter(|t| pool[t].errands[0] == first)
            .collect()
    };
    let (at4, at6) = (id(4), id(6));
    assert_eq!((at4.len(), at6.len()), (2, 1));
    sim.step(&[Some(at4[0]), None], &[Action::Wait, Action::Wait])
        .unwrap();
    let mut planner =
        Planner::new(&p.map, MotionModel::Rotation, 2, PlannerParams::default()).unwrap();
    let pick = |weight: f64, stations: f64, planner: &mut Planner| {
        let mut s = Scheduler::new(SchedulerParams {
            reassign_unopened: false,
            errand_load_weight: weight,
            station_cells_per_robot: stations,
            ..Default::default()
        });
        s.schedule(&sim, planner, None, None)
    };
    // Without the load term robot 1 takes the nearer first errand, where robot 0 goes too
    // (3 steps + 1 against 5 + 1); with it, the free station.
    let (near, spread) = (
        vec![Some(at4[0]), Some(at4[1])],
        vec![Some(at4[0]), Some(at6[0])],
    );
    assert_eq!(pick(0.0, 1.0, &mut planner), near);
    assert_eq!(pick(10.0, 1.0, &mut planner), spread);
    // The term is for shared stations: 2 first-errand cells for 2 robots are more than the
    // default 0.25 per robot, so by default it stays off here.
    assert_eq!(pick(10.0, 0.25, &mut planner), near);
}

#[test]
fn scheduler_re_matches_unopened_robots_and_keeps_their_tasks_when_cut_short() {
    use lifelong::{Planner, PlannerParams, Scheduler, SchedulerParams};
    // 100 robots on a 20 x 20 map, each given a task, none there yet (all wait a step).
    let starts: Vec<u32> = (0..100).map(|i| i * 4).collect();
    let tasks: Vec<Vec<u32>> = (0..300)
        .map(|i| vec![(i * 37 + 7) % 400, (i * 91 + 13) % 400])
        .collect();
    let p = problem(open_map(20, 20), starts, tasks);
    let mut sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    let mut planner =
        Planner::new(&p.map, MotionModel::Rotation, 100, PlannerParams::default()).unwrap();
    // An arbitrary first match: robot a takes the a-th task from the end of the pool; robot
    // 99 stays free (re-matching happens when a robot needs a task).
    let keys: Vec<usize> = sim.pool().keys().rev().copied().collect();
    let first: Vec<Option<usize>> = (0..100).map(|a| (a < 99).then(|| keys[a])).collect();
    sim.step(&first, &[Action::Wait; 100]).unwrap();
    let held = sim.assignment().to_vec();
    let unopened = (0..100)
        .filter(|&a| held[a].is_some_and(|t| !sim.pool()[&t].opened()))
        .count();
    assert!(unopened > 64, "{unopened} robots on their way");
    let changed = |s: &[Option<usize>]| (0..100).filter(|&a| s[a] != held[a]).count();
    let with = |max: usize, deadline, planner: &mut Planner| {
        let params = SchedulerParams {
            reassign_max: max,
            ..Default::default()
        };
        let s = Scheduler::new(params).schedule(&sim, planner, None, deadline);
        sim.check_schedule(&s).unwrap();
        s
    };
    // All re-matched: robots trade the arbitrary tasks for nearer ones.
    let all = with(1000, None, &mut planner);
    assert!(changed(&all) > 0);
    // More robots than `reassign_max`: none is re-matched, only the free robot 99 gets a task.
    let none = with(10, None, &mut planner);
    assert_eq!(changed(&none), 1);
    assert!(none[99].is_some());
    // Where tasks share stations (here every first-errand cell counts as one) robots are
    // re-matched above `reassign_max` too: a station's tasks are matched as one unit.
    let stations = SchedulerParams {
        reassign_max: 10,
        station_cells_per_robot: 10.0,
        ..Default::default()
    };
    let shared = Scheduler::new(stations).schedule(&sim, &mut planner, None, None);
    sim.check_schedule(&shared).unwrap();
    assert!(changed(&shared) > 1);
    // Re-matching stops at the table deadline: past it, only the free robot is matched (it
    // may take the task of one robot on its way, which then gets one in a later step).
    let past = std::time::Instant::now();
    let late =
        Scheduler::new(SchedulerParams::default()).schedule(&sim, &mut planner, Some(past), None);
    assert!(late[99].is_some());
    assert!(changed(&late) <= 2);
    assert!(late.iter().filter(|t| t.is_some()).count() >= 99);
    // Out of time the greedy costs only its first 64 robots, the free one first; the others
    // keep their tasks (unless one of those 64 took it) instead of all losing them.
    let cut = with(1000, Some(past), &mut planner);
    let working = cut.iter().filter(|t| t.is_some()).count();
    assert!(working > 64, "{working} robots hold a task");
    assert!(cut[99].is_some(), "the free robot got no task");
}

#[test]
fn scheduler_measures_task_lengths_around_walls() {
    use lifelong::{Planner, PlannerParams, Scheduler, SchedulerParams};
    // A wall down column 3 but for the bottom row. Tasks 0 and 1 start next to robot 0 at
    // (0,0): task 0 runs to (5,0) (4 by Manhattan, 12 round the wall), task 1 to (0,4) (5).
    // Robot 1 at (6,4) is there so that three tasks are revealed; task 2 starts beside it.
    let rows = ["...#...", "...#...", "...#...", "...#...", "......."];
    let free: Vec<bool> = rows.concat().chars().map(|c| c == '.').collect();
    let p = problem(
        GridMap::new(7, 5, free),
        vec![0, 34],
        vec![vec![1, 5], vec![1, 28], vec![33, 32]],
    );
    let sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    assert_eq!(sim.pool().len(), 3);
    let mut planner =
        Planner::new(&p.map, MotionModel::Rotation, 2, PlannerParams::default()).unwrap();
    let mut pick = |table_deadline| {
        let mut s = Scheduler::new(SchedulerParams::default());
        s.schedule(&sim, &mut planner, table_deadline, None)[0]
    };
    assert_eq!(pick(None), Some(1), "the truly shorter task");
    // No time to measure: the Manhattan bounds decide.
    let past = std::time::Instant::now();
    assert_eq!(pick(Some(past)), Some(0));
}

/// 12 robots on an open 10 x 10 map (100 free cells, no corridors: not an aisle grid), with
/// 40 tasks to pick from.
fn open_fleet() -> Problem {
    let starts: Vec<u32> = (0..12).map(|i| i * 8).collect();
    let tasks: Vec<Vec<u32>> = (0..40)
        .map(|i| vec![(i * 37 + 5) % 100, (i * 11) % 100])
        .collect();
    problem(open_map(10, 10), starts, tasks)
}

/// Robots that hold a task after one (checked) schedule of a fresh scheduler.
fn working_robots(
    p: &Problem,
    planner: lifelong::PlannerParams,
    scheduler: lifelong::SchedulerParams,
) -> usize {
    let sim = Simulator::new(p, MotionModel::Rotation).unwrap();
    let n = p.starts.len();
    let mut planner = lifelong::Planner::new(&p.map, MotionModel::Rotation, n, planner).unwrap();
    let schedule = lifelong::Scheduler::new(scheduler).schedule(&sim, &mut planner, None, None);
    sim.check_schedule(&schedule).unwrap();
    schedule.iter().filter(|t| t.is_some()).count()
}

#[test]
fn scheduler_caps_working_robots_by_map_size_off_aisle_grids() {
    use lifelong::{Planner, PlannerParams, SchedulerParams};
    let p = open_fleet();
    let planner = Planner::new(&p.map, MotionModel::Rotation, 12, PlannerParams::default());
    assert!(!planner.unwrap().corridor_map());
    let per_sqrt = |per_sqrt: f64| SchedulerParams {
        max_active_per_sqrt_free_cell: per_sqrt,
        ..Default::default()
    };
    // 0.5 per square root of 100 free cells: 5 robots work; the default 15 (150) caps none.
    assert_eq!(
        working_robots(&p, PlannerParams::default(), per_sqrt(0.5)),
        5
    );
    // A fleet too large for the windowed LNS plans with EPIBT and lanes (the sparse fleets'
    // penalty: 0.12 robots per free cell off an aisle grid), and keeps the cap.
    let epibt = PlannerParams {
        lns_max_agents: 10,
        ..Default::default()
    };
    let planner = Planner::new(&p.map, MotionModel::Rotation, 12, epibt.clone()).unwrap();
    assert!(planner.kind().starts_with("EPIBT"));
    assert_eq!(planner.cache.lane_penalty(), epibt.sparse_lane_penalty);
    assert_ne!(epibt.sparse_lane_penalty, epibt.lane_penalty);
    assert_eq!(working_robots(&p, epibt, per_sqrt(0.5)), 5);
    let default_cap = SchedulerParams::default().max_active_per_sqrt_free_cell;
    assert_eq!(
        working_robots(&p, PlannerParams::default(), per_sqrt(default_cap)),
        12
    );
    // A fleet above the cap (12 robots, 1 × sqrt(100) = 10) is cut to the large-fleet cap;
    // one under it (1.5 × 10 = 15) all works.
    let large = |per_sqrt: f64, large: f64| SchedulerParams {
        max_active_per_sqrt_free_cell: per_sqrt,
        large_fleet_active_per_sqrt_free_cell: large,
        ..Default::default()
    };
    assert_eq!(
        working_robots(&p, PlannerParams::default(), large(1.0, 0.8)),
        8
    );
    assert_eq!(
        working_robots(&p, PlannerParams::default(), large(1.5, 0.8)),
        12
    );
    // On an aisle grid with lanes the cap does not apply: 0.5 x sqrt(16) would be 2 robots.
    let rows = [".....", "#.#.#", "#.#.#", "#.#.#", "....."];
    let passable: Vec<bool> = rows
        .iter()
        .flat_map(|r| r.chars().map(|c| c == '.'))
        .collect();
    let aisles = problem(
        GridMap::new(5, 5, passable),
        vec![0, 2, 4],
        vec![
            vec![20, 1],
            vec![22, 3],
            vec![24, 0],
            vec![21, 2],
            vec![23, 4],
        ],
    );
    let planner = Planner::new(
        &aisles.map,
        MotionModel::Rotation,
        3,
        PlannerParams::default(),
    )
    .unwrap();
    assert!(planner.cache.lane_penalty() > 0);
    assert_eq!(
        working_robots(&aisles, PlannerParams::default(), per_sqrt(0.5)),
        3
    );
}

#[test]
fn the_jam_guard_cuts_the_working_robots_of_a_sparse_epibt_fleet_that_waits() {
    use lifelong::{JAM_WINDOW, Planner, PlannerParams, Scheduler, SchedulerParams};
    let p = open_fleet();
    let sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    let n = p.starts.len();
    let goals = vec![Some(0); n];
    // A window in which `waits` of the robots' n × JAM_WINDOW actions are waits.
    let window = |s: &mut Scheduler, planner: &Planner, waits: usize| {
        for step in 0..JAM_WINDOW {
            let actions: Vec<Action> = (0..n)
                .map(|i| {
                    if step * n + i < waits {
                        Action::Wait
                    } else {
                        Action::Forward
                    }
                })
                .collect();
            s.observe(&sim, planner, &goals, &actions);
        }
    };
    // 12 robots on 100 free cells: too many for the windowed LNS here, so EPIBT plans.
    let epibt = PlannerParams {
        lns_max_agents: 10,
        ..Default::default()
    };
    let mut planner = Planner::new(&p.map, MotionModel::Rotation, n, epibt.clone()).unwrap();
    assert!(planner.is_epibt());
    let mut s = Scheduler::new(SchedulerParams::default());
    let share = SchedulerParams::default().jam_wait_share;
    let at_share = (share * (n * JAM_WINDOW) as f64).round() as usize;
    window(&mut s, &planner, at_share / 2);
    assert_eq!(s.jam_cuts(), 0, "half the share: no cut");
    window(&mut s, &planner, 2 * at_share);
    assert_eq!(s.jam_cuts(), 1, "twice the share: a cut");
    // 12 × 0.95 = 11.4 robots still round up to 12; a second cut leaves 11 working.
    window(&mut s, &planner, n * JAM_WINDOW);
    assert_eq!(s.jam_cuts(), 2);
    let schedule = s.schedule(&sim, &mut planner, None, None);
    sim.check_schedule(&schedule).unwrap();
    assert_eq!(schedule.iter().flatten().count(), 11);
    assert_eq!(working_robots(&p, epibt, SchedulerParams::default()), n);
    // Off: a share of 0; and fleets the windowed LNS plans (it waits on purpose).
    let off = SchedulerParams {
        jam_wait_share: 0.0,
        ..Default::default()
    };
    let mut s = Scheduler::new(off);
    window(&mut s, &planner, n * JAM_WINDOW);
    assert_eq!(s.jam_cuts(), 0);
    let lns = Planner::new(&p.map, MotionModel::Rotation, n, PlannerParams::default()).unwrap();
    assert!(!lns.is_epibt());
    let mut s = Scheduler::new(SchedulerParams::default());
    window(&mut s, &lns, n * JAM_WINDOW);
    assert_eq!(s.jam_cuts(), 0);
}

#[test]
fn scheduler_lets_no_more_robots_idle_than_the_floor_allows() {
    use lifelong::{PlannerParams, SchedulerParams};
    let p = open_fleet();
    let working = |per_free_cell: f64, idle_per_free_cell: f64| {
        let scheduler = SchedulerParams {
            max_active_per_free_cell: per_free_cell,
            max_idle_per_free_cell: idle_per_free_cell,
            ..Default::default()
        };
        working_robots(&p, PlannerParams::default(), scheduler)
    };
    // 0.05 working robots per free cell: 5 work, 7 idle, under the default 0.45 idle.
    let default_idle = SchedulerParams::default().max_idle_per_free_cell;
    assert_eq!(working(0.05, default_idle), 5);
    // At most 0.04 idle per free cell: 4 idle, so 8 work despite the cap.
    assert_eq!(working(0.05, 0.04), 8);
    // The floor never asks for more robots than there are.
    assert_eq!(working(0.05, 0.0), 12);
}

#[test]
fn round_robin_2023_gives_tasks_in_turn() {
    let (p, _) = lorr::read_instance(data("lorr2023/MR23-T-01.json")).unwrap();
    let sim = Simulator::new(&p, MotionModel::Rotation).unwrap();
    // Robot 0 gets task 0 (cell 13), robot 1 task 1 (cell 10).
    assert_eq!(sim.goal(0), Some(13));
    assert_eq!(sim.goal(1), Some(10));
}

fn reproducible() -> LifelongParams {
    let mut p = LifelongParams {
        step_time_ms: None,
        ..Default::default()
    };
    // These tests check legality and determinism: fewer LNS neighbourhoods than the default.
    p.planner.lns_max_iterations = 2000;
    p
}

#[test]
fn seeded_runs_complete_tasks_and_are_deterministic() {
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    for motion in [MotionModel::Rotation, MotionModel::FourConnected] {
        let p = Problem::generate("random", map.clone(), 40, 3).unwrap();
        let params = LifelongParams {
            motion,
            ..reproducible()
        };
        let a = lifelong::run(&p, 150, &params, |_, _| {}).unwrap();
        let b = lifelong::run(&p, 150, &params, |_, _| {}).unwrap();
        assert!(a.tasks_completed > 5, "{motion:?}: {a:?}");
        assert_eq!(a.validated_steps, 150);
        assert_eq!(a.refused_plans, 0, "{motion:?}");
        assert_eq!(
            (a.tasks_completed, a.errands_completed),
            (b.tasks_completed, b.errands_completed)
        );
        // A different seed gives a different stream.
        let q = Problem::generate("random", map.clone(), 40, 4).unwrap();
        assert_ne!(p.tasks, q.tasks);
    }
}

#[test]
fn four_connected_beats_rotation_on_the_same_stream() {
    // Turning costs steps, so the same stream yields more tasks without rotation.
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let p = Problem::generate("random", map, 30, 9).unwrap();
    let rot = lifelong::run(&p, 200, &reproducible(), |_, _| {}).unwrap();
    let four = lifelong::run(
        &p,
        200,
        &LifelongParams {
            motion: MotionModel::FourConnected,
            ..reproducible()
        },
        |_, _| {},
    )
    .unwrap();
    assert!(
        four.tasks_completed > rot.tasks_completed,
        "{four:?} vs {rot:?}"
    );
}

#[test]
fn tiny_lorr_instances_run() {
    for (path, errands_only) in [
        ("lorr2024/TINY-01.json", false),
        ("lorr2023/MR23-T-01.json", true),
    ] {
        let (p, _) = lorr::read_instance(data(path)).unwrap();
        let steps = p.steps.unwrap();
        let m = lifelong::run(&p, steps, &reproducible(), |_, _| {}).unwrap();
        assert!(m.tasks_completed > 0, "{path}: {m:?}");
        assert_eq!(m.refused_plans, 0);
        if errands_only {
            assert_eq!(m.tasks_completed, m.errands_completed);
        } else {
            assert!(m.errands_completed > m.tasks_completed);
        }
    }
}

/// One run of a seeded stream on random-32-32-20 with priorities and deadlines drawn on a
/// third of its tasks each, with the scheduler's weights for them or with none.
fn run_with_terms(weigh_terms: bool) -> lifelong::Metrics {
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let mut p = Problem::generate("random", map, 40, 5).unwrap();
    p.draw_terms(0.3, 0.3, 60, 5).unwrap();
    let mut params = reproducible();
    if !weigh_terms {
        params.scheduler.terms.priority_weight = 0;
        params.scheduler.terms.lateness_weight = 0;
    }
    lifelong::run(&p, 300, &params, |_, _| {}).unwrap()
}

#[test]
fn priorities_and_deadlines_reach_the_schedule() {
    let with = run_with_terms(true);
    let without = run_with_terms(false);
    let (w, wo) = (&with.task_times, &without.task_times);
    // Every task is counted once, finished or open, by its class.
    assert_eq!(w.urgent + w.normal, with.tasks_completed);
    assert_eq!(
        w.urgent_open + w.normal_open,
        60,
        "the pool holds 1.5 × 40 tasks"
    );
    // Prioritised tasks are served sooner than the others, and sooner than when the
    // scheduler ignores their priority.
    assert!(w.urgent_mean() < 0.8 * w.normal_mean(), "{w:?}");
    assert!(w.urgent_mean() < 0.85 * wo.urgent_mean(), "{w:?} vs {wo:?}");
    // Fewer deadlines missed (late, or open past it at the end) when the scheduler weighs
    // them.
    assert!(w.late + w.overdue < wo.late + wo.overdue, "{w:?} vs {wo:?}");
    assert!(wo.late + wo.overdue > 0, "{wo:?}");
    assert!(2 * w.lateness() < wo.lateness(), "{w:?} vs {wo:?}");
}

#[test]
fn task_terms_are_checked() {
    let mut p = Problem::generate("g", open_map(4, 4), 3, 0).unwrap();
    let e = p.draw_terms(1.5, 0.0, 10, 0).unwrap_err();
    assert!(
        e.to_string()
            .contains("priority must be in [0, 1] (1.5 given)"),
        "{e}"
    );
    let e = p.draw_terms(0.0, f64::NAN, 10, 0).unwrap_err();
    assert!(e.to_string().contains("deadline must be in [0, 1]"), "{e}");
    let e = p.draw_terms(0.0, 0.5, 0, 0).unwrap_err();
    assert!(e.to_string().contains("at least one step"), "{e}");
    p.draw_terms(0.5, 0.5, 10, 0).unwrap();
    assert_eq!(p.terms.len(), p.tasks.len());
    p.terms.pop();
    let e = Simulator::new(&p, MotionModel::Rotation).unwrap_err();
    assert!(e.to_string().contains("task terms for"), "{e}");
}

#[test]
fn generate_rejects_too_many_robots_and_none() {
    let e = Problem::generate("g", open_map(2, 2), 5, 0).unwrap_err();
    assert!(e.to_string().contains("5 robots"), "{e}");
    let e = Problem::generate("g", open_map(2, 2), 0, 0).unwrap_err();
    assert!(e.to_string().contains("at least one robot"), "{e}");
}

#[test]
fn distance_cache_is_bounded_and_exact() {
    use courier_fleet::distance::UNREACHABLE;
    use courier_fleet::lifelong::DistanceCache;
    use courier_fleet::mapf::Grid;
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let cells = map.width * map.height;
    // Room for exactly 3 tables.
    let mut c = DistanceCache::new(Grid::new(&map).unwrap(), 3 * 2 * cells);
    assert_eq!(c.capacity(), 3);
    let free: Vec<u32> = (0..cells as u32)
        .filter(|&i| map.passable[i as usize])
        .collect();
    let t = c.ensure(free[0]).unwrap();
    assert_eq!(t.get(free[0]), 0);
    // BFS distances: neighbours differ by at most one, and match Manhattan on open ground.
    for &v in &free {
        for u in map.neighbors4(v as usize) {
            let (a, b) = (t.get(v), t.get(u as u32));
            if a != UNREACHABLE && b != UNREACHABLE {
                assert!(a.abs_diff(b) <= 1);
            }
        }
        if t.get(v) != UNREACHABLE {
            assert!(t.get(v) >= c.manhattan(v, free[0]));
        }
    }
    c.ensure(free[1]).unwrap();
    c.ensure(free[2]).unwrap();
    // Full, and all three used in this step: no room, nothing evicted.
    assert!(c.ensure(free[3]).is_none());
    assert_eq!(c.len(), 3);
    // Next step the least recently used one makes way.
    c.tick();
    c.get(free[0]);
    c.get(free[2]);
    assert!(c.ensure(free[3]).is_some());
    assert!(!c.contains(free[1]) && c.contains(free[0]) && c.len() == 3);
    // One-way lanes only lengthen distances.
    let mut lanes = DistanceCache::new(Grid::new(&map).unwrap(), 1 << 20);
    lanes.set_lane_penalty(2);
    let l = lanes.ensure(free[0]).unwrap();
    for &v in &free {
        assert!(l.get(v) >= t.get(v) || t.get(v) == UNREACHABLE);
    }
}

/// Tables the planner's cache holds for 300 robots on `map` under the two bounds.
fn cache_capacity(map: &GridMap, cache_bytes: usize, cache_max_bytes: usize) -> usize {
    let params = PlannerParams {
        cache_bytes,
        cache_max_bytes,
        ..Default::default()
    };
    lifelong::Planner::new(map, MotionModel::Rotation, 300, params)
        .unwrap()
        .cache
        .capacity()
}

#[test]
fn planner_cache_holds_a_table_per_robot_where_that_fits() {
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let capacity =
        |cache_bytes, cache_max_bytes| cache_capacity(&map, cache_bytes, cache_max_bytes);
    // No budget, but room for 300 tables in the bound: one per robot.
    assert_eq!(capacity(0, usize::MAX), 300);
    // Neither: the cache still holds one table.
    assert_eq!(capacity(0, 0), 1);
    // A budget above one table per robot is kept.
    let budget = capacity(1 << 30, 0);
    assert!(budget > 300, "{budget} tables");
    assert_eq!(capacity(1 << 30, usize::MAX), budget);
}

#[test]
fn per_robot_tables_are_counted_at_their_real_size() {
    use courier_fleet::distance::Table;
    use courier_fleet::mapf::Grid;
    // Ten open rows of a 100 × 100 grid: a table counted over the full grid would be ten
    // times one over its 1000 passable cells (as on GAME's mostly blocked map).
    let passable: Vec<bool> = (0..100 * 100).map(|i| i < 10 * 100).collect();
    let map = GridMap::new(100, 100, passable);
    let grid = Grid::new(&map).unwrap();
    // 300 robots on 1000 cells: the windowed LNS on heading-aware tables.
    let real = Table::bytes(&grid, true);
    assert_eq!(cache_capacity(&map, 0, 300 * real), 300);
    assert_eq!(cache_capacity(&map, 0, 300 * real - 1), 1);
}

#[test]
fn lanes_alternate_between_corridors() {
    use courier_fleet::lifelong::DistanceCache;
    use courier_fleet::mapf::Grid;
    // Two one-cell-wide vertical aisles, at columns 1 and 3 (both odd, as on
    // warehouse_large), joined by open rows 0 and 4.
    let rows = [".....", "#.#.#", "#.#.#", "#.#.#", "....."];
    let passable: Vec<bool> = rows
        .iter()
        .flat_map(|r| r.chars().map(|c| c == '.'))
        .collect();
    let map = GridMap::new(5, 5, passable);
    let grid = Grid::new(&map).unwrap();
    let mut c = DistanceCache::new(grid.clone(), 1 << 20);
    c.set_lane_penalty(2);
    let cost = |c: &mut DistanceCache, from: (u32, u32), to: (u32, u32)| {
        c.ensure(grid.cell(to.0, to.1))
            .unwrap()
            .get(grid.cell(from.0, from.1))
    };
    // The first aisle runs south, the second north: along its lane an aisle costs its length.
    assert_eq!(cost(&mut c, (1, 0), (1, 4)), 4);
    assert_eq!(cost(&mut c, (3, 4), (3, 0)), 4);
    // Against it each step costs 1 + 2 (every detour through the other aisle costs more).
    assert_eq!(cost(&mut c, (1, 4), (1, 0)), 12);
    assert_eq!(cost(&mut c, (3, 0), (3, 4)), 12);
    // The planner turns lanes on for aisle grids (12 of these 16 cells are corridor cells),
    // not for random-32-32-20 (11 %) unless EPIBT plans there, i.e. the fleet is denser than
    // the windowed LNS takes (819 free cells: 286 robots are 0.349 per free cell, 287 are
    // 0.350 and more than 0.35).
    assert_eq!(c.corridor_share(), 0.75);
    let params = lifelong::PlannerParams::default();
    let aisles = lifelong::Planner::new(&map, MotionModel::Rotation, 2, params.clone()).unwrap();
    assert_eq!(aisles.cache.lane_penalty(), params.lane_penalty);
    let random = movingai::read_map(data("random-32-32-20.map")).unwrap();
    assert_eq!(random.passable_count(), 819);
    let lanes = |robots: usize| {
        lifelong::Planner::new(&random, MotionModel::Rotation, robots, params.clone())
            .unwrap()
            .cache
            .lane_penalty()
    };
    assert_eq!(lanes(2), 0);
    assert_eq!(lanes(286), 0);
    assert_eq!(lanes(287), params.lane_penalty);
    // One-step PIBT plans without lanes off aisle grids, however dense the fleet.
    let one_step = lifelong::Planner::new(
        &random,
        MotionModel::Rotation,
        600,
        lifelong::PlannerParams::one_step(),
    )
    .unwrap();
    assert_eq!(one_step.cache.lane_penalty(), 0);
    assert!(aisles.corridor_map() && !one_step.corridor_map());
}

#[test]
fn planner_follows_fleet_density() {
    // random-32-32-20 has 819 free cells: RANDOM-02/03/05 sizes get the windowed LNS, EPIBT
    // with 5-step operations and above 0.9 robots per free cell 3-step.
    let random = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let planner = |robots: usize, params: PlannerParams| {
        lifelong::Planner::new(&random, MotionModel::Rotation, robots, params).unwrap()
    };
    let kind = |robots: usize| planner(robots, Default::default()).kind();
    assert_eq!(kind(200), "windowed LNS, 10 steps");
    assert_eq!(
        kind(400),
        "EPIBT, 5-step operations, inherited, crowd costs"
    );
    // Operation inheritance only in dense fleets (0.49 robots per free cell above), not in
    // an EPIBT fleet at 0.24 (as GAME, which plans with EPIBT for its size).
    let large = PlannerParams {
        lns_max_agents: 10,
        ..Default::default()
    };
    assert_eq!(planner(200, large).kind(), "EPIBT, 5-step operations");
    // Crowd costs from above 0.35 up to 0.6 robots per free cell.
    assert_eq!(kind(286), "windowed LNS, 10 steps");
    assert_eq!(
        kind(287),
        "EPIBT, 5-step operations, inherited, crowd costs"
    );
    assert_eq!(
        kind(491),
        "EPIBT, 5-step operations, inherited, crowd costs"
    );
    // Above 0.6 robots per free cell robots that waited long for their goal plan first.
    let waiting = "EPIBT, 5-step operations, inherited, waiting first";
    assert_eq!(kind(492), waiting);
    assert_eq!(kind(655), waiting);
    // Above 0.8 robots per free cell (and up to 0.9) robots without a task park.
    assert_eq!(kind(656), format!("{waiting}, parking"));
    assert_eq!(kind(737), format!("{waiting}, parking"));
    // Above 0.9, 3-step operations, and robots without a task move whenever they can.
    assert_eq!(
        kind(738),
        "EPIBT, 3-step operations, inherited, waiting first, restless idle"
    );
    // 3-step operations cost less per improvement attempt: such fleets get more attempts;
    // crowded fleets with 5-step operations fewer, to stay inside the step budget.
    let d = PlannerParams::default();
    assert_eq!(
        planner(491, d.clone()).improve_tries(),
        d.window_improve_tries
    );
    assert_eq!(
        planner(492, d.clone()).improve_tries(),
        d.window_improve_tries_crowded
    );
    assert_eq!(
        planner(737, d.clone()).improve_tries(),
        d.window_improve_tries_crowded
    );
    assert_eq!(
        planner(738, d.clone()).improve_tries(),
        d.window_improve_tries_dense
    );
    assert!(d.window_improve_tries_dense > d.window_improve_tries);
    assert!(d.window_improve_tries_crowded < d.window_improve_tries);
    let one = lifelong::PlannerParams::one_step();
    let p = lifelong::Planner::new(&random, MotionModel::Rotation, 400, one).unwrap();
    assert_eq!(p.kind(), "one-step PIBT");
}

/// Runs `params` twice and one-step PIBT once for 150 steps on `p`: the planner must be legal,
/// deterministic and finish more tasks than one-step PIBT.
fn assert_beats_one_step_pibt(p: &Problem, params: &LifelongParams) {
    let one_step = LifelongParams {
        planner: PlannerParams::one_step(),
        ..params.clone()
    };
    let a = lifelong::run(p, 150, params, |_, _| {}).unwrap();
    let b = lifelong::run(p, 150, params, |_, _| {}).unwrap();
    let o = lifelong::run(p, 150, &one_step, |_, _| {}).unwrap();
    let motion = params.motion;
    assert_eq!(a.refused_plans, 0, "{motion:?}");
    assert_eq!(a.validated_steps, 150);
    assert_eq!(a.errands_completed, b.errands_completed, "{motion:?}");
    assert_eq!(a.tasks_completed, b.tasks_completed, "{motion:?}");
    eprintln!(
        "{motion:?}: planner {} one-step {}",
        a.tasks_completed, o.tasks_completed
    );
    assert!(
        a.tasks_completed > o.tasks_completed,
        "{motion:?}: {a:?} vs {o:?}"
    );
}

#[test]
fn epibt_is_legal_deterministic_and_beats_one_step_pibt_in_a_dense_fleet() {
    // 300 robots on random-32-32-20 (0.37 per free cell, above the windowed LNS's limit):
    // EPIBT plans by default; the simulator validates every step.
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    for motion in [MotionModel::Rotation, MotionModel::FourConnected] {
        let p = Problem::generate("random", map.clone(), 300, 4).unwrap();
        let mut epibt = LifelongParams {
            motion,
            ..reproducible()
        };
        epibt.planner.window_improve_tries = 20_000;
        assert_beats_one_step_pibt(&p, &epibt);
    }
}

#[test]
fn epibt_stays_legal_when_robots_fill_half_the_map() {
    // Half the free cells hold robots: chains of pushes fail often, and every fallback (stay,
    // turn in place, undone chains) must still give a legal step.
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let p = Problem::generate("random", map, 400, 2).unwrap();
    let mut params = reproducible();
    params.planner.window_improve_tries = 20_000;
    let m = lifelong::run(&p, 60, &params, |_, _| {}).unwrap();
    assert_eq!(m.refused_plans, 0);
    assert!(m.errands_completed > 0, "{m:?}");
}

#[test]
fn windowed_lns_is_legal_deterministic_and_beats_one_step_pibt() {
    // 150 robots on random-32-32-20 (0.18 per free cell): the default planner (PIBT rolled out
    // over a window, improved by LNS) against one-step PIBT on the same seeded stream.
    let map = movingai::read_map(data("random-32-32-20.map")).unwrap();
    for motion in [MotionModel::Rotation, MotionModel::FourConnected] {
        let p = Problem::generate("random", map.clone(), 150, 5).unwrap();
        let lns = LifelongParams {
            motion,
            ..reproducible()
        };
        assert!(
            lns.planner.lns_window > 0,
            "the windowed LNS is the default"
        );
        assert_beats_one_step_pibt(&p, &lns);
    }
}

/// Summed distance to the parking (of 300 idle robots) of robots 100..400, idle, at the
/// start and after 200 steps among 100 working robots (seeded goals, a new one at each
/// arrival) on random-32-32-20; `park_ratio` 0 plans without parking.
fn parked_idle_robots(park_ratio: f64) -> (usize, usize) {
    const WORKING: usize = 100;
    let random = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let planner = |park_ratio| {
        let params = PlannerParams {
            park_min_density: 0.3,
            park_ratio,
            window_improve_tries: 5000,
            ..Default::default()
        };
        lifelong::Planner::new(&random, MotionModel::Rotation, 400, params).unwrap()
    };
    let free: Vec<u32> = (0..random.passable.len() as u32)
        .filter(|&c| random.passable[c as usize])
        .collect();
    let mut states: Vec<AgentState> = free
        .iter()
        .step_by(2)
        .take(400)
        .map(|&loc| AgentState { loc, dir: 0 })
        .collect();
    let mut draw = 12345u64;
    let mut next_goal = || {
        draw = draw
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        free[(draw >> 33) as usize % free.len()]
    };
    let mut goals: Vec<Option<u32>> = (0..400)
        .map(|i| (i < WORKING).then(&mut next_goal))
        .collect();
    // The parking of 300 idle robots, for measuring.
    let mut reference = planner(1.0);
    reference.plan(&states, &goals, std::time::Instant::now(), None);
    let parked = |states: &[AgentState]| {
        states[WORKING..]
            .iter()
            .map(|s| reference.parking_distance(s.loc).unwrap() as usize)
            .sum::<usize>()
    };
    let before = parked(&states);
    let mut planner = planner(park_ratio);
    for _ in 0..200 {
        let actions = planner.plan(&states, &goals, std::time::Instant::now(), None);
        states = states
            .iter()
            .zip(&actions)
            .map(|(&s, &a)| lifelong::apply(&random, MotionModel::Rotation, s, a).unwrap())
            .collect();
        let mut cells: Vec<u32> = states.iter().map(|s| s.loc).collect();
        cells.sort_unstable();
        cells.dedup();
        assert_eq!(cells.len(), states.len(), "two robots in one cell");
        for (s, g) in states.iter().zip(goals.iter_mut()) {
            if *g == Some(s.loc) {
                *g = Some(next_goal());
            }
        }
    }
    (before, parked(&states))
}

#[test]
fn idle_robots_pushed_aside_head_for_parking() {
    let (before, with) = parked_idle_robots(1.0);
    let (_, without) = parked_idle_robots(0.0);
    // Pushed-aside robots drift to quiet cells anyway (396 to 254 here); parking goes further
    // (to 224).
    assert!(
        with * 20 < without * 19,
        "{with} with parking, {without} without"
    );
    assert!(
        with * 3 < before * 2,
        "{with} with parking, {before} at the start"
    );
}

#[test]
fn crowd_costs_follow_the_robots() {
    // 400 robots on random-32-32-20 (0.49 per free cell): EPIBT with crowd costs. After a
    // step, the tables in use charge for cells robots stand on: dearer than without crowd
    // costs, never cheaper, and cheap again where the robots have left.
    let random = movingai::read_map(data("random-32-32-20.map")).unwrap();
    let free: Vec<u32> = (0..random.passable.len() as u32)
        .filter(|&c| random.passable[c as usize])
        .collect();
    let states: Vec<AgentState> = free
        .iter()
        .step_by(2)
        .take(400)
        .map(|&loc| AgentState { loc, dir: 0 })
        .collect();
    let goals: Vec<Option<u32>> = (0..400)
        .map(|i| Some(free[(i * 7 + 3) % free.len()]))
        .collect();
    let planner = |crowd_penalty| {
        let params = PlannerParams {
            crowd_penalty,
            window_improve_tries: 1000,
            ..Default::default()
        };
        let mut p = lifelong::Planner::new(&random, MotionModel::Rotation, 400, params).unwrap();
        p.plan(&states, &goals, std::time::Instant::now(), None);
        p
    };
    let (mut crowd, mut plain) = (planner(3), planner(0));
    assert!(crowd.kind().ends_with("crowd costs") && !plain.kind().contains("crowd"));
    let goal = goals[0].unwrap();
    let (a, b) = (
        crowd.cache.get(goal).unwrap(),
        plain.cache.get(goal).unwrap(),
    );
    assert!(free.iter().all(|&v| a.get(v) >= b.get(v)));
    assert!(free.iter().any(|&v| a.get(v) > b.get(v)));
    // The robots move to the other half of the free cells: tables are recomputed.
    let moved: Vec<AgentState> = free
        .iter()
        .skip(1)
        .step_by(2)
        .take(400)
        .map(|&loc| AgentState { loc, dir: 0 })
        .collect();
    crowd.plan(&moved, &goals, std::time::Instant::now(), None);
    let c = crowd.cache.get(goal).unwrap();
    assert!(free.iter().any(|&v| c.get(v) != a.get(v)));
}
