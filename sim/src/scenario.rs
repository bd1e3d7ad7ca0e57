//! Scenario files: TOML descriptions of a world, a fleet and a task stream. The bundled ones live
//! in `sim/scenarios/` and are compiled into the binary, so `courier sim --scenario NAME` works
//! from anywhere.

use crate::error::{Result, SimError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The scenarios that ship with Courier: (name, TOML text).
pub const BUNDLED: &[(&str, &str)] = &[
    ("warehouse", include_str!("../scenarios/warehouse.toml")),
    (
        "warehouse-500",
        include_str!("../scenarios/warehouse-500.toml"),
    ),
    ("delivery", include_str!("../scenarios/delivery.toml")),
    (
        "delivery-small",
        include_str!("../scenarios/delivery-small.toml"),
    ),
];

/// A whole simulation description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    /// Seed of every random choice; same scenario + seed = same run, bit for bit.
    #[serde(default)]
    pub seed: u64,
    /// Simulated time in seconds.
    pub duration_s: f64,
    /// Frames per simulated second in the Rerun recording.
    #[serde(default = "defaults::record_hz")]
    pub record_hz: f64,
    pub warehouse: Option<WarehouseScenario>,
    /// Delivery vehicles in a generated city district.
    pub delivery: Option<crate::delivery::DeliveryScenario>,
}

/// A warehouse with AGVs carrying totes from storage to pick stations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseScenario {
    /// Number of AGVs.
    pub agents: usize,
    /// The floor: a MovingAI map (relative to the scenario file) or a generated layout.
    #[serde(default)]
    pub map: Option<PathBuf>,
    #[serde(default)]
    pub layout: crate::warehouse::LayoutParams,
    /// Edge length of one grid cell in metres.
    #[serde(default = "defaults::cell_size")]
    pub cell_size_m: f64,
    /// Fleet coordination rate (one MAPF step per period).
    #[serde(default = "defaults::coordination_hz")]
    pub coordination_hz: f64,
    /// Vehicle kinematics and collision checking rate.
    #[serde(default = "defaults::kinematics_hz")]
    pub kinematics_hz: f64,
    #[serde(default)]
    pub agv: crate::agv::AgvParams,
    /// Open (revealed, unfinished) tasks kept in the queue, per agent.
    #[serde(default = "defaults::tasks_per_agent")]
    pub open_tasks_per_agent: f64,
}

mod defaults {
    pub fn record_hz() -> f64 {
        5.0
    }
    pub fn cell_size() -> f64 {
        1.0
    }
    pub fn coordination_hz() -> f64 {
        1.0
    }
    pub fn kinematics_hz() -> f64 {
        10.0
    }
    pub fn tasks_per_agent() -> f64 {
        1.5
    }
}

impl Scenario {
    /// Parses TOML; `origin` names the source in errors and anchors relative paths.
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let mut s: Scenario = toml::from_str(text).map_err(|e| SimError::Scenario {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        if let Some(w) = &mut s.warehouse
            && let (Some(m), Some(dir)) = (&w.map, origin.parent())
            && m.is_relative()
        {
            w.map = Some(dir.join(m));
        }
        s.validate().map_err(|m| SimError::Scenario {
            path: origin.to_path_buf(),
            message: m,
        })?;
        Ok(s)
    }

    /// A bundled scenario by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some((_, text)) = BUNDLED.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, Path::new(&format!("<bundled>/{name_or_path}.toml")));
        }
        let path = Path::new(name_or_path);
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| SimError::Scenario {
                path: path.into(),
                message: e.to_string(),
            })?;
            return Self::parse(&text, path);
        }
        Err(SimError::UnknownScenario {
            name: name_or_path.into(),
            known: BUNDLED
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    fn validate(&self) -> Result<(), String> {
        if !(self.duration_s.is_finite() && self.duration_s > 0.0) {
            return Err(format!(
                "duration_s must be positive, got {}",
                self.duration_s
            ));
        }
        let w = match (&self.warehouse, &self.delivery) {
            (Some(w), None) => w,
            (None, Some(d)) => return d.validate(),
            _ => {
                return Err(
                    "the scenario needs exactly one world: a [warehouse] or a [delivery] section"
                        .into(),
                );
            }
        };
        if w.agents == 0 {
            return Err("warehouse.agents must be at least 1".into());
        }
        for (name, v) in [
            ("cell_size_m", w.cell_size_m),
            ("coordination_hz", w.coordination_hz),
            ("kinematics_hz", w.kinematics_hz),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("warehouse.{name} must be positive, got {v}"));
            }
        }
        let ratio = w.kinematics_hz / w.coordination_hz;
        if (ratio - ratio.round()).abs() > 1e-9 {
            return Err(
                "warehouse.kinematics_hz must be a whole multiple of coordination_hz".into(),
            );
        }
        w.agv.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_scenarios_parse() {
        for (name, _) in BUNDLED {
            let s = Scenario::load(name).unwrap();
            assert_eq!(&s.name, name);
        }
    }

    #[test]
    fn bad_scenarios_are_rejected_with_the_reason() {
        let e = Scenario::parse(
            "name = \"x\"\nduration_s = -1\n[warehouse]\nagents = 3\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("duration_s must be positive"), "{e}");
        let e = Scenario::parse(
            "name = \"x\"\nduration_s = 5\nbogus = 1\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("x.toml: "), "{e}");
        let e = Scenario::load("no-such-scenario").unwrap_err();
        assert!(e.to_string().contains("warehouse"), "{e}");
        let e = Scenario::parse(
            "name = \"x\"\nduration_s = 5\n[warehouse]\nagents = 3\nkinematics_hz = 2.5\n",
            Path::new("x.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("whole multiple"), "{e}");
    }
}
