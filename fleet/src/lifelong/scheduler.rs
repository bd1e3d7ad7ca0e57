//! The scheduler of LoRR 2024 rules: gives revealed tasks to robots. Free robots (and, with
//! `reassign_unopened`, robots whose task is not opened yet) are matched to unassigned tasks by
//! cost = distance to the first errand + `task_length_weight` × the task's own errand path
//! (its exact shortest length, measured once per task), by the Hungarian method for small
//! batches and greedily (nearest candidates) for large ones.

use super::motion::Action;
use super::nearest::{self, Layout};
use super::pibt::Planner;
use super::sim::{PoolTask, Simulator};
use crate::assign;
use crate::distance::{FAR, PairDistance, UNREACHABLE, cost_or_far};
use crate::mapf::Grid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

/// Which assignment solver the scheduler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerMethod {
    Greedy,
    Hungarian,
    /// Hungarian when the batch has at most `hungarian_max` robots, else greedy.
    #[default]
    Auto,
}

/// Scheduler parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerParams {
    pub method: SchedulerMethod,
    /// Largest batch (robots) solved by the Hungarian method under `Auto` (default 64).
    pub hungarian_max: usize,
    /// Greedy: cells (of first errands) costed per robot at a time (default 8).
    pub candidates_per_robot: usize,
    /// Weight of the task's own length (first to last errand) in its cost (default 1.0):
    /// preferring short tasks raises the number completed.
    pub task_length_weight: f64,
    /// Also re-match robots whose task is not opened yet (default true): where tasks share
    /// stations (`station_cells_per_robot`) always, elsewhere when the batch has at most
    /// `reassign_max` robots.
    pub reassign_unopened: bool,
    /// Largest batch (free robots + robots on their way to an unopened task) for
    /// re-matching unopened tasks where tasks do not share stations (default 1000; RANDOM
    /// has at most 800 robots, CITY-02 re-matches all 3000, GAME is capped near 3100 working
    /// robots). WAREHOUSE and SORTATION, with some 2000 robots on their way to stations, were
    /// not re-matched under it until session 28: matching in rounds of each robot's cheapest
    /// tasks cost SORTATION ~400 ms a step, and at 1 s per step it did 28435 tasks in 1000
    /// steps against 29088. Matching a station's tasks as one unit, cheapest pair first,
    /// made it cheaper (52 against 90 ms a step): 29953 (fleet/LIFELONG.md, session 28).
    pub reassign_max: usize,
    /// Share of the robots that may hold a task at once (default 1.0); the rest only make
    /// way.
    pub active_fraction: f64,
    /// At most this many working robots per free cell of the map (default 0.4; tuned on
    /// RANDOM-01..05: with 400 to 800 robots on 819 free cells, capping the working robots
    /// near 250 (0.3) raised the tasks done by 20 % to 80 %. With EPIBT and inheritance
    /// (session 13) RANDOM-03 did 1935 / 1932 / 1932 with planner seeds 0 / 1 / 2 at 0.35,
    /// 1906 / 1893 / 1904 at 0.3 and 1911 at 0.4; with heading tables (session 17) 0.4 did
    /// 1965 against 1974. With 5-step operations (session 18) 0.4 did 2090 / 2091 (seeds
    /// 0 / 1) against 2065 / 2073 at 0.35: longer operations carry more working robots.
    /// RANDOM-04 and RANDOM-05 work more robots than this anyway (`max_idle_per_free_cell`)).
    pub max_active_per_free_cell: f64,
    /// On maps that are not aisle grids ([`Planner::corridor_map`]), at most this many working
    /// robots per square root of the free cells (default 15). Without lanes, robots that can
    /// only leave a cell forward meet head-on, and past a density the jams grow for good: on
    /// CITY-02 (3000 robots, 47,240 free cells) the share of robots standing still grew from
    /// 3 % at step 100 to 19 % at step 1000. Capping at 11 √F (2391 there) took CITY-02 from
    /// 8060 to 10450 tasks and GAME (6500 robots, 43,151 free cells: cap 2285) from 7593 to
    /// 9741 (8 and 15 per √F: 9903 and 9619; all before lanes).
    /// CITY-01 (1500 robots) and RANDOM (where the cap per free cell binds first) are
    /// below it. Since session 11 CITY-02 and GAME plan with lanes too and keep the cap
    /// (GAME with lanes and all 6500 robots working: 2677 tasks at step 600 against 3137),
    /// but with lanes 15 √F beat 11 (1 s per step, full length): CITY-02 14214 tasks against
    /// 12973 (15 √F is 3260 there, so all its 3000 robots work), GAME 20351 against 19915.
    /// Not on aisle grids: there the lanes keep flows from meeting head-on, and capping
    /// WAREHOUSE at 2117 robots lost 40 %.
    pub max_active_per_sqrt_free_cell: f64,
    /// Off aisle grids, a fleet of more than `max_active_per_sqrt_free_cell` × √F robots
    /// works at most this many per √F (default 13). GAME (6500 robots; 15 √F = 3116) with a
    /// distance table per robot jammed from step ~1200 with 3116 working (9438 tasks at step
    /// 2000, planning at the 0.9 s stop) and did 24397 at full length with 13 √F (2700);
    /// CITY-02 (3000 robots, under 15 √F = 3260, so all work) did 16126 with 13 √F against
    /// 16560, hence a cut for large fleets only.
    pub large_fleet_active_per_sqrt_free_cell: f64,
    /// Extra cost, in steps, of a task per robot already heading to its first errand's cell
    /// (default 50): spreads robots over the stations instead of queueing them at one. On
    /// WAREHOUSE (2000 steps, with lanes, one-step PIBT) weights 0 / 8 / 30 / 100 / 300 did
    /// 25931 / 25721 / 30169 / 32383 / 30785 tasks. With EPIBT (session 21, first 1000
    /// steps, `--step-time-ms 0`) 10 / 25 / 50 / 100 / 200 did 28453 / 28653 / 28584 /
    /// 28304 / 27417, and SORTATION 29646 with 50 against 29516 with 100.
    pub errand_load_weight: f64,
    /// The load term, and the greedy's matching of the tasks at one cell as one unit, apply
    /// only while the pool's tasks start at no more than this many distinct cells per robot
    /// (default 0.25), i.e. where robots share stations: WAREHOUSE has 352 station cells for
    /// 10,000 robots, SORTATION 620. Where first errands are spread over the map (RANDOM,
    /// CITY, GAME) the load term cost tasks: RANDOM-04 863 against 989.
    pub station_cells_per_robot: f64,
    /// At most this many robots per free cell without a task (default 0.45): overrides the
    /// caps above where the fleet nearly fills the map, since an idle robot blocks as much as
    /// a working one but moves no task. RANDOM-05 (800 robots on 819 free cells) worked 246
    /// robots under the cap per free cell alone (0.3 then) and did 1851 tasks; with 287 /
    /// 369 / 430 / 656 working, 1160 / 1211 / 1232 / 1120 tasks by step 1000 against 1109,
    /// and 369 and 430 did 2111 and 2162 over the full 2000 steps. The floor is 431 there
    /// (RANDOM-04: 331; RANDOM-01..03, CITY, GAME, WAREHOUSE, SORTATION: none).
    pub max_idle_per_free_cell: f64,
    /// Jam guard (0 = off; default 0.03): where EPIBT plans a sparse fleet (at most
    /// `jam_max_density` robots per free cell) off aisle grids (CITY-02, GAME), a window of
    /// [`JAM_WINDOW`] steps in which more than this share of the working robots' actions were
    /// waits lowers the working-robot cap by 5 % for the rest of the run. The √F caps are
    /// fitted to LoRR's maps; a fleet the map cannot carry jams, and waits first: 3100 robots
    /// on brc202d (GAME's map; all work, under 15 √F = 3116) waited 1.4 % of their actions
    /// over steps 1–50, 3.2 % by step 250, 5.3 % by step 500 and 9.9 % by step 800, while
    /// the planning climbed to ~1 s a step and the rate fell (6848 tasks at step 1125). GAME
    /// (2701 working) stays at 1.2–2.0 %, CITY-02 (3000) at 1.2–2.2 %. With the guard at
    /// 3 % that fleet flowed (7163 tasks at step 1125, planning 174 ms a step; 7204 with
    /// 13 √F working from the start); at 5 % it cut too late, and a formed jam did not clear
    /// (6832). It cuts more than needed (2170 working by step 2500: 14078 tasks against
    /// 15030 with 13 √F), but undoing cuts let the jam come back (fleet/LIFELONG.md,
    /// session 34). The windowed LNS (RANDOM-01/02, CITY-01) plans waits on purpose
    /// (RANDOM-02: 7 %) and is left out.
    pub jam_wait_share: f64,
    /// The jam guard's bound on robots per free cell (default 0.35, the sparse fleets; the
    /// dense RANDOM fleets wait far more by design and have their own caps).
    pub jam_max_density: f64,
    /// How a task's priority and deadline weigh against travel ([`assign::cost`]); tasks
    /// without them (all LoRR tasks) cost their travel.
    pub terms: assign::CostParams,
}

