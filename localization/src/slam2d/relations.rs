//! The relation metric of Kümmerle et al. 2009 ("On measuring the accuracy of SLAM
//! algorithms"): for each ground-truth relation (i, j) with relative motion d*ᵢⱼ, the error of
//! the estimated relative pose dᵢⱼ = xᵢ⁻¹·xⱼ is e = dᵢⱼ·d*ᵢⱼ⁻¹; reported are the mean, sample
//! standard deviation and maximum of |eₓᵧ| (m) and |e_θ| (degrees), and of their squares.

use crate::error::{LocalizationError, Result};
use courier_core::Pose2;
use courier_core::geometry::normalize_angle;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// One ground-truth relation: the motion from the pose at `t1` to the pose at `t2`, in the
/// frame of the first. Times are kept as the text of the log's ipc_timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub t1: String,
    pub t2: String,
    pub motion: Pose2,
}

/// Parses a relations file (`t1 t2 x y z roll pitch yaw` per line; `#` comments).
pub fn parse_relations(text: &str, file: &Path) -> Result<Vec<Relation>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| LocalizationError::Format {
            file: file.to_path_buf(),
            line: i + 1,
            message,
        };
        let w: Vec<&str> = line.split_whitespace().collect();
        if w.len() != 8 {
            return Err(err(format!(
                "expected 8 fields (t1 t2 x y z roll pitch yaw), found {}",
                w.len()
            )));
        }
        let mut v = [0.0f64; 8];
        for (k, field) in w.iter().enumerate() {
            v[k] = field
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| err(format!("field {} is not a finite number: {field:?}", k + 1)))?;
        }
        out.push(Relation {
            t1: w[0].to_string(),
            t2: w[1].to_string(),
            motion: Pose2::new(v[2], v[3], v[7]),
        });
    }
    Ok(out)
}

/// Reads a relations file.
pub fn read_relations(path: &Path) -> Result<Vec<Relation>> {
    let text = std::fs::read_to_string(path).map_err(|e| LocalizationError::io(path, e))?;
    parse_relations(&text, path)
}

/// Mean, sample standard deviation (n − 1) and maximum of a set of values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self {
                mean: 0.0,
                std: 0.0,
                max: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Self {
            mean,
            std: var.sqrt(),
            max: values.iter().copied().fold(0.0, f64::max),
        }
    }
}

/// The relation metric over a set of relations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RelationMetric {
    pub relations: usize,
    /// |translation error| in m.
    pub translation: Summary,
    /// |rotation error| in degrees.
    pub rotation_deg: Summary,
    /// squared translation error in m².
    pub translation_sq: Summary,
    /// squared rotation error in deg².
    pub rotation_sq_deg2: Summary,
}

/// The error transform e = (x₁⁻¹·x₂)·d*⁻¹ of one relation.
pub fn relation_error(x1: &Pose2, x2: &Pose2, truth: &Pose2) -> Pose2 {
    x1.between(x2) * truth.inverse()
}

/// Evaluates a trajectory given as ipc_timestamp text → pose. A relation whose time has no
/// pose is an error naming it.
pub fn evaluate(poses: &HashMap<String, Pose2>, relations: &[Relation]) -> Result<RelationMetric> {
    let mut t = Vec::with_capacity(relations.len());
    let mut r = Vec::with_capacity(relations.len());
    for rel in relations {
        let get = |k: &String| {
            poses.get(k).ok_or_else(|| {
                LocalizationError::MissingPose(format!("no pose at relation time {k}"))
            })
        };
        let e = relation_error(get(&rel.t1)?, get(&rel.t2)?, &rel.motion);
        t.push(e.translation().norm());
        r.push(normalize_angle(e.theta()).abs().to_degrees());
    }
    let sq = |v: &[f64]| v.iter().map(|x| x * x).collect::<Vec<_>>();
    Ok(RelationMetric {
        relations: relations.len(),
        translation: Summary::of(&t),
        rotation_deg: Summary::of(&r),
        translation_sq: Summary::of(&sq(&t)),
        rotation_sq_deg2: Summary::of(&sq(&r)),
    })
}
