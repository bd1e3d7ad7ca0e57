//! What a simulation run measured, written as JSON.

use serde::{Deserialize, Serialize};

/// Metrics of one run. Everything derived from simulated time is deterministic for a given
/// scenario and seed; the wall-clock fields (`wall_s`, `real_time_factor`, `planning_ms_*`) are not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub scenario: String,
    pub seed: u64,
    pub agents: usize,
    pub sim_time_s: f64,
    pub tasks_completed: usize,
    pub throughput_per_hour: f64,
    /// From a task's release to its drop-off.
    pub mean_task_latency_s: f64,
    pub collisions: usize,
    pub near_misses: usize,
    /// Distance between where each robot believes it is and where it is, over all robots and ticks.
    pub localization_error_mean_m: f64,
    pub localization_error_max_m: f64,
    /// Fleet coordination (assignment + MAPF) wall time per coordination step.
    pub planning_ms_mean: f64,
    pub planning_ms_p99: f64,
    pub planning_ms_max: f64,
    pub distance_driven_m: f64,
    pub wall_s: f64,
    /// Simulated seconds per wall-clock second.
    pub real_time_factor: f64,
}

impl Metrics {
    /// The fields that must be identical between two runs of the same scenario and seed.
    pub fn deterministic_part(&self) -> Metrics {
        Metrics {
            planning_ms_mean: 0.0,
            planning_ms_p99: 0.0,
            planning_ms_max: 0.0,
            wall_s: 0.0,
            real_time_factor: 0.0,
            ..self.clone()
        }
    }
}

/// Mean, p99 and max of a sample (zeros when empty).
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let p99 = v[((v.len() as f64 * 0.99).ceil() as usize).clamp(1, v.len()) - 1];
    (mean, p99, v[v.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        assert_eq!(summary(&[]), (0.0, 0.0, 0.0));
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(summary(&v), (50.5, 99.0, 100.0));
    }
}