impl Default for SchedulerParams {
    fn default() -> Self {
        Self {
            method: SchedulerMethod::Auto,
            hungarian_max: 64,
            candidates_per_robot: 8,
            task_length_weight: 1.0,
            reassign_unopened: true,
            reassign_max: 1000,
            active_fraction: 1.0,
            max_active_per_free_cell: 0.4,
            max_active_per_sqrt_free_cell: 15.0,
            large_fleet_active_per_sqrt_free_cell: 13.0,
            errand_load_weight: 50.0,
            station_cells_per_robot: 0.25,
            max_idle_per_free_cell: 0.45,
            jam_wait_share: 0.03,
            jam_max_density: 0.35,
            terms: assign::CostParams::default(),
        }
    }
}

/// Scheduler state: task lengths computed once per task.
#[derive(Debug, Default)]
pub struct Scheduler {
    pub params: SchedulerParams,
    task_len: HashMap<usize, Length>,
    pair: PairDistance,
    jam: JamGuard,
}

/// Steps over which the jam guard counts the working robots' waits.
pub const JAM_WINDOW: usize = 100;

/// The jam guard's count over the current window, and its cuts so far.
#[derive(Debug, Default)]
struct JamGuard {
    steps: usize,
    actions: usize,
    waits: usize,
    cuts: u32,
}

