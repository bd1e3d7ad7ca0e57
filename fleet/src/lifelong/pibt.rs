//! One-step planner: Priority Inheritance with Backtracking (PIBT, Okumura et al. 2019/2022)
//! over both motion models, with true BFS distances to each robot's next errand.
//!
//! PIBT plans over cells: moving to neighbour `u` costs `1 + D(u)` plus a turn cost for each
//! 90° turn from the robot's heading (`turn_cost_quarters`; under the 4-connected model the
//! heading is the last move's direction and the cost, `inertia_quarters`, stops back-and-forth
//! oscillation), waiting ranks just after the best move. A robot pushed by a higher-priority
//! one must leave its cell; if it cannot, it stays and its pusher tries its next option.
//! Under the rotation model the cell plan then becomes actions: a robot whose next cell is in
//! front moves forward, any other turns toward it and stays, and a robot planned into the cell
//! of a robot that stays stays too (a cascade along the reservations). A direct search over
//! forward / turn / wait deadlocked on RANDOM-01 (26 tasks against 518) and was removed in
//! session 32. Staying always reserves the robot's own cell, so every action set the planner
//! returns is free of vertex and edge conflicts by construction (the simulator checks it
//! anyway).

use super::epibt::{Effort, Epibt};
use super::motion::{Action, AgentState, MotionModel, neighbor, turn_toward, turns};
use super::park::Parking;
use super::wlns::{Costs, WindowLns};
use crate::distance::{DistanceCache, Table, UNREACHABLE};
use crate::mapf::Grid;
use courier_core::GridMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

const NONE: u32 = u32::MAX;

