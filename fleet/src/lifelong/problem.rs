//! A lifelong problem: a map, robot starts, and the task stream with the rules that reveal it.

use super::LifelongError;
use courier_core::GridMap;
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// How tasks reach robots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskRules {
    /// LoRR 2024: `pool_per_agent × agents` tasks are revealed at a time (new ones as others
    /// finish, taken cyclically from the task list); the planner's scheduler picks which robot
    /// does which task. A task that reached its first errand ("opened") stays with its robot.
    Reveal { pool_per_agent: f64 },
    /// LoRR 2023 `roundrobin`: robot `k`'s `j`-th task is task `(j × agents + k) mod m`, one
    /// at a time; the score counts errands.
    RoundRobin,
}

/// What a task asks beyond its errands. LoRR tasks ask nothing (priority 0, no deadline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskTerms {
    /// Higher is more urgent; 0 is normal. The scheduler credits each level
    /// ([`crate::assign::CostParams::priority_weight`], 50 steps of travel).
    pub priority: u32,
    /// The task should be finished within this many steps of being revealed.
    pub due_in: Option<u64>,
}

/// A lifelong instance.
#[derive(Debug, Clone)]
pub struct Problem {
    pub name: String,
    pub map: GridMap,
    /// Start cell (`row * width + col`) of each robot; all start facing east (orientation 0),
    /// as in the LoRR start kit.
    pub starts: Vec<u32>,
    /// The task list: each task is a sequence of errand cells to visit in order.
    pub tasks: Vec<Vec<u32>>,
    /// The terms of each task, by index in `tasks`; empty: every task has the default terms.
    pub terms: Vec<TaskTerms>,
    pub rules: TaskRules,
    /// The instance's number of steps, where the instance says it.
    pub steps: Option<usize>,
}

impl Problem {
    /// A seeded problem on `map`: `agents` robots on distinct random cells and a stream of
    /// two-errand tasks with uniform random errands, all inside the largest connected region
    /// of the map (so every task is reachable), under the LoRR 2024 reveal rule.
    pub fn generate(
        name: &str,
        map: GridMap,
        agents: usize,
        seed: u64,
    ) -> Result<Self, LifelongError> {
        if agents == 0 {
            return Err(LifelongError::Invalid(
                "a fleet needs at least one robot (0 given)".into(),
            ));
        }
        let region = largest_region(&map);
        if agents > region.len() {
            return Err(LifelongError::Invalid(format!(
                "{agents} robots do not fit: the largest connected region of the map has {} cells",
                region.len()
            )));
        }
        if region.len() < 2 {
            return Err(LifelongError::Invalid(
                "the map needs at least two connected free cells".into(),
            ));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cells = region.clone();
        cells.shuffle(&mut rng);
        let starts = cells[..agents].to_vec();
        let n_tasks = (agents * 8).max(100);
        let tasks = (0..n_tasks)
            .map(|_| {
                let a = region[rng.random_range(0..region.len())];
                let mut b = a;
                while b == a {
                    b = region[rng.random_range(0..region.len())];
                }
                vec![a, b]
            })
            .collect();
        Ok(Self {
            name: name.to_string(),
            map,
            starts,
            tasks,
            terms: Vec::new(),
            rules: TaskRules::Reveal {
                pool_per_agent: 1.5,
            },
            steps: None,
        })
    }

    /// Draws seeded terms for the task list: each task gets priority 1 with probability
    /// `priority_share` and, independently, a deadline `due_steps` after its reveal with
    /// probability `due_share`. Refuses shares outside [0, 1] and a zero `due_steps` with a
    /// positive `due_share`.
    pub fn draw_terms(
        &mut self,
        priority_share: f64,
        due_share: f64,
        due_steps: u64,
        seed: u64,
    ) -> Result<(), LifelongError> {
        for (name, share) in [("priority", priority_share), ("deadline", due_share)] {
            if !(0.0..=1.0).contains(&share) {
                return Err(LifelongError::Invalid(format!(
                    "the share of tasks with a {name} must be in [0, 1] ({share} given)"
                )));
            }
        }
        if due_share > 0.0 && due_steps == 0 {
            return Err(LifelongError::Invalid(
                "tasks with a deadline need at least one step to be done in (0 given)".into(),
            ));
        }
        // A stream of its own, so that the tasks and starts stay those of `generate`.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x7465_726d_7300);
        self.terms = (0..self.tasks.len())
            .map(|_| TaskTerms {
                priority: u32::from(rng.random_bool(priority_share)),
                due_in: rng.random_bool(due_share).then_some(due_steps),
            })
            .collect();
        Ok(())
    }
}

/// The cells of the largest 4-connected region of passable cells, in index order.
pub(crate) fn largest_region(map: &GridMap) -> Vec<u32> {
    let n = map.width * map.height;
    let mut label = vec![u32::MAX; n];
    let (mut best, mut best_size, mut next) = (u32::MAX, 0usize, 0u32);
    let mut queue = VecDeque::new();
    for s in 0..n {
        if !map.passable[s] || label[s] != u32::MAX {
            continue;
        }
        label[s] = next;
        queue.push_back(s);
        let mut size = 0;
        while let Some(c) = queue.pop_front() {
            size += 1;
            for nb in map.neighbors4(c) {
                if label[nb] == u32::MAX {
                    label[nb] = next;
                    queue.push_back(nb);
                }
            }
        }
        if size > best_size {
            (best, best_size) = (next, size);
        }
        next += 1;
    }
    (0..n as u32)
        .filter(|&c| label[c as usize] == best)
        .collect()
}
