//! League of Robot Runners (LoRR) instance files, 2023 and 2024 variants.
//!
//! An instance `.json` names `mapFile`, `agentFile` and `taskFile` (relative to the json),
//! `teamSize` and `numTasksReveal`; 2023 instances also say `"taskAssignmentStrategy":
//! "roundrobin"`. Maps are MovingAI `.map` grids. Locations are `row * width + col`.
//! `.agents`: optional `#` header lines, a count, one start location per line. `.tasks`: optional
//! header, a count, one task per line: 2024 a comma-separated list of errands visited in order,
//! 2023 a single location. A `simulation_time.json` beside the instance, if present, gives the
//! number of steps. Every problem is reported with the file and line.

use crate::lifelong::{LifelongError, Metrics, MotionModel, Problem, TaskRules};
use courier_core::GridMap;
use courier_core::error::{FormatError, Location};
use courier_core::formats::movingai;
use std::path::{Path, PathBuf};

/// Which competition's rules an instance follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Year {
    /// Round-robin single errands, scored by errands.
    Y2023,
    /// Revealed multi-errand tasks scheduled by the planner, scored by tasks.
    Y2024,
}

impl Year {
    /// The competition's score of a run: errands finished under the 2023 rules, whole tasks
    /// under the 2024 rules.
    pub fn score(self, tasks: usize, errands: usize) -> usize {
        match self {
            Year::Y2023 => errands,
            Year::Y2024 => tasks,
        }
    }
}

/// Best-known score of a LoRR main-round instance at its full length, by the instance file's
/// stem (`RANDOM-01`, `MR23-I-08`, …); `None` for any other instance. The figures are the
/// competition archive's (`MAPF-Competition/Benchmark-Archive`, `2024 Competition/README.md`
/// and `2023 Competition/README.md`), as listed in `../shared/data/lorr/SOURCES.md`.
pub fn best_known(name: &str, year: Year) -> Option<usize> {
    let table: &[(&str, usize)] = match year {
        Year::Y2024 => &[
            ("WAREHOUSE", 154_834),
            ("SORTATION", 152_714),
            ("GAME", 23_274),
            ("CITY-01", 8_445),
            ("CITY-02", 17_010),
            ("RANDOM-01", 696),
            ("RANDOM-02", 1_260),
            ("RANDOM-03", 2_368),
            ("RANDOM-04", 2_585),
            ("RANDOM-05", 3_050),
        ],
        Year::Y2023 => &[
            ("MR23-I-10", 194_677),
            ("MR23-I-06", 197_275),
            ("MR23-I-03", 3_042),
            ("MR23-I-04", 1_741),
            ("MR23-I-05", 7_432),
            ("MR23-I-07", 5_914),
            ("MR23-I-08", 6_059),
        ],
    };
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, best)| best)
}

/// Where run `m` stands against its instance's best-known score: `(best, score / best)`, only
/// for a main-round instance run as the competition ran it: for its full number of steps
/// (`full`, the instance's own) and under the rotation model.
pub fn standing(
    year: Year,
    full: Option<usize>,
    motion: MotionModel,
    m: &Metrics,
) -> Option<(usize, f64)> {
    let as_run = full == Some(m.steps) && motion == MotionModel::Rotation;
    let best = best_known(&m.name, year).filter(|_| as_run)?;
    let score = year.score(m.tasks_completed, m.errands_completed);
    Some((best, score as f64 / best as f64))
}

fn read(path: &Path) -> Result<String, LifelongError> {
    std::fs::read_to_string(path).map_err(|e| LifelongError::io(path, e))
}

/// Reads a LoRR instance `.json` with its map, agents and tasks.
pub fn read_instance(path: impl AsRef<Path>) -> Result<(Problem, Year), LifelongError> {
    let path = path.as_ref();
    let text = read(path)?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| FormatError::at_line(path, e.line().max(1), format!("not valid JSON: {e}")))?;
    let whole = |msg: String| FormatError::new(path, Location::File, msg);
    let string = |key: &str| {
        json.get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| whole(format!("missing text field `{key}`")))
    };
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let map_path = dir.join(string("mapFile")?);
    let agent_path = dir.join(string("agentFile")?);
    let task_path = dir.join(string("taskFile")?);
    let team = json
        .get("teamSize")
        .and_then(|v| v.as_u64())
        .filter(|&n| n > 0)
        .ok_or_else(|| whole("missing or non-positive `teamSize`".into()))? as usize;
    let year = match json.get("taskAssignmentStrategy").map(|v| v.as_str()) {
        None => Year::Y2024,
        Some(Some("roundrobin")) => Year::Y2023,
        Some(other) => {
            return Err(whole(format!(
                "unsupported taskAssignmentStrategy {other:?} (only \"roundrobin\")"
            ))
            .into());
        }
    };
    let reveal = match json.get("numTasksReveal") {
        None => 1.0,
        Some(v) => v
            .as_f64()
            .filter(|r| r.is_finite() && *r > 0.0)
            .ok_or_else(|| {
                whole(format!(
                    "`numTasksReveal` must be a positive number, got {v}"
                ))
            })?,
    };
    let map = movingai::read_map(&map_path)?;
    let starts = parse_agents(&read(&agent_path)?, &agent_path, &map, team)?;
    let tasks = parse_tasks(&read(&task_path)?, &task_path, &map, year)?;
    let name = path
        .file_stem()
        .map_or_else(|| "instance".into(), |s| s.to_string_lossy().into_owned());
    let steps = simulation_time(&dir, &name)?;
    let rules = match year {
        Year::Y2023 => TaskRules::RoundRobin,
        Year::Y2024 => TaskRules::Reveal {
            pool_per_agent: reveal,
        },
    };
    Ok((
        Problem {
            name,
            map,
            starts,
            tasks,
            terms: Vec::new(),
            rules,
            steps,
        },
        year,
    ))
}

