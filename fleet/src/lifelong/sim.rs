//! The simulator and validator: holds the robots' states and the task pool, executes one
//! step of actions and refuses any illegal one. Task bookkeeping follows the LoRR start kit:
//! the schedule is applied first, then the robots move, then each robot standing on the next
//! errand of its task advances it (one errand per step), then new tasks are revealed.

use super::LifelongError;
use super::motion::{Action, AgentState, MotionModel, apply};
use super::problem::{Problem, TaskRules, TaskTerms};
use courier_core::GridMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const NONE: u32 = u32::MAX;

/// A revealed, unfinished task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolTask {
    pub id: usize,
    pub errands: Vec<u32>,
    /// Index of the next errand to visit; > 0 means the task is opened and stays with its robot.
    pub next: usize,
    pub agent: Option<usize>,
    /// Step at which the task was revealed.
    pub revealed: usize,
    /// Higher is more urgent; 0 is normal.
    pub priority: u32,
    /// Step by which the task should be finished.
    pub deadline: Option<usize>,
}

impl PoolTask {
    pub fn next_errand(&self) -> u32 {
        self.errands[self.next]
    }
    pub fn opened(&self) -> bool {
        self.next > 0
    }
}

/// What one step achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepOutcome {
    /// (robot, task id) of every task finished this step.
    pub finished: Vec<(usize, usize)>,
    /// Errands reached this step (including the last errand of finished tasks).
    pub errands: usize,
}

/// How long tasks take from reveal to finish, by priority, and how many of those with a
/// deadline are late. Tasks open at the time of the count are counted at their age so far:
/// tasks never chosen would otherwise drop out and make their class look fast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTimes {
    /// Tasks of priority 0 finished, and their steps summed.
    pub normal: usize,
    pub normal_steps: u64,
    /// Tasks of priority above 0 finished, and their steps summed.
    pub urgent: usize,
    pub urgent_steps: u64,
    /// Tasks of priority 0 / above 0 open, and their ages summed.
    pub normal_open: usize,
    pub normal_open_steps: u64,
    pub urgent_open: usize,
    pub urgent_open_steps: u64,
    /// Tasks with a deadline finished; of them, finished after it, and their steps late summed.
    pub due: usize,
    pub late: usize,
    pub late_steps: u64,
    /// Tasks open past their deadline, and their steps past it summed.
    pub overdue: usize,
    pub overdue_steps: u64,
}

impl TaskTimes {
    /// Mean steps from reveal to finish of the normal tasks, open ones at their age (0 with
    /// none).
    pub fn normal_mean(&self) -> f64 {
        mean(
            self.normal_steps + self.normal_open_steps,
            self.normal + self.normal_open,
        )
    }
    /// The same for tasks of priority above 0.
    pub fn urgent_mean(&self) -> f64 {
        mean(
            self.urgent_steps + self.urgent_open_steps,
            self.urgent + self.urgent_open,
        )
    }
    /// Mean steps late of the tasks finished after their deadline (0 with none).
    pub fn late_mean(&self) -> f64 {
        mean(self.late_steps, self.late)
    }
    /// Steps late summed over the tasks finished late and those open past their deadline.
    pub fn lateness(&self) -> u64 {
        self.late_steps + self.overdue_steps
    }
}

fn mean(sum: u64, n: usize) -> f64 {
    if n == 0 { 0.0 } else { sum as f64 / n as f64 }
}

/// Executes steps and keeps score.
#[derive(Debug, Clone)]
pub struct Simulator {
    map: GridMap,
    model: MotionModel,
    rules: TaskRules,
    tasks: Vec<Vec<u32>>,
    terms: Vec<TaskTerms>,
    states: Vec<AgentState>,
    step: usize,
    pool: BTreeMap<usize, PoolTask>,
    pool_size: usize,
    next_task_id: usize,
    assignment: Vec<Option<usize>>,
    /// Round robin (2023): how many tasks each robot has been given.
    rr_count: Vec<usize>,
    /// Cell → robot standing there now.
    occ: Vec<u32>,
    /// Scratch: cell → robot arriving there this step.
    next_occ: Vec<u32>,
    pub tasks_completed: usize,
    pub errands_completed: usize,
    times: TaskTimes,
}

