//! The warehouse simulation loop. The fleet crate's lifelong coordinator (task scheduling and
//! PIBT planning, validated step by step by its simulator) runs at the coordination rate; between
//! two coordination steps every AGV drives toward its commanded cell with its own kinematics at
//! the kinematics rate, and parry checks every body for contacts. Each robot believes the pose
//! its wheel odometry integrates, corrected by floor fiducials at cell centres; the metrics
//! compare that belief with the truth.

use crate::agv::{AgvParams, AgvState};
use crate::collision::CollisionChecker;
use crate::error::{Result, SimError};
use crate::metrics::{Metrics, RunTotals};
use crate::record::{Recorder, RobotActivity};
use crate::scenario::{Scenario, WarehouseScenario};
use crate::sensors::noise::Noise;
use crate::warehouse::WarehouseWorld;
use courier_fleet::lifelong::{self, LifelongParams, PlannerParams, Problem, Simulator, TaskRules};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// A gap below this between two bodies counts as a near miss (m).
pub const NEAR_MISS_M: f64 = 0.10;

/// Builds the warehouse of a scenario.
pub fn build_world(w: &WarehouseScenario) -> Result<WarehouseWorld> {
    match &w.map {
        Some(path) => WarehouseWorld::from_map(path, w.cell_size_m),
        None => WarehouseWorld::generate(&w.layout, w.cell_size_m),
    }
}

/// The lifelong problem of a warehouse: robots start on distinct random free cells; each task
/// is a tote to fetch from a random rack face and bring to a random pick station.
pub fn build_problem(
    world: &WarehouseWorld,
    w: &WarehouseScenario,
    seed: u64,
    steps: usize,
) -> Result<Problem> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut free: Vec<u32> = (0..world.grid.passable.len() as u32)
        .filter(|&c| world.grid.passable[c as usize])
        .collect();
    if w.agents > free.len() / 2 {
        return Err(SimError::Invalid(format!(
            "{} AGVs do not fit in a warehouse with {} free cells (at most half may be taken)",
            w.agents,
            free.len()
        )));
    }
    free.shuffle(&mut rng);
    let starts = free[..w.agents].to_vec();
    let n_tasks = (w.agents * 8).max(64);
    let tasks = (0..n_tasks)
        .map(|_| {
            let p = world.pickups[rng.random_range(0..world.pickups.len())];
            let d = world.stations[rng.random_range(0..world.stations.len())];
            vec![p, d]
        })
        .collect();
    Ok(Problem {
        name: "warehouse".into(),
        map: world.grid.clone(),
        starts,
        tasks,
        terms: Vec::new(),
        rules: TaskRules::Reveal {
            pool_per_agent: w.open_tasks_per_agent,
        },
        steps: Some(steps),
    })
}

/// What a robot believes about its position: odometry dead reckoning, reset by fiducials.
#[derive(Debug, Clone, Copy)]
struct Belief {
    pos: [f64; 2],
}

impl Belief {
    fn update(
        &mut self,
        truth: &AgvState,
        moved: [f64; 2],
        world: &WarehouseWorld,
        p: &AgvParams,
        noise: &mut Noise,
    ) {
        let d = moved[0].hypot(moved[1]);
        let scale = 1.0
            + p.odom_noise_per_m * noise.normal() * d.sqrt().max(if d > 0.0 { 1e-3 } else { 0.0 });
        self.pos = [
            self.pos[0] + moved[0] * scale,
            self.pos[1] + moved[1] * scale,
        ];
        // A downward camera reads the fiducial when the robot passes close over a cell centre.
        if let Some((x, y)) = world.cell_at(truth.pos) {
            let c = world.cell_center((y as usize * world.grid.width + x as usize) as u32);
            if (truth.pos[0] - c[0]).hypot(truth.pos[1] - c[1]) < 0.05 {
                self.pos = [
                    truth.pos[0] + p.fiducial_noise_m * noise.normal(),
                    truth.pos[1] + p.fiducial_noise_m * noise.normal(),
                ];
            }
        }
    }
}