/// Planner parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerParams {
    /// Budget of the distance-table cache in bytes (default 1 GiB), tables counted at their
    /// full-grid size (2 or 4 bytes per grid cell; they store passable cells only, so they
    /// take less): the count decides how many robots plan on true distances.
    pub cache_bytes: usize,
    /// The cache grows past `cache_bytes` to one table per robot where that many fit in
    /// this bound (default 2 GiB, tables at their real size): in WAREHOUSE and SORTATION
    /// nearly every robot heads for its own cell, and 1 GiB held 7,670 / 6,590 of their
    /// tables, so on SORTATION ~1,000–2,000 robots planned on Manhattan distances every
    /// step (fleet/LIFELONG.md, session 29). Since session 30 tables count at their real
    /// size here, so GAME (6,500 × 129 KB) holds one per robot too, not its budget's ~2,100
    /// (counted at 510 KB), with its working robots cut to 13 √F
    /// (`SchedulerParams::large_fleet_active_per_sqrt_free_cell`): 24397 tasks at 1 s per
    /// step against 22230.
    pub cache_max_bytes: usize,
    /// Seed of the tie-breaking (default 0).
    pub seed: u64,
    /// Share of the step budget that may go to computing new distance tables before robots
    /// fall back to the Manhattan distance (default 0.6).
    pub table_time_share: f64,
    /// At most this many new distance tables per step (default: no limit). A count, not a
    /// time, so runs with it are reproducible.
    pub max_new_tables_per_step: usize,
    /// Cell-space planning: cost of one 90° turn needed to enter a neighbour, in quarter
    /// steps (default 4: a turn costs a step, as it does).
    pub turn_cost_quarters: u64,
    /// Extra cost of a step against its one-way lane (see
    /// [`DistanceCache::set_lane_penalty`]; default 2; 0: shortest paths), on maps where at
    /// least `lane_min_corridor_share` of the free cells are one-cell-wide corridors, and on
    /// any map where EPIBT plans (fleets denser than `lns_max_density` or larger than
    /// `lns_max_agents`). Dense fleets on open maps meet head-on everywhere; EPIBT with lanes
    /// (corridor lines alternate, other lines by parity) took RANDOM-03/04/05 from
    /// 1558/1604/1652 to 1722/1755/1753 tasks (`--step-time-ms 0`). On GAME (6500 robots, 0.15
    /// per free cell) they keep a jam from growing out of head-on meetings: at 1 s per step
    /// 19915 tasks against 12109, CITY-02 12973 against 11356. The windowed LNS plans without
    /// them: lanes took it on RANDOM-02 from 1175 to 897. Sparse fleets off aisle grids take
    /// `sparse_lane_penalty` instead.
    pub lane_penalty: u16,
    /// The lane penalty instead where EPIBT plans a sparse fleet (at most `lns_max_density`
    /// robots per free cell; EPIBT plans it for its size) on a map that is not an aisle grid:
    /// CITY-02 and GAME (default 9). First 1500 steps, `--step-time-ms 0`, penalty 2 / 5 / 9
    /// (session 14): CITY-02 7686 / 7920 / 8109 tasks, GAME 7044 / 7011 / 6911. At 1 s per
    /// step: CITY-02 15263 tasks with 5 against 14214 with 2 (full length), GAME 6156 against
    /// 5896 (first 1500 steps). With heading tables and exact task lengths (sessions 21–22,
    /// full length, `--step-time-ms 0`, planner seeds 0 / 1) 9 against 5: CITY-02 16579 /
    /// 16563 against 16457 / 16454, GAME 22219 against 22239 (seed 0), level, so 9 since
    /// session 22. Dense fleets need the milder lanes: RANDOM-03 with 9 did 1278 against
    /// 1499 tasks at step 600.
    pub sparse_lane_penalty: u16,
    /// Lanes only on maps with at least this share of corridor cells
    /// ([`DistanceCache::corridor_share`]; default 0.3: warehouse_large 0.63 and
    /// sortation_large 0.57 get lanes, random-32-32-20 0.11, Paris and brc202d under 0.01 do
    /// not). Full runs with the scheduler's errand load term: WAREHOUSE 75642 tasks with lanes
    /// (34138 before either), SORTATION 95855 (79377). Lanes alone jammed SORTATION late
    /// (58575); on RANDOM-02 they took the windowed LNS from 1175 to 897 tasks.
    pub lane_min_corridor_share: f64,
    /// 4-connected model: cost, in quarter steps, of changing direction (default 4; on
    /// RANDOM-01..04 it took tasks done from 496/484/507/588 with 0 to 647/1087/1185/1330).
    pub inertia_quarters: u64,
    /// EPIBT (see [`super::epibt`]), the planner wherever the windowed LNS is not used:
    /// steps of the operations planned per robot, at most 5; 0 or 1 = one-step PIBT instead
    /// (default 5). 4 against 3 steps (`--step-time-ms 0`, lanes): RANDOM-03 1864 tasks
    /// against 1722, RANDOM-04 1888 against 1755; first 1000 steps of CITY-02 4540 against
    /// 4395, of WAREHOUSE 27543 against 26494 and of GAME 4776 against 4120 (full length, 1 s
    /// per step: WAREHOUSE 141607 against 136656, CITY-02 11356 against 11161, GAME 12109
    /// against 12348); it costs 1.5 to 3 times the planning time. 5 against 4 steps (session
    /// 18, heading tables): RANDOM-03 2065 tasks against 1974; first 800 steps of CITY-02
    /// 4267 against 4245, first 1000 of GAME 4993 against 4948; about 3 times the CPU
    /// (RANDOM-03 298 against 109 ms per step). The densest fleets get 3 steps
    /// (`window_max_density`), and crowded ones fewer improvement attempts
    /// (`window_crowded_min_density`).
    pub window: usize,
    /// EPIBT: above this many robots per free cell, operations of at most 3 steps (default
    /// 0.9). On RANDOM-05 (0.98) 4 steps did 1655 tasks against 1753 with 3, at 708 ms CPU
    /// per step against 193.
    pub window_max_density: f64,
    /// EPIBT: operations tried at most in one root robot's chain of pushes (a count, so
    /// results are reproducible; default 2000).
    pub window_budget_per_root: usize,
    /// EPIBT: improvement attempts after the first pass (a count, so results are
    /// reproducible; default 100000, bounded by `window_time_share` of the step budget).
    pub window_improve_tries: usize,
    /// EPIBT: above this many robots per free cell (and up to `window_max_density`),
    /// `window_improve_tries_crowded` improvement attempts (default 0.6). Until session 26
    /// such fleets had 4-step operations: 5 steps with all 100,000 attempts took RANDOM-04
    /// (0.85) to the whole step budget (CPU 896 ms per step at 1 s per step; 2294 tasks
    /// against 2341 with 4 steps, session 18).
    pub window_crowded_min_density: f64,
    /// EPIBT: improvement attempts per step in crowded fleets (default 50,000). RANDOM-04
    /// (`--step-time-ms 0`, planner seeds 0 / 1 / 2) with 5-step operations and 50,000
    /// attempts: 2472 / 2433 / 2425 tasks against 2415 / 2382 / 2386 with 4-step operations
    /// and 100,000, at 475 against 334 ms CPU per step (p99 559, max 677).
    pub window_improve_tries_crowded: usize,
    /// EPIBT: improvement attempts above `window_max_density`, where operations have 3 steps
    /// and an attempt costs about a third of a 4-step one (default 400000). RANDOM-05 (0.98
    /// robots per free cell, `--step-time-ms 0`) did 1336 tasks by step 1000 against 1276
    /// with 100000, at 650 against 160 ms CPU per step.
    pub window_improve_tries_dense: usize,
    /// EPIBT: in fleets denser than this many robots per free cell (default 0.35), every
    /// robot starts the step holding the rest of the operation it held in the last step
    /// (operation inheritance, after Yukhnevich et al.) instead of "stay", and keeps it if
    /// its search finds nothing better. `--step-time-ms 0`: RANDOM-03/04/05 1906 / 2122 /
    /// 1851 tasks against 1864 / 1888 / 1753; first 1500 steps of CITY-02 (0.06) 7686
    /// against 7579, but GAME (0.15) 6405 against 7049 (seed 1: 6156 against 6416 at step
    /// 1350), its jam setting in earlier, hence dense fleets only.
    pub window_inherit_min_density: f64,
    /// EPIBT: share of the step budget after which planning stops; robots not planned yet
    /// wait (default 0.9).
    pub window_time_share: f64,
    /// Windowed LNS (see [`super::wlns`]): steps of the window, 0 = off (default 10; on
    /// RANDOM-01..04 it took tasks done from 518/686/830/857 to 679/1175/1284/989; with a
    /// window of 15, RANDOM-03 did 1351 at 2.6 times the planning time).
    pub lns_window: usize,
    /// Windowed LNS: robots replanned together in one neighbourhood (default 16 since
    /// session 23, 12 in session 22, 8 before; on RANDOM-03, when it used the LNS, 4, 16 and
    /// 32 did 627, 1008 and 959 tasks against 1284 with 8). Session 22, heading tables,
    /// `--step-time-ms 0`, 6 / 8 / 12 / 16 / 24: RANDOM-02 1180 / 1220 / 1233 / 1240 / 1251
    /// tasks (CPU 278 / 414 / 479 / 500 ms per step with 8 / 12 / 16 / 24), RANDOM-01 – /
    /// 688 / 690 / 686 / –, CITY-01 – / 8426 / 8432 / 8440 / – (CPU 306 ms with 16). At 1 s
    /// per step CITY-01 did 8424 with 12 and 8439 with 16 (CPU 333 / 473 / 801 ms, mean /
    /// p99 / max).
    pub lns_neighbourhood: usize,
    /// Windowed LNS: neighbourhoods tried at most per step (a count, so runs without a time
    /// budget are reproducible; default 12000, bounded by `lns_time_share` of the budget).
    /// Session 19, `--step-time-ms 0`, 2000 / 6000 / 12000: RANDOM-01 679 / 682 / 680
    /// tasks, RANDOM-02 1175 / 1184 / 1202, CITY-01 at step 1000 2788 / – / 2801, at 64 /
    /// 307 ms CPU per step on CITY-01 and 566 on RANDOM-02 with 12000. (On RANDOM-03, when
    /// it used the LNS, 500 did 1162 tasks against 1284 and 8000 were behind at step 560.)
    pub lns_max_iterations: usize,
    /// Windowed LNS: share of the step budget after which the search stops (default 0.8).
    pub lns_time_share: f64,
    /// Windowed LNS only for fleets of at most this many robots per free cell (default
    /// 0.35; EPIBT plans denser fleets: RANDOM-03, at 0.49, did 1558 tasks with EPIBT
    /// against 1284 with the LNS, while RANDOM-02, at 0.24, did 1175 with the LNS and 1023
    /// with EPIBT at 200k tries).
    pub lns_max_density: f64,
    /// Windowed LNS only for fleets of at most this many robots (default 2000; EPIBT plans
    /// larger fleets). CITY-02 (3000 robots) did 11161 tasks with EPIBT against 10450 with the
    /// LNS; on the 10,000-robot instances the LNS gained early and then jammed (WAREHOUSE
    /// 31407 tasks against one-step PIBT's 34138, before lanes).
    pub lns_max_agents: usize,
    /// Windowed LNS: a robot's window path stops holding cells once it reaches its goal
    /// (default false: with `--step-time-ms 0` it did 1184 tasks against 1175 on RANDOM-02,
    /// 8070 against 8018 on CITY-02, but 1160 against 1284 on RANDOM-03).
    pub lns_release_at_goal: bool,
    /// EPIBT and the windowed LNS, rotation model: in fleets of at most this many robots per
    /// free cell (default 0.9; 0: never), distance tables are heading-aware (every turn a
    /// step; see [`DistanceCache::set_headings`]). The windowed LNS has them since session
    /// 21 (its A* heuristic and end-of-window cost turned exact): `--step-time-ms 0`,
    /// RANDOM-01 688 tasks against 676, RANDOM-02 1220 against 1204, CITY-01 8426 against
    /// 8400, at 201 / 278 / 207 ms CPU per step against 397 / 528 / 296. EPIBT,
    /// `--step-time-ms 0`, against cell tables: RANDOM-03
    /// 1974 / 1979 tasks against 1952 / 1941 (planner seeds 0 / 1), RANDOM-04 1275 against
    /// 1256 at step 500; first 800 steps of CITY-02 4245 against 4166, first 1000 of GAME
    /// 4948 against 4901 and of WAREHOUSE 27863 against 27543; but RANDOM-05 (0.98) 1284
    /// against 1336 by step 1000.
    pub headings_max_density: f64,
    /// EPIBT: in fleets of more than this many robots per free cell (default 0.8) and at
    /// most `park_max_density`, a robot without a task that is pushed aside moves toward the
    /// parking: the cells fewest shortest paths cross ([`super::park`]). RANDOM-04 (0.85,
    /// `--step-time-ms 0`) did 2381 / 2354 / 2332 tasks with it against 2341 / 2317 / 2313
    /// (planner seeds 0 / 1 / 2). RANDOM-03 (0.49, with the bound lowered) did 2081 against
    /// 2090, GAME (0.15, 3384 idle robots) 13329 against 13362 by step 3000.
    pub park_min_density: f64,
    /// EPIBT: no parking above this many robots per free cell (default 0.9): RANDOM-05
    /// (0.98, 19 free cells for 800 robots) did 2334 tasks with it against 2346.
    pub park_max_density: f64,
    /// EPIBT, in fleets of more than `crowd_min_density` and at most `crowd_max_density`
    /// robots per free cell: extra cost of entering a cell a robot stands on, in the distance
    /// tables (default 3; 0: off), so that ways lead around crowds. Every step the tables in
    /// use are recomputed from the robots' cells, up to `crowd_refresh` of them, those
    /// computed longest ago first. See `fleet/LIFELONG.md` (session 23) for the measurements.
    pub crowd_penalty: u16,
    /// See `crowd_penalty` (default 0.35).
    pub crowd_min_density: f64,
    /// See `crowd_penalty` (default 0.6).
    pub crowd_max_density: f64,
    /// Tables recomputed at most per step under `crowd_penalty` (default 1000), within
    /// `table_time_share` of the budget.
    pub crowd_refresh: usize,
    /// EPIBT: in fleets denser than `window_age_min_density`, a robot that has held its goal
    /// for more than this many steps plans first, the longest waiting first (PIBT's own
    /// priority, by waiting time); the others plan closest to their goal first. 0 = off
    /// (default 100). Closest-first starves robots that are pushed away from their goal: on
    /// RANDOM-05 (`--step-time-ms 0`, 432 working robots) 126–138 of them had held their
    /// goal for more than 200 steps from step 700 on, 16 cells (Manhattan) from it, and 45–67
    /// for more than 400; with 100 it was 52–83 and 2–28, and the run did 2352 tasks against
    /// 2311. RANDOM-04 (0.85): 2415 against 2403. RANDOM-03 (0.49), not on: 2202 against
    /// 2206.
    pub window_age_priority: u32,
    /// EPIBT: fleets denser than this many robots per free cell get `window_age_priority`
    /// (default 0.6: RANDOM-04 and RANDOM-05, where it was measured).
    pub window_age_min_density: f64,
    /// EPIBT: in fleets denser than this many robots per free cell (default 0.9: RANDOM-05
    /// only), a robot without a task moves as early as it can, not as little: in the first
    /// pass it takes its most eager operation that fits (it otherwise only moves when pushed
    /// aside), and a pushed one leaves at once. Where nearly every cell is taken, robots move
    /// only into the few empty cells; idle robots that take them keep those cells travelling
    /// through the fleet. RANDOM-05 (0.98, 19 free cells, `--step-time-ms 0`): 2530 / 2540
    /// tasks against 2352 / 2349 (planner seeds 0 / 1). Not below: RANDOM-03 (0.49) 2218
    /// against 2206, level; RANDOM-04 (0.85) 1111 against 1120 by step 400 (with parking),
    /// 1729 against 1744 by step 700 (instead of parking).
    pub restless_idle_min_density: f64,
    /// Parking cells per robot without a task (default 1.2; 0: no parking). RANDOM-04: 0.8 /
    /// 1.6 did 2352 / 2321 tasks against 2381.
    pub park_ratio: f64,
}