/// Travel of every batch robot to every station (distinct first errand), read station by
/// station so that one table at a time is in the CPU cache. Where tasks share stations the
/// greedy's buckets bound a pair by Manhattan distance + extra, which the station load makes
/// loose, so the greedy looked up most stations' tables for each robot, a cache miss each:
/// ~300 ms a step for ~2000 robots on SORTATION at 1 s per step (fleet/LIFELONG.md, session 29).
struct StationTravel {
    /// Robot id → row (`u32::MAX` outside the batch).
    row: Vec<u32>,
    /// Task → station (column).
    station: Vec<usize>,
    stations: usize,
    /// Row-major: `travel[row * stations + station]` (at most [`FAR`]).
    travel: Vec<u32>,
}

impl StationTravel {
    fn new(batch: &[usize], firsts: &[u32], travel: impl Fn(usize, usize) -> u64) -> Self {
        let (station, any_task) = nearest::same_key_groups(firsts.iter().copied());
        let stations = any_task.len();
        let mut row = vec![u32::MAX; batch.iter().max().map_or(0, |&a| a + 1)];
        for (r, &a) in batch.iter().enumerate() {
            row[a] = r as u32;
        }
        let mut t = vec![0; batch.len() * stations];
        for (s, &k) in any_task.iter().enumerate() {
            for (r, &a) in batch.iter().enumerate() {
                t[r * stations + s] = travel(a, k).min(FAR as u64) as u32;
            }
        }
        Self {
            row,
            station,
            stations,
            travel: t,
        }
    }

    /// Travel of robot `a` to task `k`'s station (`None` outside the batch).
    fn get(&self, a: usize, k: usize) -> Option<u64> {
        let r = *self.row.get(a).filter(|&&r| r != u32::MAX)? as usize;
        Some(self.travel[r * self.stations + self.station[k]] as u64)
    }
}

/// A task's own length in steps (errand to errand, from its next errand): exact once
/// measured, until then the Manhattan lower bound.
#[derive(Debug, Clone, Copy)]
struct Length {
    steps: u32,
    exact: bool,
}

impl Scheduler {
    pub fn new(params: SchedulerParams) -> Self {
        Self {
            params,
            task_len: HashMap::new(),
            pair: PairDistance::default(),
            jam: JamGuard::default(),
        }
    }

    /// Counts a step's actions of the robots with a goal for the jam guard
    /// ([`SchedulerParams::jam_wait_share`]); at the end of each window, cuts the working-robot
    /// cap if they waited too often.
    pub fn observe(
        &mut self,
        sim: &Simulator,
        planner: &Planner,
        goals: &[Option<u32>],
        actions: &[Action],
    ) {
        let density = sim.states().len() as f64 / sim.map().passable_count().max(1) as f64;
        let share = self.params.jam_wait_share;
        let sparse_epibt = planner.is_epibt() && density <= self.params.jam_max_density;
        if share <= 0.0 || planner.corridor_map() || !sparse_epibt {
            return;
        }
        let jam = &mut self.jam;
        for (g, a) in goals.iter().zip(actions) {
            if g.is_some() {
                jam.actions += 1;
                jam.waits += usize::from(*a == Action::Wait);
            }
        }
        jam.steps += 1;
        if jam.steps == JAM_WINDOW {
            if jam.waits as f64 > share * jam.actions as f64 {
                jam.cuts += 1;
            }
            (jam.steps, jam.actions, jam.waits) = (0, 0, 0);
        }
    }

