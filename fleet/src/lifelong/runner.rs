//! The lifelong loop: every step the scheduler assigns tasks, the planner picks actions within
//! the step budget, and the simulator validates and executes them. A refused plan is replaced
//! by all-wait (always legal) and counted.

use super::LifelongError;
use super::motion::{Action, MotionModel};
use super::pibt::{Planner, PlannerParams};
use super::problem::{Problem, TaskRules};
use super::scheduler::{Scheduler, SchedulerParams};
use super::sim::{Simulator, TaskTimes};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Parameters of a lifelong run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifelongParams {
    /// Motion model (default: LoRR rotation).
    pub motion: MotionModel,
    /// Per-step planning budget in milliseconds (default 1000, LoRR's); `None`: no time limit,
    /// so runs are reproducible bit for bit (bound work with
    /// `planner.max_new_tables_per_step` instead).
    pub step_time_ms: Option<u64>,
    pub planner: PlannerParams,
    pub scheduler: SchedulerParams,
}

impl Default for LifelongParams {
    fn default() -> Self {
        Self {
            motion: MotionModel::Rotation,
            step_time_ms: Some(1000),
            planner: PlannerParams::default(),
            scheduler: SchedulerParams::default(),
        }
    }
}

/// Mean, 99th percentile and maximum of a series, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let idx = ((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1;
        Self {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p99: v[idx],
            max: v[v.len() - 1],
        }
    }
}

/// Per-step measurements, passed to the progress callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    pub step: usize,
    /// Scheduling + planning wall time, ms.
    pub plan_wall_ms: f64,
    /// Scheduling + planning CPU time of the planning thread, ms.
    pub plan_cpu_ms: f64,
    pub tasks_completed: usize,
}

/// Outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub name: String,
    pub agents: usize,
    pub steps: usize,
    pub motion: String,
    /// The planner used (see [`Planner::kind`]).
    #[serde(default)]
    pub planner: String,
    /// Whole tasks completed (the LoRR 2024 score).
    pub tasks_completed: usize,
    /// Errands reached (the LoRR 2023 score, where each task is one errand).
    pub errands_completed: usize,
    pub plan_wall_ms: Summary,
    pub plan_cpu_ms: Summary,
    /// Steps whose planning exceeded the budget.
    pub over_budget_steps: usize,
    /// Steps where the simulator refused the plan and all robots waited instead.
    pub refused_plans: usize,
    /// Steps validated by the simulator (all of them).
    pub validated_steps: usize,
    /// Distance tables computed.
    pub tables_computed: u64,
    /// Extra cost of a step against its one-way lane (0: no lanes on this map).
    pub lane_penalty: u16,
    /// Largest number of robots planning with Manhattan distance in one step (no table).
    pub max_manhattan_robots: usize,
    /// Times the jam guard lowered the working-robot cap by 5 %
    /// ([`SchedulerParams::jam_wait_share`]).
    #[serde(default)]
    pub jam_cuts: u32,
    /// Steps from reveal to finish by priority, and deadlines met, at the end of the run.
    #[serde(default)]
    pub task_times: TaskTimes,
    pub total_wall_s: f64,
}

/// Runs `problem` for `steps` steps; `on_step` sees each step's stats and the simulator.
pub fn run(
    problem: &Problem,
    steps: usize,
    params: &LifelongParams,
    mut on_step: impl FnMut(&StepStats, &Simulator) + Send,
) -> Result<Metrics, LifelongError> {
    // PIBT recurses along chains of pushed robots, which can be thousands long on big
    // instances: run on a thread with a large stack.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("lifelong".into())
            .stack_size(512 << 20)
            .spawn_scoped(s, || run_inner(problem, steps, params, &mut on_step))
            .map_err(|e| LifelongError::Invalid(format!("cannot start planner thread: {e}")))?
            .join()
            .map_err(|_| LifelongError::Invalid("planner thread panicked".into()))?
    })
}

fn run_inner(
    problem: &Problem,
    steps: usize,
    params: &LifelongParams,
    on_step: &mut (impl FnMut(&StepStats, &Simulator) + Send),
) -> Result<Metrics, LifelongError> {
    let t0 = Instant::now();
    let mut sim = Simulator::new(problem, params.motion)?;
    let n = problem.starts.len();
    let mut planner = Planner::new(&problem.map, params.motion, n, params.planner.clone())?;
    let mut scheduler = Scheduler::new(params.scheduler.clone());
    let budget = params.step_time_ms.map(Duration::from_millis);
    let round_robin = problem.rules == TaskRules::RoundRobin;
    let mut m = Metrics {
        name: problem.name.clone(),
        agents: n,
        motion: format!("{:?}", params.motion),
        planner: planner.kind(),
        ..Default::default()
    };
    let (mut wall, mut cpu) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for step in 0..steps {
        let start = Instant::now();
        let cpu0 = cpu_time::ThreadTime::try_now().ok();
        let schedule = if round_robin {
            sim.assignment().to_vec()
        } else {
            let table_deadline = budget.map(|b| start + b.mul_f64(0.3));
            let deadline = budget.map(|b| start + b.mul_f64(0.5));
            scheduler.schedule(&sim, &mut planner, table_deadline, deadline)
        };
        let goals: Vec<Option<u32>> = schedule
            .iter()
            .map(|t| t.and_then(|t| sim.pool().get(&t)).map(|t| t.next_errand()))
            .collect();
        let actions = planner.plan(sim.states(), &goals, start, budget);
        if !round_robin {
            scheduler.observe(&sim, &planner, &goals, &actions);
        }
        let w = start.elapsed().as_secs_f64() * 1e3;
        let c = cpu0.map_or(w, |c| c.elapsed().as_secs_f64() * 1e3);
        wall.push(w);
        cpu.push(c);
        if budget.is_some_and(|b| start.elapsed() > b) {
            m.over_budget_steps += 1;
        }
        m.max_manhattan_robots = m.max_manhattan_robots.max(planner.fallbacks);
        match sim.step(&schedule, &actions) {
            Ok(_) => {}
            Err(LifelongError::IllegalPlan { .. }) => {
                m.refused_plans += 1;
                sim.step(&schedule, &vec![Action::Wait; n])?;
            }
            Err(e) => return Err(e),
        }
        m.validated_steps += 1;
        m.steps = step + 1;
        on_step(
            &StepStats {
                step,
                plan_wall_ms: w,
                plan_cpu_ms: c,
                tasks_completed: sim.tasks_completed,
            },
            &sim,
        );
    }
    m.tasks_completed = sim.tasks_completed;
    m.errands_completed = sim.errands_completed;
    m.plan_wall_ms = Summary::of(&wall);
    m.plan_cpu_ms = Summary::of(&cpu);
    m.tables_computed = planner.cache.computed;
    m.jam_cuts = scheduler.jam_cuts();
    m.task_times = sim.task_times();
    m.lane_penalty = planner.cache.lane_penalty();
    m.total_wall_s = t0.elapsed().as_secs_f64();
    Ok(m)
}