impl PlannerParams {
    /// One-step PIBT alone: neither the windowed LNS nor EPIBT (the cheapest planner; the
    /// fleet simulation uses it).
    pub fn one_step() -> Self {
        Self {
            lns_window: 0,
            window: 1,
            ..Self::default()
        }
    }
}

impl Default for PlannerParams {
    fn default() -> Self {
        Self {
            cache_bytes: 1 << 30,
            cache_max_bytes: 2 << 30,
            seed: 0,
            table_time_share: 0.6,
            max_new_tables_per_step: usize::MAX,
            turn_cost_quarters: 4,
            lane_penalty: 2,
            sparse_lane_penalty: 9,
            lane_min_corridor_share: 0.3,
            inertia_quarters: 4,
            window: 5,
            window_crowded_min_density: 0.6,
            window_improve_tries_crowded: 50_000,
            window_max_density: 0.9,
            window_budget_per_root: 2000,
            window_improve_tries: 100_000,
            window_improve_tries_dense: 400_000,
            window_inherit_min_density: 0.35,
            window_time_share: 0.9,
            lns_window: 10,
            lns_neighbourhood: 16,
            lns_max_iterations: 12000,
            lns_time_share: 0.8,
            lns_max_density: 0.35,
            lns_max_agents: 2000,
            lns_release_at_goal: false,
            headings_max_density: 0.9,
            park_min_density: 0.8,
            park_max_density: 0.9,
            crowd_penalty: 3,
            crowd_min_density: 0.35,
            crowd_max_density: 0.6,
            crowd_refresh: 1000,
            window_age_priority: 100,
            window_age_min_density: 0.6,
            restless_idle_min_density: 0.9,
            park_ratio: 1.2,
        }
    }
}