impl Simulator {
    /// Starts `problem` under `model`; refuses starts off the map, on obstacles or shared, and
    /// tasks with no errands or errands on obstacles.
    pub fn new(problem: &Problem, model: MotionModel) -> Result<Self, LifelongError> {
        let map = problem.map.clone();
        let cells = map.width * map.height;
        let mut occ = vec![NONE; cells];
        for (i, &s) in problem.starts.iter().enumerate() {
            if (s as usize) >= cells || !map.passable[s as usize] {
                return Err(LifelongError::Invalid(format!(
                    "robot {i} starts at cell {s}, which is off the map or an obstacle"
                )));
            }
            if occ[s as usize] != NONE {
                return Err(LifelongError::Invalid(format!(
                    "robots {} and {i} share start cell {s}",
                    occ[s as usize]
                )));
            }
            occ[s as usize] = i as u32;
        }
        if problem.tasks.is_empty() {
            return Err(LifelongError::Invalid("the task list is empty".into()));
        }
        for (k, t) in problem.tasks.iter().enumerate() {
            if t.is_empty() {
                return Err(LifelongError::Invalid(format!("task {k} has no errands")));
            }
            if let Some(&e) = t
                .iter()
                .find(|&&e| (e as usize) >= cells || !map.passable[e as usize])
            {
                return Err(LifelongError::Invalid(format!(
                    "task {k} has errand {e}, off the map or an obstacle"
                )));
            }
        }
        if !problem.terms.is_empty() && problem.terms.len() != problem.tasks.len() {
            return Err(LifelongError::Invalid(format!(
                "{} task terms for {} tasks: give one per task or none",
                problem.terms.len(),
                problem.tasks.len()
            )));
        }
        let n = problem.starts.len();
        let pool_size = match problem.rules {
            TaskRules::Reveal { pool_per_agent } => ((pool_per_agent * n as f64) as usize).max(1),
            TaskRules::RoundRobin => n,
        };
        let mut sim = Self {
            map,
            model,
            rules: problem.rules,
            tasks: problem.tasks.clone(),
            terms: problem.terms.clone(),
            states: problem
                .starts
                .iter()
                .map(|&loc| AgentState { loc, dir: 0 })
                .collect(),
            step: 0,
            pool: BTreeMap::new(),
            pool_size,
            next_task_id: 0,
            assignment: vec![None; n],
            rr_count: vec![0; n],
            occ,
            next_occ: vec![NONE; cells],
            tasks_completed: 0,
            errands_completed: 0,
            times: TaskTimes::default(),
        };
        if sim.rules == TaskRules::RoundRobin {
            for k in 0..n {
                sim.give_round_robin(k);
            }
        } else {
            sim.reveal();
        }
        Ok(sim)
    }

    pub fn map(&self) -> &GridMap {
        &self.map
    }
    pub fn model(&self) -> MotionModel {
        self.model
    }
    pub fn rules(&self) -> TaskRules {
        self.rules
    }
    pub fn states(&self) -> &[AgentState] {
        &self.states
    }
    /// Steps executed so far.
    pub fn step_index(&self) -> usize {
        self.step
    }
    /// Revealed, unfinished tasks by id.
    pub fn pool(&self) -> &BTreeMap<usize, PoolTask> {
        &self.pool
    }
    /// The task each robot holds.
    pub fn assignment(&self) -> &[Option<usize>] {
        &self.assignment
    }
    /// The next errand of robot `agent`'s task, if it holds one.
    pub fn goal(&self, agent: usize) -> Option<u32> {
        self.assignment[agent]
            .and_then(|t| self.pool.get(&t))
            .map(PoolTask::next_errand)
    }

    /// Checks `schedule` (one task id or none per robot) against the rules without applying it.
    pub fn check_schedule(&self, schedule: &[Option<usize>]) -> Result<(), LifelongError> {
        let err = |agent, reason: String| LifelongError::IllegalSchedule {
            step: self.step,
            agent,
            reason,
        };
        if schedule.len() != self.states.len() {
            return Err(err(
                0,
                format!(
                    "schedule has {} entries for {} robots",
                    schedule.len(),
                    self.states.len()
                ),
            ));
        }
        if self.rules == TaskRules::RoundRobin {
            if schedule != self.assignment.as_slice() {
                return Err(err(0, "round-robin tasks cannot be reassigned".into()));
            }
            return Ok(());
        }
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        for (a, &t) in schedule.iter().enumerate() {
            if let Some(cur) = self.assignment[a]
                && self.pool.get(&cur).is_some_and(PoolTask::opened)
                && t != Some(cur)
            {
                return Err(err(a, format!("must keep its opened task {cur}")));
            }
            let Some(t) = t else { continue };
            let Some(task) = self.pool.get(&t) else {
                return Err(err(
                    a,
                    format!("task {t} is not revealed or already finished"),
                ));
            };
            if task.opened() && task.agent != Some(a) {
                return Err(err(
                    a,
                    format!("task {t} is opened by robot {:?}", task.agent),
                ));
            }
            if let Some(other) = taken.insert(t, a) {
                return Err(err(a, format!("task {t} is also given to robot {other}")));
            }
        }
        Ok(())
    }