    /// Times the jam guard has cut the working-robot cap.
    pub fn jam_cuts(&self) -> u32 {
        self.jam.cuts
    }

    /// A schedule for the next step: the current assignment with free robots given tasks.
    /// `table_deadline` bounds the time spent computing true distances for task costs,
    /// `deadline` the whole assignment (robots left over get tasks in a later step).
    pub fn schedule(
        &mut self,
        sim: &Simulator,
        planner: &mut Planner,
        table_deadline: Option<Instant>,
        deadline: Option<Instant>,
    ) -> Vec<Option<usize>> {
        let pool = sim.pool();
        let states = sim.states();
        let mut schedule = sim.assignment().to_vec();
        // Drop finished tasks (the simulator already did) and collect free robots.
        let mut batch: Vec<usize> = (0..states.len())
            .filter(|&a| schedule[a].is_none_or(|t| !pool.contains_key(&t)))
            .collect();
        if batch.is_empty() {
            return schedule;
        }
        // Under the cap on working robots only a few free robots can get a task: with
        // thousands idle (GAME), cost a rotating share of them (4 per free slot), not all.
        const COST_ALL_FREE_UP_TO: usize = 1000;
        let cap = self.working_cap(sim, planner);
        let room = cap.saturating_sub(states.len() - batch.len());
        let wanted = (4 * room).max(64);
        if batch.len() > wanted.max(COST_ALL_FREE_UP_TO) {
            let start = (sim.step_index() * wanted) % batch.len();
            batch.rotate_left(start);
            batch.truncate(wanted);
            batch.sort_unstable();
        }
        // Where tasks start at few cells (stations), a task costs more per robot already
        // heading to its first errand (robots keeping their tasks), and the greedy matches the
        // tasks at one cell as one unit, which makes re-matching all robots on their way cheaper.
        let shares_stations = {
            let stations: std::collections::HashSet<u32> =
                pool.values().map(|t| t.errands[0]).collect();
            stations.len() as f64 <= self.params.station_cells_per_robot * states.len() as f64
        };
        let mut unopened: Vec<usize> = (0..states.len())
            .filter(|&a| {
                schedule[a]
                    .and_then(|t| pool.get(&t))
                    .is_some_and(|t| !t.opened())
            })
            .collect();
        // Robots in the order the greedy costs them (position in the batch, free): the free
        // ones first, so that a greedy cut short by the deadline gives them tasks first, then
        // the re-matched ones from a step-dependent start, so that those it reaches differ
        // from step to step. Re-matching is optional work: it stops at the table deadline.
        // The batch itself stays in robot order, which breaks ties between equal costs.
        let mut costing = batch.clone();
        let n_free = costing.len();
        let rematch_all =
            shares_stations || batch.len() + unopened.len() <= self.params.reassign_max;
        if self.params.reassign_unopened && rematch_all {
            let start = sim.step_index().wrapping_mul(7919) % unopened.len().max(1);
            unopened.rotate_left(start);
            costing.extend_from_slice(&unopened);
            batch.extend(unopened);
            batch.sort_unstable();
        }
        let order: Vec<(usize, bool)> = costing
            .iter()
            .enumerate()
            .filter_map(|(n, a)| Some((batch.binary_search(a).ok()?, n < n_free)))
            .collect();
        let held: Vec<Option<usize>> = batch.iter().map(|&a| schedule[a]).collect();
        for &a in &batch {
            schedule[a] = None;
        }
        let taken: std::collections::HashSet<usize> = schedule.iter().flatten().copied().collect();
        let tasks: Vec<usize> = pool
            .keys()
            .copied()
            .filter(|t| !taken.contains(t))
            .collect();
        if tasks.is_empty() {
            return schedule;
        }
        // True distances when every pool task's first errand fits in the cache.
        let all_fit = planner.cache.capacity() >= 2 * pool.len();
        let mut firsts = Vec::with_capacity(tasks.len());
        for &t in &tasks {
            let e0 = pool[&t].next_errand();
            if all_fit && table_deadline.is_none_or(|d| Instant::now() < d) {
                planner.cache.ensure(e0);
            }
            firsts.push(e0);
        }
        self.measure_lengths(pool, &tasks, planner.cache.grid(), table_deadline);
        let mut extra: Vec<i64> = tasks
            .iter()
            .map(|t| {
                (self.task_len[t].steps as f64 * self.params.task_length_weight).round() as i64
            })
            .collect();
        if self.params.errand_load_weight > 0.0 && shares_stations {
            let mut load: HashMap<u32, u32> = HashMap::new();
            for t in schedule.iter().flatten() {
                if let Some(task) = pool.get(t) {
                    *load.entry(task.next_errand()).or_default() += 1;
                }
            }
            for (k, e) in firsts.iter().enumerate() {
                let l = load.get(e).copied().unwrap_or(0) as f64;
                extra[k] += (l * self.params.errand_load_weight).round() as i64;
            }
        }
        let now = sim.step_index() as u64;
        let cp = self.params.terms;
        // A robot should reach a task's first errand by its deadline less the task's own
        // length (the table distance, or its lower bound while unmeasured).
        let info: Vec<assign::TaskInfo> = tasks
            .iter()
            .map(|t| assign::TaskInfo {
                priority: pool[t].priority,
                deadline: pool[t]
                    .deadline
                    .map(|d| (d as u64).saturating_sub(self.task_len[t].steps as u64)),
            })
            .collect();
        // The greedy's lower bound on a pair: travel + extra − the terms' credit.
        let bound: Vec<i64> = extra
            .iter()
            .zip(&info)
            .map(|(e, i)| e.saturating_sub(assign::credit(i, now, &cp)))
            .collect();
        let due: Vec<Option<u64>> = info.iter().map(|i| i.deadline).collect();
        // Look tables up once per task, not once per pair.
        let tabs: Vec<_> = firsts.iter().map(|&e| planner.cache.get(e)).collect();
        let cache = &planner.cache;
        let travel = |a: usize, k: usize| {
            let from = states[a].loc;
            match &tabs[k] {
                Some(t) => cost_or_far(t.get(from)),
                None => cache.manhattan(from, firsts[k]) as u64,
            }
        };
        let by_station = shares_stations.then(|| StationTravel::new(&batch, &firsts, travel));
        // With no priority or deadline (`info`), a pair costs its travel (a table's distance,
        // at least the Manhattan one) + extra: the lower bound the greedy's buckets rely on.
        let cost = |a: usize, k: usize| {
            let travel = by_station
                .as_ref()
                .and_then(|st| st.get(a, k))
                .unwrap_or_else(|| travel(a, k));
            assign::cost(travel, &info[k], now, &cp).saturating_add(extra[k])
        };
        let xy = |c: u32| {
            let (x, y) = sim.map().coords(c as usize);
            (x as u32, y as u32)
        };
        let task_xy: Vec<(u32, u32)> = firsts.iter().map(|&e| xy(e)).collect();
        let robot_xy: Vec<(u32, u32)> = states.iter().map(|s| xy(s.loc)).collect();
        let use_hungarian = match self.params.method {
            SchedulerMethod::Hungarian => true,
            SchedulerMethod::Greedy => false,
            SchedulerMethod::Auto => batch.len() <= self.params.hungarian_max,
        };
        let result = if use_hungarian {
            let costs: Vec<Option<i64>> = batch
                .iter()
                .flat_map(|&a| (0..tasks.len()).map(move |k| Some(cost(a, k))))
                .collect();
            assign::optimal(batch.len(), tasks.len(), &costs).ok()
        } else {
            None
        };
        let mut result = result.unwrap_or_else(|| {
            let layout = Layout {
                robot_xy: &robot_xy,
                task_xy: &task_xy,
                extra: &bound,
                due: &due,
                by_cell: shares_stations,
            };
            let k = self.params.candidates_per_robot;
            nearest::greedy(&batch, &order, k, cost, &layout, deadline, table_deadline)
        });
        // A robot re-matched but left without a task (the greedy was cut short, or stopped
        // re-matching at the table deadline) keeps the one it held if nobody took it.
        let mut given_task = vec![false; tasks.len()];
        for k in result.iter().flatten() {
            given_task[*k] = true;
        }
        for (r, held) in held.iter().enumerate() {
            // `tasks` is in id order (the pool's keys).
            if let Some(k) = held.and_then(|t| tasks.binary_search(&t).ok())
                && result[r].is_none()
                && !given_task[k]
            {
                result[r] = Some(k);
                given_task[k] = true;
            }
        }
        // Cap the number of working robots: in very dense fleets idle robots that only make
        // way can move more tasks than robots all fighting for cells. Keep the cheapest.
        let busy = schedule.iter().filter(|t| t.is_some()).count();
        let room = cap.saturating_sub(busy);
        let mut given: Vec<(i64, usize)> = result
            .iter()
            .enumerate()
            .filter_map(|(r, k)| k.map(|k| (cost(batch[r], k), r)))
            .collect();
        if given.len() > room {
            given.sort_unstable();
            for &(_, r) in &given[room..] {
                result[r] = None;
            }
        }
        for (r, &a) in batch.iter().enumerate() {
            schedule[a] = result[r].map(|k| tasks[k]);
        }
        self.task_len.retain(|t, _| pool.contains_key(t));
        schedule
    }