/// The PIBT planner with its state across steps (priorities, distance cache).
#[derive(Debug)]
pub struct Planner {
    params: PlannerParams,
    model: MotionModel,
    map: GridMap,
    pub cache: DistanceCache,
    /// Steps since each robot's goal last changed (PIBT's dynamic priority).
    elapsed: Vec<u32>,
    /// 4-connected model: direction of each robot's last move.
    heading: Vec<u8>,
    last_goal: Vec<Option<u32>>,
    tie: Vec<u32>,
    rng: ChaCha8Rng,
    occ: Vec<u32>,
    reserved: Vec<u32>,
    /// Robots that got Manhattan instead of a true table in the last step.
    pub fallbacks: usize,
    /// Whether the map is an aisle grid (`lane_min_corridor_share` of corridor cells).
    corridor_map: bool,
    epibt: Option<Epibt>,
    /// EPIBT in very dense fleets: where robots without a task park.
    park: Option<Parking>,
    /// EPIBT improvement attempts per step (`window_improve_tries`, `…_crowded` or `…_dense`).
    improve_tries: usize,
    wlns: Option<WindowLns>,
    /// Whether distance tables charge for cells robots stand on (`crowd_penalty`).
    crowd: bool,
}

struct Step<'a> {
    map: &'a GridMap,
    states: &'a [AgentState],
    goals: &'a [Option<u32>],
    tables: &'a [Option<Arc<Table>>],
    cache: &'a DistanceCache,
    occ: &'a mut [u32],
    /// Quarter-step cost per 90° turn toward a neighbour (rotation model), or per change of
    /// direction (4-connected inertia).
    turn_cost: u64,
    reserved: &'a mut [u32],
    next: Vec<u32>,
    action: Vec<Action>,
    planned: Vec<bool>,
    rng: &'a mut ChaCha8Rng,
}

