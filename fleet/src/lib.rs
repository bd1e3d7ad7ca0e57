//! Courier fleet coordination: tasks + robots → assignments + conflict-free paths (see issue 3).
//!
//! - [`mapf`]: one-shot multi-agent path finding on 4-connected grids (LaCAM with PIBT, LNS
//!   refinement, CBS for small instances, a solution validator).
//! - [`lifelong`]: lifelong warehouse operation (LoRR rules): task assignment, a per-step
//!   planner (PIBT rolled out over a window, improved by windowed LNS) for the 4-connected and
//!   rotation motion models, a simulator that checks every step.
//! - [`distance`]: the per-goal BFS distance tables both use: lazily filled per agent for MAPF
//!   ([`distance::DistanceTable`]), a memory-bounded cache keyed by goal for lifelong
//!   ([`distance::DistanceCache`]).
//! - [`assign`]: task-to-robot assignment costs and solvers; [`lorr`]: LoRR instance files.
//!
//! # Why two PIBT step planners
//!
//! [`mapf::Pibt`] and [`lifelong::Planner`] both run Priority Inheritance with Backtracking, but
//! they share the idea, not the code paths that matter:
//!
//! - MAPF's step is a successor generator for LaCAM: it takes fixed moves (LaCAM's
//!   constraints), must report failure so that LaCAM can branch, ranks only cells (distance,
//!   then free, then random), and has LaCAM3's swap technique for head-on corridor meetings.
//! - The lifelong step ranks *actions* (wait, forward, turn, 4-connected moves) by quarter-step
//!   costs with turn and inertia costs, runs with a table budget (some robots plan on Manhattan
//!   distances), has robots without a goal, re-ranks turns after a blocked way (detours) and
//!   converts a cell plan into rotation actions afterwards; a pushed robot must leave its cell.
//!
//! A shared core would have to be parameterised by nearly every line of either (candidate set,
//! ranking, what a push may do, what failure means), and the tie-breaking draws, which fix the
//! results bit for bit (MAPF first-solution SoC, lifelong task counts), would move. What is the
//! same logic — the distance tables — lives once in [`distance`].
//!
//! The same holds for the two LNS: MAPF's (`mapf::lns`) replans with SIPP over 4-connected
//! cells to the end of time, with agents staying at their goals; the lifelong one replans with
//! space-time A* over poses (cell and orientation) inside a window of a few steps, prices a
//! path by arrival or cost-to-go at the window's end, and lets a robot leave its goal.

pub mod distance;
pub mod error;
pub mod mapf;

pub use error::{FleetError, Result};

pub mod assign;
pub mod lifelong;
pub mod lorr;
