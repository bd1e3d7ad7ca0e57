//! Task assignment: which robot does which task. Two solvers over the same costs:
//!
//! - [`optimal`]: minimum total cost with the most pairs possible (Hungarian algorithm,
//!   `pathfinding::kuhn_munkres`), for batches up to a few hundred robots;
//! - [`greedy`]: cheapest pair first over a sparse candidate list, `O(k log k)` for `k`
//!   candidates, for thousands of robots.
//!
//! [`cost`] folds a task's priority and deadline into the travel cost, so both solvers serve
//! prioritised, time-bound work, also when tasks outnumber robots and the solver picks which
//! to do.
//!
//! ```
//! use courier_fleet::assign;
//! // 2 robots × 3 tasks; robot 1 cannot do task 0.
//! let costs = [Some(4), Some(1), Some(3), None, Some(2), Some(2)];
//! let a = assign::optimal(2, 3, &costs).unwrap();
//! assert_eq!(a, vec![Some(1), Some(2)]);
//! ```

use crate::lifelong::LifelongError;
use pathfinding::kuhn_munkres::kuhn_munkres_min;
use pathfinding::matrix::Matrix;
use serde::{Deserialize, Serialize};

/// What a task asks of its assignment beyond travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Higher is more urgent (0 = normal).
    pub priority: u32,
    /// Step (or time unit) by which a robot should reach the task (its latest start).
    pub deadline: Option<u64>,
}

/// Weights of [`cost`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostParams {
    /// Cost removed per priority level, in travel steps (default 50: one level is worth a
    /// 50-step detour).
    pub priority_weight: i64,
    /// Cost per step of lateness (default 10): added per step the robot's travel takes it
    /// past the deadline, and credited per step the deadline is nearer than
    /// `urgency_steps` (or past).
    pub lateness_weight: i64,
    /// A task becomes urgent this many steps before its deadline (default 50).
    pub urgency_steps: i64,
}

impl Default for CostParams {
    fn default() -> Self {
        Self {
            priority_weight: 50,
            lateness_weight: 10,
            urgency_steps: 50,
        }
    }
}

/// Assignment cost of a robot `travel` steps away from `task` at time `now`: travel, less
/// [`credit`], plus `lateness_weight` per step the travel ends past the deadline.
///
/// Why a credit and not only a lateness charge: where tasks outnumber robots the solver
/// also picks which tasks wait, and a charge alone would make a late task the one to
/// leave. With the credit, a task past its deadline costs `travel × (1 + lateness_weight)`
/// less a constant, however late it is: it goes first, to the nearest robot.
pub fn cost(travel: u64, task: &TaskInfo, now: u64, p: &CostParams) -> i64 {
    let travel = travel.min(i64::MAX as u64 / 4) as i64;
    let late = slack(task, now).map_or(0, |s| (travel - s).max(0));
    travel
        .saturating_sub(credit(task, now, p))
        .saturating_add(p.lateness_weight.saturating_mul(late))
}

/// What `task`'s terms take off any robot's travel at time `now`: `priority_weight` per
/// priority level, and `lateness_weight` per step its deadline is nearer than
/// `urgency_steps` (or past). [`cost`] is never below `travel − credit`, a bound the greedy
/// solvers rely on.
pub fn credit(task: &TaskInfo, now: u64, p: &CostParams) -> i64 {
    let urgency = slack(task, now).map_or(0, |s| p.urgency_steps.saturating_sub(s).max(0));
    p.priority_weight
        .saturating_mul(task.priority as i64)
        .saturating_add(p.lateness_weight.saturating_mul(urgency))
}

/// Steps from `now` to the deadline (negative past it).
fn slack(task: &TaskInfo, now: u64) -> Option<i64> {
    const CAP: u64 = i64::MAX as u64 / 4;
    task.deadline
        .map(|d| d.min(CAP) as i64 - now.min(CAP) as i64)
}

/// Optimal assignment of `rows` robots to `cols` tasks given row-major `costs` (`None`: the
/// pair is forbidden). Maximises the number of pairs, then minimises their total cost.
/// Returns the task of each robot.
pub fn optimal(
    rows: usize,
    cols: usize,
    costs: &[Option<i64>],
) -> Result<Vec<Option<usize>>, LifelongError> {
    if costs.len() != rows * cols {
        return Err(LifelongError::Invalid(format!(
            "cost matrix has {} entries, expected {rows} × {cols}",
            costs.len()
        )));
    }
    if rows == 0 || cols == 0 {
        return Ok(vec![None; rows]);
    }
    let finite = costs.iter().flatten();
    let min = finite.clone().copied().min().unwrap_or(0);
    let span = finite.map(|&c| c - min).max().unwrap_or(0);
    let k = rows.min(cols) as i64;
    // A forbidden pair costs more than any whole matching of allowed pairs, so the solver
    // uses as few as possible; they are dropped afterwards.
    let big = span
        .checked_mul(k)
        .and_then(|v| v.checked_add(1))
        .filter(|&b| b.checked_mul(k).is_some())
        .ok_or_else(|| LifelongError::Invalid("assignment costs too large".into()))?;
    let shifted = |r: usize, c: usize| costs[r * cols + c].map_or(big, |v| v - min);
    let transpose = rows > cols;
    let (nr, nc) = if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let data: Vec<i64> = (0..nr)
        .flat_map(|r| {
            (0..nc).map(move |c| {
                if transpose {
                    shifted(c, r)
                } else {
                    shifted(r, c)
                }
            })
        })
        .collect();
    let m = Matrix::from_vec(nr, nc, data)
        .map_err(|e| LifelongError::Invalid(format!("cost matrix: {e:?}")))?;
    let (_, sol) = kuhn_munkres_min(&m);
    let mut out = vec![None; rows];
    for (r, &c) in sol.iter().enumerate() {
        let (robot, task) = if transpose { (c, r) } else { (r, c) };
        if costs[robot * cols + task].is_some() {
            out[robot] = Some(task);
        }
    }
    Ok(out)
}

/// Greedy assignment: takes candidate pairs `(cost, robot, task)` cheapest first (ties by
/// robot, then task) and keeps each whose robot and task are both still free. Returns the
/// task of each of `rows` robots.
pub fn greedy(
    rows: usize,
    cols: usize,
    candidates: &mut [(i64, usize, usize)],
) -> Vec<Option<usize>> {
    candidates.sort_unstable();
    let mut out = vec![None; rows];
    let mut taken = vec![false; cols];
    for &(_, r, c) in candidates.iter() {
        if r < rows && c < cols && out[r].is_none() && !taken[c] {
            out[r] = Some(c);
            taken[c] = true;
        }
    }
    out
}

/// Total cost of an assignment (robot → task) under row-major `costs`; `None` if it uses a
/// forbidden pair or gives a task twice.
pub fn total_cost(cols: usize, costs: &[Option<i64>], a: &[Option<usize>]) -> Option<i64> {
    let mut seen = vec![false; cols];
    let mut sum = 0;
    for (r, &t) in a.iter().enumerate() {
        let Some(t) = t else { continue };
        if t >= cols || seen[t] {
            return None;
        }
        seen[t] = true;
        sum += costs[r * cols + t]?;
    }
    Some(sum)
}