/// One ranked option of a robot.
#[derive(Clone, Copy)]
struct Option_ {
    cost: u64,
    /// Cell the robot is in after the step.
    cell: u32,
    action: Action,
}

impl Planner {
    /// Fails only if `map` has too many cells for `u32` cell ids.
    pub fn new(
        map: &GridMap,
        model: MotionModel,
        agents: usize,
        params: PlannerParams,
    ) -> Result<Self, super::LifelongError> {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let density = agents as f64 / map.passable_count().max(1) as f64;
        let grid = Grid::new(map)?;
        let wlns = (params.lns_window >= 1
            && agents <= params.lns_max_agents
            && density <= params.lns_max_density)
            .then(|| WindowLns::new(map, params.lns_window, params.lns_release_at_goal));
        let window = if density > params.window_max_density {
            params.window.min(3)
        } else {
            params.window
        };
        let improve_tries = if density > params.window_max_density {
            params.window_improve_tries_dense
        } else if density > params.window_crowded_min_density {
            params.window_improve_tries_crowded
        } else {
            params.window_improve_tries
        };
        let inherit = density > params.window_inherit_min_density;
        let age_priority = if density > params.window_age_min_density {
            params.window_age_priority
        } else {
            0
        };
        let restless = density > params.restless_idle_min_density;
        let epibt = (wlns.is_none() && window >= 2).then(|| {
            Epibt::new(map, model, window, inherit)
                .with_age_priority(age_priority)
                .with_restless_idle(restless)
        });
        let tie = (0..agents).map(|_| rng.random()).collect();
        let cells = map.width * map.height;
        // The table count changes plans, not only memory: robots beyond it plan on Manhattan
        // distances. GAME flowed at ~100 ms per step with ~2100 tables and slowed to the
        // budget with all ~12,000 (fleet/LIFELONG.md, session 16), so tables are counted at their
        // full-grid size, as before they stored passable cells only (same counts as then;
        // less memory: 86 KB instead of 510 KB a table on brc202d).
        let headings = (epibt.is_some() || wlns.is_some())
            && model == MotionModel::Rotation
            && density <= params.headings_max_density;
        // A heading-aware table takes 3 bytes a passable cell: at most a plain one over the
        // full grid where a third of the cells are blocked (CITY, GAME, WAREHOUSE), more on
        // open maps (RANDOM), where it is counted at its own size.
        let full_grid_table =
            Table::bytes(&grid, false) / (grid.passable_count() + 1) * grid.size();
        let table = full_grid_table.max(Table::bytes(&grid, headings));
        // One table per robot where their real size fits `cache_max_bytes` (GAME: 6500 ×
        // 129 KB; fleet/LIFELONG.md, session 30).
        let per_robot =
            agents.saturating_mul(Table::bytes(&grid, headings)) <= params.cache_max_bytes;
        let tables = (params.cache_bytes / table.max(1)).max(if per_robot { agents } else { 0 });
        // Its own stream, so that fleets without parking draw as before.
        let park = (epibt.is_some()
            && density > params.park_min_density
            && density <= params.park_max_density
            && params.park_ratio > 0.0)
            .then(|| {
                let mut rng = ChaCha8Rng::seed_from_u64(params.seed ^ 0x7061726b);
                Parking::new(&grid, params.park_ratio, 256, &mut rng)
            });
        let crowd = epibt.is_some()
            && params.crowd_penalty > 0
            && density > params.crowd_min_density
            && density <= params.crowd_max_density;
        let mut cache = DistanceCache::with_capacity(grid, tables);
        let corridor_map = cache.corridor_share() >= params.lane_min_corridor_share;
        let lane_penalty = if !corridor_map && density <= params.lns_max_density {
            params.sparse_lane_penalty
        } else {
            params.lane_penalty
        };
        if lane_penalty > 0 && (corridor_map || epibt.is_some()) {
            cache.set_lane_penalty(lane_penalty);
        }
        cache.set_headings(headings);
        Ok(Self {
            cache,
            params,
            model,
            map: map.clone(),
            elapsed: vec![0; agents],
            heading: vec![0; agents],
            last_goal: vec![None; agents],
            tie,
            rng,
            occ: vec![NONE; cells],
            reserved: vec![NONE; cells],
            fallbacks: 0,
            corridor_map,
            epibt,
            park,
            improve_tries,
            wlns,
            crowd,
        })
    }