    /// Lengths of `tasks`: new ones get their Manhattan bound, then bounds become exact
    /// shortest first (a bound never exceeds the length, so the tasks left unmeasured are
    /// never shorter than the last one measured) until `deadline`.
    fn measure_lengths(
        &mut self,
        pool: &BTreeMap<usize, PoolTask>,
        tasks: &[usize],
        grid: &Grid,
        deadline: Option<Instant>,
    ) {
        let legs = |t: usize| pool[&t].errands[pool[&t].next..].windows(2);
        let mut todo: Vec<(u32, usize)> = Vec::new();
        for &t in tasks {
            let len = self.task_len.entry(t).or_insert_with(|| Length {
                steps: legs(t).map(|w| grid.manhattan(w[0], w[1])).sum(),
                exact: false,
            });
            if !len.exact {
                todo.push((len.steps, t));
            }
        }
        todo.sort_unstable();
        for (_, t) in todo {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let steps = legs(t)
                .map(|w| match self.pair.get(grid, w[0], w[1]) {
                    UNREACHABLE => FAR,
                    d => d,
                })
                .fold(0u32, u32::saturating_add);
            self.task_len.insert(t, Length { steps, exact: true });
        }
    }

    /// The most robots that may hold a task at once.
    fn working_cap(&self, sim: &Simulator, planner: &Planner) -> usize {
        let free_cells = sim.map().passable_count() as f64;
        let robots = sim.states().len() as f64;
        let mut cap = (self.params.active_fraction.clamp(0.0, 1.0) * robots)
            .min(self.params.max_active_per_free_cell.max(0.0) * free_cells);
        if !planner.corridor_map() {
            let per_sqrt = self.params.max_active_per_sqrt_free_cell.max(0.0);
            // A fleet the map cannot hold all working is cut deeper (fleet/LIFELONG.md,
            // session 30).
            let per_sqrt = if robots > per_sqrt * free_cells.sqrt() {
                per_sqrt.min(self.params.large_fleet_active_per_sqrt_free_cell.max(0.0))
            } else {
                per_sqrt
            };
            cap = cap.min(per_sqrt * free_cells.sqrt());
        }
        cap *= 0.95f64.powi(self.jam.cuts as i32);
        let floor = robots - self.params.max_idle_per_free_cell.max(0.0) * free_cells;
        // Both bounds are at most `robots`: active_fraction is clamped to 1, floor ≤ robots.
        cap.max(floor).ceil() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn station_travel_reads_every_pair_of_the_batch() {
        // 12 tasks at 3 first-errand cells; robots 1, 4, 6 and 9 in the batch.
        let firsts: Vec<u32> = (0..12).map(|k| [30, 7, 30, 55][k % 4]).collect();
        let batch = [1, 4, 6, 9];
        let travel = |a: usize, k: usize| match (a * 131 + firsts[k] as usize * 17) % 50 {
            0 => u64::MAX, // beyond FAR: clamped
            d => d as u64,
        };
        let st = StationTravel::new(&batch, &firsts, travel);
        assert_eq!(st.stations, 3);
        for &a in &batch {
            for k in 0..firsts.len() {
                assert_eq!(st.get(a, k), Some(travel(a, k).min(FAR as u64)));
            }
        }
        assert!(
            batch
                .iter()
                .any(|&a| (0..12).any(|k| travel(a, k) == u64::MAX))
        );
        assert_eq!(st.get(0, 0), None);
        assert_eq!(st.get(5, 3), None);
        assert_eq!(st.get(100, 3), None);
    }
}