/// Runs a warehouse scenario. `record`: write a Rerun recording there. `progress` is called
/// after every coordination step with the simulated time.
pub fn run(
    scenario: &Scenario,
    record: Option<&Path>,
    mut progress: impl FnMut(f64) + Send,
) -> Result<Metrics> {
    let w = scenario
        .warehouse
        .as_ref()
        .ok_or_else(|| SimError::Invalid("not a warehouse scenario".into()))?;
    let wall0 = Instant::now();
    let world = build_world(w)?;
    let steps = (scenario.duration_s * w.coordination_hz).round() as usize;
    let problem = build_problem(&world, w, scenario.seed, steps)?;
    let substeps = (w.kinematics_hz / w.coordination_hz).round() as usize;
    let dt = 1.0 / w.kinematics_hz;
    let recorder = record.map(Recorder::create).transpose()?;
    if let Some(r) = &recorder {
        r.log_world(&world)?;
    }
    let record_every = substeps
        .div_ceil((scenario.record_hz / w.coordination_hz).round().max(1.0) as usize)
        .max(1);

    let mut robots: Vec<AgvState> = problem
        .starts
        .iter()
        .map(|&c| AgvState::at(world.cell_center(c)))
        .collect();
    let mut beliefs: Vec<Belief> = robots.iter().map(|r| Belief { pos: r.pos }).collect();
    let mut noise = Noise::new(scenario.seed ^ 0x005E_ED0F_5111);
    let mut checker = CollisionChecker::new(&world, w.agv.radius_m, NEAR_MISS_M);
    let mut m = Metrics {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        agents: w.agents,
        ..Default::default()
    };
    let (mut err_sum, mut err_n) = (0.0, 0usize);
    let mut revealed_at: HashMap<usize, usize> = HashMap::new();
    let mut latencies = Vec::new();
    let mut plan_ms = Vec::new();
    let mut failure: Option<SimError> = None;

    let params = LifelongParams {
        // No wall-clock budget: the same scenario and seed must give the same run.
        step_time_ms: None,
        // One-step PIBT: the LoRR defaults (windowed LNS, EPIBT) search for up to 2000
        // neighbourhoods or 100,000 operations a step, which takes the 500-robot hour past
        // its one-minute goal.
        planner: PlannerParams::one_step(),
        ..LifelongParams::default()
    };
    let fleet = lifelong::run(&problem, steps, &params, |stats, sim: &Simulator| {
        if failure.is_some() {
            return;
        }
        plan_ms.push(stats.plan_wall_ms);
        let step = stats.step + 1;
        // Task latency: a task that left the pool was finished at this step.
        for id in sim.pool().keys() {
            revealed_at.entry(*id).or_insert(stats.step);
        }
        revealed_at.retain(|id, at| {
            if sim.pool().contains_key(id) {
                true
            } else {
                latencies.push((step - *at) as f64 / w.coordination_hz);
                false
            }
        });
        let targets: Vec<[f64; 2]> = sim
            .states()
            .iter()
            .map(|s| world.cell_center(s.loc))
            .collect();
        for k in 0..substeps {
            for (i, r) in robots.iter_mut().enumerate() {
                let before = r.pos;
                m.distance_driven_m += r.step_toward(targets[i], &w.agv, dt);
                let moved = [r.pos[0] - before[0], r.pos[1] - before[1]];
                beliefs[i].update(r, moved, &world, &w.agv, &mut noise);
                let e = (beliefs[i].pos[0] - r.pos[0]).hypot(beliefs[i].pos[1] - r.pos[1]);
                err_sum += e;
                err_n += 1;
                m.localization_error_max_m = m.localization_error_max_m.max(e);
            }
            let ev = checker.check(&world, &robots);
            m.collisions += ev.collisions;
            m.near_misses += ev.near_misses;
            if let Some(rec) = &recorder
                && (k + 1) % record_every == 0
            {
                let t = stats.step as f64 / w.coordination_hz + (k + 1) as f64 * dt;
                if let Err(e) = log_frame(rec, t, &robots, &world, w.agv.radius_m, sim) {
                    failure = Some(e);
                    return;
                }
            }
        }
        progress(step as f64 / w.coordination_hz);
    })
    .map_err(|e| SimError::Fleet(e.to_string()))?;
    if let Some(e) = failure {
        return Err(e);
    }
    if let Some(r) = recorder {
        r.finish()?;
    }
    m.tasks_completed = fleet.tasks_completed;
    m.summarize(&RunTotals {
        sim_time_s: steps as f64 / w.coordination_hz,
        latencies: &latencies,
        loc_error_sum: err_sum,
        loc_error_samples: err_n,
        planning_ms: &plan_ms,
        wall_s: wall0.elapsed().as_secs_f64(),
    });
    Ok(m)
}

fn log_frame(
    rec: &Recorder,
    t: f64,
    robots: &[AgvState],
    world: &WarehouseWorld,
    radius: f64,
    sim: &Simulator,
) -> Result<()> {
    let poses: Vec<([f64; 2], f64)> = robots.iter().map(|r| (r.pos, r.heading)).collect();
    let activity: Vec<RobotActivity> = (0..robots.len())
        .map(
            |a| match sim.assignment()[a].and_then(|t| sim.pool().get(&t)) {
                None => RobotActivity::Idle,
                Some(task) if task.opened() => RobotActivity::ToDropoff,
                Some(_) => RobotActivity::ToPickup,
            },
        )
        .collect();
    let paths: Vec<Vec<[f64; 2]>> = (0..robots.len())
        .filter_map(|a| {
            sim.goal(a)
                .map(|g| vec![robots[a].pos, world.cell_center(g)])
        })
        .collect();
    let open: Vec<[f64; 2]> = sim
        .pool()
        .values()
        .filter(|t| t.agent.is_none())
        .map(|t| world.cell_center(t.next_errand()))
        .collect();
    rec.log_frame(t, &poses, radius, &activity, &paths, &open)
}