    /// Which planner this fleet got: `"windowed LNS, 10 steps"`, `"EPIBT, 5-step operations"`
    /// (`", inherited"` with operation inheritance) or `"one-step PIBT"` (the choice depends
    /// on the fleet's size and density).
    pub fn kind(&self) -> String {
        match (&self.wlns, &self.epibt) {
            (Some(w), _) => format!("windowed LNS, {} steps", w.window()),
            (None, Some(e)) => format!(
                "EPIBT, {}-step operations{}{}{}{}{}",
                e.window(),
                if e.inherits() { ", inherited" } else { "" },
                if e.age_priority() > 0 {
                    ", waiting first"
                } else {
                    ""
                },
                if e.restless_idle() {
                    ", restless idle"
                } else {
                    ""
                },
                if self.park.is_some() { ", parking" } else { "" },
                if self.crowd { ", crowd costs" } else { "" }
            ),
            (None, None) => "one-step PIBT".into(),
        }
    }

    /// Whether EPIBT plans this fleet.
    pub fn is_epibt(&self) -> bool {
        self.wlns.is_none() && self.epibt.is_some()
    }

    /// Distance of `cell` to the parking of robots without a task, as planned in the last
    /// step; `None` if this fleet has no parking (or had no idle robot).
    pub fn parking_distance(&self, cell: u32) -> Option<u32> {
        self.park.as_ref().and_then(|p| p.distance(cell))
    }

    /// EPIBT improvement attempts per step for this fleet (fewer above
    /// `window_crowded_min_density`, more above `window_max_density`).
    pub fn improve_tries(&self) -> usize {
        self.improve_tries
    }

    /// Whether the map is an aisle grid: at least `lane_min_corridor_share` of its free cells
    /// are one-cell-wide corridor cells.
    pub fn corridor_map(&self) -> bool {
        self.corridor_map
    }

    /// Distance estimate used by the scheduler: true if a table is held, else Manhattan.
    pub fn estimate(&self, from: u32, goal: u32) -> u32 {
        self.cache.estimate(from, goal)
    }