/// Steps of instance `name` from `dir/simulation_time.json`, if that file exists and lists it
/// (2023 files key `MR23-I-04` as `I-04`).
fn simulation_time(dir: &Path, name: &str) -> Result<Option<usize>, LifelongError> {
    let path = dir.join("simulation_time.json");
    let path = if path.exists() {
        path
    } else {
        match dir.parent().map(|p| p.join("simulation_time.json")) {
            Some(p) if p.exists() => p,
            _ => return Ok(None),
        }
    };
    let text = read(&path)?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        FormatError::at_line(&path, e.line().max(1), format!("not valid JSON: {e}"))
    })?;
    let key2 = name.strip_prefix("MR23-").unwrap_or(name);
    Ok(json
        .get(name)
        .or_else(|| json.get(key2))
        .and_then(|v| v.as_u64())
        .map(|v| v as usize))
}

/// Non-empty, non-comment lines with their 1-based numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

fn location(word: &str, file: &Path, line: usize, map: &GridMap) -> Result<u32, FormatError> {
    let v: i64 = word.trim().parse().map_err(|_| {
        FormatError::at_line(
            file,
            line,
            format!("expected a location (integer), got {word:?}"),
        )
    })?;
    let cells = (map.width * map.height) as i64;
    if v < 0 || v >= cells {
        return Err(FormatError::at_line(
            file,
            line,
            format!("location {v} is off the {}x{} map", map.width, map.height),
        ));
    }
    if !map.passable[v as usize] {
        let (x, y) = map.coords(v as usize);
        return Err(FormatError::at_line(
            file,
            line,
            format!("location {v} (row {y}, col {x}) is an obstacle"),
        ));
    }
    Ok(v as u32)
}

/// Parses a `.agents` file: the first `team` start locations.
pub fn parse_agents(
    text: &str,
    file: impl AsRef<Path>,
    map: &GridMap,
    team: usize,
) -> Result<Vec<u32>, FormatError> {
    let file = file.as_ref();
    let lines: Vec<(usize, &str)> = data_lines(text).collect();
    let mut it = lines.iter().copied();
    let (first, n) = count_from(&mut it, file)?;
    if n < team {
        return Err(FormatError::at_line(
            file,
            first,
            format!("file lists {n} agents but the instance's teamSize is {team}"),
        ));
    }
    let mut starts = Vec::with_capacity(team);
    for _ in 0..team {
        let (line, t) = it.next().ok_or_else(|| {
            FormatError::at_line(
                file,
                lines.last().map_or(first, |l| l.0),
                format!("file ends after {} of {team} agents", starts.len()),
            )
        })?;
        starts.push(location(t, file, line, map)?);
    }
    Ok(starts)
}

fn count_from<'a>(
    it: &mut impl Iterator<Item = (usize, &'a str)>,
    file: &Path,
) -> Result<(usize, usize), FormatError> {
    let (line, text) = it
        .next()
        .ok_or_else(|| FormatError::new(file, Location::File, "empty file: expected a count"))?;
    let n = text
        .parse()
        .map_err(|_| FormatError::at_line(file, line, format!("expected a count, got {text:?}")))?;
    Ok((line, n))
}

/// Parses a `.tasks` file (2024: comma-separated errands per line; 2023: one location).
pub fn parse_tasks(
    text: &str,
    file: impl AsRef<Path>,
    map: &GridMap,
    year: Year,
) -> Result<Vec<Vec<u32>>, FormatError> {
    let file = file.as_ref();
    let lines: Vec<(usize, &str)> = data_lines(text).collect();
    let mut it = lines.iter().copied();
    let (first, n) = count_from(&mut it, file)?;
    if n == 0 {
        return Err(FormatError::at_line(file, first, "the task count is 0"));
    }
    let mut tasks = Vec::with_capacity(n);
    for (line, t) in it.by_ref().take(n) {
        let errands = t
            .split(',')
            .map(|w| location(w, file, line, map))
            .collect::<Result<Vec<_>, _>>()?;
        if year == Year::Y2023 && errands.len() != 1 {
            return Err(FormatError::at_line(
                file,
                line,
                format!("a 2023 task is one location, got {}", errands.len()),
            ));
        }
        tasks.push(errands);
    }
    if tasks.len() < n {
        return Err(FormatError::at_line(
            file,
            lines.last().map_or(first, |l| l.0),
            format!("file ends after {} of {n} tasks", tasks.len()),
        ));
    }
    if let Some((line, t)) = it.next() {
        return Err(FormatError::at_line(
            file,
            line,
            format!("unexpected text after the {n} tasks: {t:?}"),
        ));
    }
    Ok(tasks)
}