    /// Checks `actions` (one per robot) against the motion model, the map and each other
    /// (vertex and edge conflicts) and returns the resulting states, without applying them.
    pub fn check_actions(&mut self, actions: &[Action]) -> Result<Vec<AgentState>, LifelongError> {
        let step = self.step;
        let err = |agent, reason: String| LifelongError::IllegalPlan {
            step,
            agent,
            reason,
        };
        if actions.len() != self.states.len() {
            return Err(err(
                0,
                format!("{} actions for {} robots", actions.len(), self.states.len()),
            ));
        }
        let mut next = Vec::with_capacity(actions.len());
        for (i, (&s, &a)) in self.states.iter().zip(actions).enumerate() {
            next.push(apply(&self.map, self.model, s, a).map_err(|r| err(i, r))?);
        }
        let mut result = Ok(());
        for (i, s) in next.iter().enumerate() {
            let c = s.loc as usize;
            if self.next_occ[c] != NONE {
                result = Err(err(
                    i,
                    format!(
                        "vertex conflict with robot {} at cell {c}",
                        self.next_occ[c]
                    ),
                ));
                break;
            }
            self.next_occ[c] = i as u32;
        }
        for s in &next {
            self.next_occ[s.loc as usize] = NONE;
        }
        result?;
        for (i, s) in next.iter().enumerate() {
            let from = self.states[i].loc;
            if s.loc == from {
                continue;
            }
            let j = self.occ[s.loc as usize];
            if j != NONE && next[j as usize].loc == from {
                return Err(err(
                    i,
                    format!(
                        "edge conflict: swaps cells {from} and {} with robot {j}",
                        s.loc
                    ),
                ));
            }
        }
        Ok(next)
    }

    /// Executes one step: applies `schedule` (ignored under round robin when empty), moves the
    /// robots by `actions`, advances tasks and reveals new ones. An illegal schedule or action
    /// set is refused with an error and changes nothing.
    pub fn step(
        &mut self,
        schedule: &[Option<usize>],
        actions: &[Action],
    ) -> Result<StepOutcome, LifelongError> {
        let round_robin = self.rules == TaskRules::RoundRobin;
        if !(round_robin && schedule.is_empty()) {
            self.check_schedule(schedule)?;
        }
        let next = self.check_actions(actions)?;
        if !round_robin {
            for t in self.assignment.iter().flatten() {
                if let Some(task) = self.pool.get_mut(t) {
                    task.agent = None;
                }
            }
            for (a, &t) in schedule.iter().enumerate() {
                self.assignment[a] = t;
                if let Some(task) = t.and_then(|t| self.pool.get_mut(&t)) {
                    task.agent = Some(a);
                }
            }
        }
        for old in &self.states {
            self.occ[old.loc as usize] = NONE;
        }
        for (i, new) in next.iter().enumerate() {
            self.occ[new.loc as usize] = i as u32;
        }
        self.states = next;
        self.step += 1;
        let mut out = StepOutcome::default();
        for a in 0..self.states.len() {
            let Some(t) = self.assignment[a] else {
                continue;
            };
            let Some(task) = self.pool.get_mut(&t) else {
                continue;
            };
            if self.states[a].loc != task.next_errand() {
                continue;
            }
            task.next += 1;
            out.errands += 1;
            if task.next == task.errands.len() {
                let took = (self.step - task.revealed) as u64;
                if task.priority > 0 {
                    self.times.urgent += 1;
                    self.times.urgent_steps += took;
                } else {
                    self.times.normal += 1;
                    self.times.normal_steps += took;
                }
                if let Some(d) = task.deadline {
                    self.times.due += 1;
                    if self.step > d {
                        self.times.late += 1;
                        self.times.late_steps += (self.step - d) as u64;
                    }
                }
                self.pool.remove(&t);
                self.assignment[a] = None;
                out.finished.push((a, t));
                if round_robin {
                    self.give_round_robin(a);
                }
            }
        }
        self.errands_completed += out.errands;
        self.tasks_completed += out.finished.len();
        if !round_robin {
            self.reveal();
        }
        Ok(out)
    }

    /// Task times so far: finished tasks, and the open ones at their age now.
    pub fn task_times(&self) -> TaskTimes {
        let mut t = self.times;
        for task in self.pool.values() {
            let age = (self.step - task.revealed) as u64;
            if task.priority > 0 {
                t.urgent_open += 1;
                t.urgent_open_steps += age;
            } else {
                t.normal_open += 1;
                t.normal_open_steps += age;
            }
            if let Some(d) = task.deadline.filter(|&d| self.step > d) {
                t.overdue += 1;
                t.overdue_steps += (self.step - d) as u64;
            }
        }
        t
    }

    /// Task `id`, the `k`-th of the list, revealed now (held by `agent`).
    fn new_task(&self, id: usize, k: usize, agent: Option<usize>) -> PoolTask {
        let terms = self.terms.get(k).copied().unwrap_or_default();
        PoolTask {
            id,
            errands: self.tasks[k].clone(),
            next: 0,
            agent,
            revealed: self.step,
            priority: terms.priority,
            deadline: terms.due_in.map(|d| self.step.saturating_add(d as usize)),
        }
    }

    fn reveal(&mut self) {
        while self.pool.len() < self.pool_size {
            let id = self.next_task_id;
            self.next_task_id += 1;
            let task = self.new_task(id, id % self.tasks.len(), None);
            self.pool.insert(id, task);
        }
    }

    fn give_round_robin(&mut self, k: usize) {
        let n = self.states.len();
        let idx = (self.rr_count[k] * n + k) % self.tasks.len();
        self.rr_count[k] += 1;
        let id = self.next_task_id;
        self.next_task_id += 1;
        let task = self.new_task(id, idx, Some(k));
        self.pool.insert(id, task);
        self.assignment[k] = Some(id);
    }
}