    /// Actions for all robots from `states` toward `goals` (a robot without a goal stays out of
    /// the way). `deadline` bounds the time spent on new distance tables; PIBT itself is one
    /// linear pass and always completes.
    pub fn plan(
        &mut self,
        states: &[AgentState],
        goals: &[Option<u32>],
        start: Instant,
        budget: Option<std::time::Duration>,
    ) -> Vec<Action> {
        let n = states.len();
        self.cache.tick();
        // Tables, recomputed or new, only within the table share of the budget.
        let table_deadline = budget.map(|b| start + b.mul_f64(self.params.table_time_share));
        if self.crowd {
            self.cache
                .set_crowd(states.iter().map(|s| s.loc), self.params.crowd_penalty);
            self.cache
                .refresh(self.params.crowd_refresh, table_deadline);
        }
        for i in 0..n {
            if goals[i] != self.last_goal[i] || goals[i].is_none_or(|g| g == states[i].loc) {
                self.elapsed[i] = 0;
            } else {
                self.elapsed[i] = self.elapsed[i].saturating_add(1);
            }
            self.last_goal[i] = goals[i];
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (goals[i].is_none(), u32::MAX - self.elapsed[i], self.tie[i]));

        // Distance tables, highest priority first.
        let mut tables: Vec<Option<Arc<Table>>> = vec![None; n];
        let mut new_tables = 0;
        self.fallbacks = 0;
        for &i in &order {
            let Some(g) = goals[i] else { continue };
            tables[i] = self.cache.get(g);
            if tables[i].is_none() {
                let time_ok = table_deadline.is_none_or(|d| Instant::now() < d);
                if time_ok && new_tables < self.params.max_new_tables_per_step {
                    tables[i] = self.cache.ensure(g);
                    new_tables += 1;
                }
                if tables[i].is_none() {
                    self.fallbacks += 1;
                }
            }
        }

        if let Some(e) = self.epibt.as_mut() {
            let idle = goals.iter().filter(|g| g.is_none()).count();
            let park = self
                .park
                .as_mut()
                .and_then(|p| p.table(self.cache.grid(), idle));
            let deadline = budget.map(|b| start + b.mul_f64(self.params.window_time_share));
            return e.plan(
                &self.map,
                self.model,
                states,
                goals,
                &tables,
                &self.cache,
                park,
                &self.tie,
                &self.elapsed,
                &mut self.rng,
                Effort {
                    budget_per_root: self.params.window_budget_per_root,
                    improve_tries: self.improve_tries,
                },
                deadline,
            );
        }
        // 4-connected: plan as if facing the last move's direction, so that a small
        // "turn" cost gives robots inertia (fewer back-and-forth oscillations).
        let headed: Vec<AgentState> = match self.model {
            MotionModel::Rotation => states.to_vec(),
            MotionModel::FourConnected => states
                .iter()
                .zip(&self.heading)
                .map(|(s, &dir)| AgentState { loc: s.loc, dir })
                .collect(),
        };
        let actions = if let Some(mut w) = self.wlns.take() {
            let rollout = self.rollout(&headed, goals, &tables, &order, w.window());
            let costs = Costs {
                map: &self.map,
                model: self.model,
                goals,
                tables: &tables,
                cache: &self.cache,
            };
            let deadline = budget.map(|b| start + b.mul_f64(self.params.lns_time_share));
            let actions = w.improve(
                &costs,
                rollout,
                self.params.lns_neighbourhood,
                self.params.lns_max_iterations,
                deadline,
                &mut self.rng,
            );
            self.wlns = Some(w);
            actions
        } else {
            self.plan_once(&headed, goals, &tables, &order)
        };
        for (h, a) in self.heading.iter_mut().zip(&actions) {
            if let Action::Move(k) = a {
                *h = *k;
            }
        }
        actions
    }

    /// Window paths (`h + 1` states per robot) from rolling PIBT out for `h` steps. In the
    /// 4-connected model the heading carries the inertia of the rollout's own moves; the paths
    /// store orientation 0, as that model has none.
    fn rollout(
        &mut self,
        headed: &[AgentState],
        goals: &[Option<u32>],
        tables: &[Option<Arc<Table>>],
        order: &[usize],
        h: usize,
    ) -> Vec<Vec<AgentState>> {
        let norm = |s: AgentState, model| match model {
            MotionModel::Rotation => s,
            MotionModel::FourConnected => AgentState { loc: s.loc, dir: 0 },
        };
        let mut cur = headed.to_vec();
        let mut paths: Vec<Vec<AgentState>> = cur
            .iter()
            .map(|&s| {
                let mut p = Vec::with_capacity(h + 1);
                p.push(norm(s, self.model));
                p
            })
            .collect();
        for _ in 0..h {
            let actions = self.plan_once(&cur, goals, tables, order);
            for (i, &a) in actions.iter().enumerate() {
                // PIBT's actions are legal by construction.
                let mut s =
                    super::motion::apply(&self.map, self.model, cur[i], a).unwrap_or(cur[i]);
                if let Action::Move(k) = a {
                    s.dir = k;
                }
                cur[i] = s;
                paths[i].push(norm(s, self.model));
            }
        }
        paths
    }

    /// One PIBT pass in `order`.
    fn plan_once(
        &mut self,
        states: &[AgentState],
        goals: &[Option<u32>],
        tables: &[Option<Arc<Table>>],
        order: &[usize],
    ) -> Vec<Action> {
        let n = states.len();
        for (i, s) in states.iter().enumerate() {
            self.occ[s.loc as usize] = i as u32;
        }
        let mut step = Step {
            map: &self.map,
            states,
            goals,
            tables,
            cache: &self.cache,
            occ: &mut self.occ,
            turn_cost: if self.model == MotionModel::Rotation {
                self.params.turn_cost_quarters
            } else {
                self.params.inertia_quarters
            },
            reserved: &mut self.reserved,
            next: states.iter().map(|s| s.loc).collect(),
            action: vec![Action::Wait; n],
            planned: vec![false; n],
            rng: &mut self.rng,
        };
        for &i in order {
            if !step.planned[i] {
                step.pibt(i, None);
            }
        }
        let Step {
            mut next,
            mut action,
            ..
        } = step;
        if self.model == MotionModel::Rotation {
            self.rotation_actions(states, &mut next, &mut action);
        }
        for (i, s) in states.iter().enumerate() {
            self.occ[s.loc as usize] = NONE;
            self.reserved[s.loc as usize] = NONE;
            self.reserved[next[i] as usize] = NONE;
            if next[i] == s.loc && matches!(action[i], Action::Forward | Action::Move(_)) {
                action[i] = Action::Wait;
            }
        }
        action
    }
}

