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
    /// What only a delivery run measures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryMetrics>,
}

/// Delivery-run measurements. `tasks_completed` counts delivered parcels, `mean_task_latency_s`
/// runs from a parcel's release to its hand-over, `localization_error_*` compares each
/// vehicle's ESKF estimate with the truth at 10 Hz, and `planning_ms_*` is the wall time of the
/// control stage (obstacle points from perception + Regulated Pure Pursuit) per vehicle tick.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeliveryMetrics {
    pub parcels_released: usize,
    pub parcels_delivered: usize,
    pub pedestrians: usize,
    /// (LiDAR sweep, pedestrian) pairs with the pedestrian within 20 m and in line of sight.
    pub pedestrian_observations: usize,
    /// Of those, the pairs where perception reported an obstacle within 1 m of the pedestrian.
    pub pedestrians_detected: usize,
    pub pedestrian_detection_rate: f64,
    /// GNSS fixes the vehicles' filters fused and rejected by their innovation gate (a spoofed
    /// jump should be rejected).
    pub gnss_fixes_accepted: usize,
    pub gnss_fixes_rejected: usize,
    /// Largest localization error during a scheduled GNSS outage (m).
    pub localization_error_in_outage_max_m: f64,
    /// Vehicles that had not moved in the last 60 s of the run (stuck or parked idle).
    pub vehicles_stopped_last_60s: usize,
    /// Mean thread CPU time per vehicle and 0.1 s tick, by stage (ms). Not deterministic.
    pub cpu_ms_per_vehicle_tick: StageMs,
    /// Dispatcher (assignment + tour ordering + routing) CPU time over the run (ms).
    pub dispatch_cpu_ms: f64,
    /// CPU time of the whole process (all threads, s) and simulated seconds per CPU second.
    pub process_cpu_s: f64,
    pub real_time_factor_cpu: f64,
}

/// Time per stage (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageMs {
    pub lidar: f64,
    pub perception: f64,
    pub control: f64,
    pub localization: f64,
}

/// CPU time of the calling thread (s), from /proc/thread-self/schedstat (NaN where missing).
pub fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

/// What a run accumulates along the way, from which both worlds derive their summary figures
/// the same way.
#[derive(Debug)]
pub struct RunTotals<'a> {
    pub sim_time_s: f64,
    /// Release-to-completion time of each completed task (s).
    pub latencies: &'a [f64],
    /// Sum and count of the localization-error samples.
    pub loc_error_sum: f64,
    pub loc_error_samples: usize,
    /// Planning (or control) time per step (ms).
    pub planning_ms: &'a [f64],
    pub wall_s: f64,
}

impl Metrics {
    /// Fills the summary figures from the run's totals (`tasks_completed` must be set).
    pub fn summarize(&mut self, t: &RunTotals) {
        self.sim_time_s = t.sim_time_s;
        self.throughput_per_hour = self.tasks_completed as f64 * 3600.0 / t.sim_time_s.max(1e-9);
        self.mean_task_latency_s = mean(t.latencies);
        self.localization_error_mean_m = if t.loc_error_samples == 0 {
            0.0
        } else {
            t.loc_error_sum / t.loc_error_samples as f64
        };
        (
            self.planning_ms_mean,
            self.planning_ms_p99,
            self.planning_ms_max,
        ) = summary(t.planning_ms);
        self.wall_s = t.wall_s;
        self.real_time_factor = t.sim_time_s / t.wall_s.max(1e-9);
    }

    /// The fields that must be identical between two runs of the same scenario and seed.
    pub fn deterministic_part(&self) -> Metrics {
        Metrics {
            planning_ms_mean: 0.0,
            planning_ms_p99: 0.0,
            planning_ms_max: 0.0,
            wall_s: 0.0,
            real_time_factor: 0.0,
            delivery: self.delivery.as_ref().map(|d| DeliveryMetrics {
                cpu_ms_per_vehicle_tick: StageMs::default(),
                dispatch_cpu_ms: 0.0,
                process_cpu_s: 0.0,
                real_time_factor_cpu: 0.0,
                ..d.clone()
            }),
            ..self.clone()
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
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
