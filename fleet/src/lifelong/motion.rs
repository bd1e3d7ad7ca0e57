//! Motion models of lifelong operation: plain 4-connected grid moves, and LoRR's `MAPF_T`
//! model where a robot has an orientation and each step moves forward, turns 90° or waits.

use courier_core::GridMap;
use serde::{Deserialize, Serialize};

/// How robots move on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MotionModel {
    /// Move to one of the four neighbours or wait; no orientation.
    FourConnected,
    /// LoRR `MAPF_T`: orientation 0=E, 1=S, 2=W, 3=N; F (forward), R (clockwise), C
    /// (counter-clockwise) or W (wait).
    #[default]
    Rotation,
}

/// One robot's action for one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// Wait in place (both models).
    Wait,
    /// Move one cell in its orientation (rotation model).
    Forward,
    /// Turn 90° clockwise: E → S → W → N (rotation model).
    Clockwise,
    /// Turn 90° counter-clockwise (rotation model).
    CounterClockwise,
    /// Move one cell in direction 0=E, 1=S, 2=W, 3=N (4-connected model).
    Move(u8),
}

/// A robot's pose on the grid: cell index `row * width + col` and orientation (0=E … 3=N;
/// ignored by the 4-connected model, where it stays 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AgentState {
    pub loc: u32,
    pub dir: u8,
}

/// The cell one step from `loc` in direction `dir` (0=E, 1=S, 2=W, 3=N), if it is on the map
/// and passable.
pub fn neighbor(map: &GridMap, loc: u32, dir: u8) -> Option<u32> {
    let w = map.width as i64;
    let (x, y) = (loc as i64 % w, loc as i64 / w);
    let (dx, dy) = crate::mapf::instance::HEADING_STEPS[(dir & 3) as usize];
    map.is_passable(x + dx, y + dy)
        .then(|| ((y + dy) * w + x + dx) as u32)
}

/// The direction from `a` to its 4-neighbour `b`, if they are neighbours.
pub fn direction_to(width: usize, a: u32, b: u32) -> Option<u8> {
    let w = width as i64;
    let (ax, ay, bx, by) = (a as i64 % w, a as i64 / w, b as i64 % w, b as i64 / w);
    match (bx - ax, by - ay) {
        (1, 0) => Some(0),
        (0, 1) => Some(1),
        (-1, 0) => Some(2),
        (0, -1) => Some(3),
        _ => None,
    }
}

/// Number of 90° turns from orientation `from` to `to` (0, 1 or 2).
pub fn turns(from: u8, to: u8) -> u32 {
    match (to + 4 - from) % 4 {
        0 => 0,
        2 => 2,
        _ => 1,
    }
}

/// The turn action that brings orientation `from` closer to `to` (`Wait` when equal).
pub fn turn_toward(from: u8, to: u8) -> Action {
    match (to + 4 - from) % 4 {
        0 => Action::Wait,
        3 => Action::CounterClockwise,
        _ => Action::Clockwise,
    }
}

/// The state after `action` from `s`, or why the action is illegal under `model` on `map`
/// (ignoring other robots).
pub fn apply(
    map: &GridMap,
    model: MotionModel,
    s: AgentState,
    action: Action,
) -> Result<AgentState, String> {
    match (model, action) {
        (_, Action::Wait) => Ok(s),
        (MotionModel::Rotation, Action::Forward) => neighbor(map, s.loc, s.dir)
            .map(|loc| AgentState { loc, dir: s.dir })
            .ok_or_else(|| {
                format!(
                    "forward from cell {} facing {} leaves the map or hits an obstacle",
                    s.loc, s.dir
                )
            }),
        (MotionModel::Rotation, Action::Clockwise) => Ok(AgentState {
            loc: s.loc,
            dir: (s.dir + 1) % 4,
        }),
        (MotionModel::Rotation, Action::CounterClockwise) => Ok(AgentState {
            loc: s.loc,
            dir: (s.dir + 3) % 4,
        }),
        (MotionModel::FourConnected, Action::Move(d)) if d < 4 => neighbor(map, s.loc, d)
            .map(|loc| AgentState { loc, dir: s.dir })
            .ok_or_else(|| {
                format!(
                    "move {d} from cell {} leaves the map or hits an obstacle",
                    s.loc
                )
            }),
        (m, a) => Err(format!(
            "action {a:?} is not part of the {m:?} motion model"
        )),
    }
}