impl Planner {
    /// Turns a 4-connected plan into rotation actions: a robot whose next cell is in front
    /// moves forward, any other turns toward it and stays; robots planned into the cell of a
    /// robot that stays must stay too (a cascade along reservation chains).
    fn rotation_actions(&mut self, states: &[AgentState], next: &mut [u32], action: &mut [Action]) {
        let mut stay = Vec::new();
        for (i, s) in states.iter().enumerate() {
            if let Action::Move(k) = action[i] {
                if next[i] == s.loc {
                    action[i] = Action::Wait;
                } else if k == s.dir {
                    action[i] = Action::Forward;
                } else {
                    action[i] = turn_toward(s.dir, k);
                    stay.push(i);
                }
            }
        }
        while let Some(j) = stay.pop() {
            // The robot that planned to enter j's cell, if any, must stay.
            let here = states[j].loc;
            let k = self.reserved[here as usize];
            if self.reserved[next[j] as usize] == j as u32 {
                self.reserved[next[j] as usize] = NONE;
            }
            next[j] = here;
            if k != NONE && k as usize != j && next[k as usize] == here {
                let k = k as usize;
                if action[k] == Action::Forward {
                    action[k] = Action::Wait;
                }
                stay.push(k);
            }
            self.reserved[here as usize] = j as u32;
        }
    }
}

impl Step<'_> {
    /// Distance-to-goal of cell `c` for robot `i`.
    fn dist(&self, i: usize, c: u32) -> u64 {
        match (self.goals[i], &self.tables[i]) {
            (Some(_), Some(t)) => match t.get(c) {
                UNREACHABLE => 1 << 20,
                d => d as u64,
            },
            (Some(g), None) => self.cache.manhattan(c, g) as u64,
            // No goal: staying put is best.
            (None, _) => u64::from(c != self.states[i].loc),
        }
    }

    fn options(&mut self, i: usize) -> Vec<Option_> {
        let s = self.states[i];
        let mut opts = Vec::with_capacity(5);
        // Costs in quarter-steps so that waiting ranks just after a move of equal value.
        // With turn costs, waiting costs a step more than the best move, or nothing at the
        // goal.
        let mut wait = 4 * (1 + self.dist(i, s.loc)) + 1;
        if self.turn_cost > 0 && self.goals[i] != Some(s.loc) {
            wait = (0..4u8)
                .filter_map(|k| {
                    neighbor(self.map, s.loc, k).map(|u| {
                        4 * (2 + self.dist(i, u)) + self.turn_cost * turns(s.dir, k) as u64 + 1
                    })
                })
                .min()
                .unwrap_or(wait);
        }
        opts.push(Option_ {
            cost: wait,
            cell: s.loc,
            action: Action::Wait,
        });
        for k in 0..4u8 {
            if let Some(u) = neighbor(self.map, s.loc, k) {
                opts.push(Option_ {
                    cost: 4 * (1 + self.dist(i, u)) + self.turn_cost * turns(s.dir, k) as u64,
                    cell: u,
                    action: Action::Move(k),
                });
            }
        }
        // Ties: prefer a cell nobody stands on now (fewer pushes), then random.
        let keyed: Vec<(u64, bool, u32, Option_)> = opts
            .into_iter()
            .map(|o| {
                let busy = o.cell != s.loc && self.occ[o.cell as usize] != NONE;
                (o.cost, busy, self.rng.random::<u32>(), o)
            })
            .collect();
        let mut keyed = keyed;
        keyed.sort_by_key(|&(c, b, r, _)| (c, b, r));
        keyed.into_iter().map(|k| k.3).collect()
    }

    /// Plans robot `i` (pushed by `parent` if any); true if it got an option it wanted
    /// (for a pushed robot: it leaves its cell).
    fn pibt(&mut self, i: usize, parent: Option<usize>) -> bool {
        self.planned[i] = true;
        let here = self.states[i].loc;
        let opts = self.options(i);
        let parent_cell = parent.map(|p| self.states[p].loc);
        for o in &opts {
            if o.cell == here {
                // Staying: allowed unless a pusher needs this cell.
                let r = self.reserved[here as usize];
                if r != NONE && r != i as u32 {
                    continue;
                }
                self.reserved[here as usize] = i as u32;
                self.next[i] = here;
                self.action[i] = o.action;
                return parent.is_none();
            }
            if self.reserved[o.cell as usize] != NONE || Some(o.cell) == parent_cell {
                continue;
            }
            self.reserved[o.cell as usize] = i as u32;
            self.next[i] = o.cell;
            self.action[i] = o.action;
            let j = self.occ[o.cell as usize];
            if j != NONE
                && j != i as u32
                && !self.planned[j as usize]
                && !self.pibt(j as usize, Some(i))
            {
                // The occupant could not leave; it keeps the cell. Try the next option.
                continue;
            }
            return true;
        }
        // Nothing worked: stay (taking the cell back from the pusher).
        self.reserved[here as usize] = i as u32;
        self.next[i] = here;
        self.action[i] = Action::Wait;
        false
    }
}
