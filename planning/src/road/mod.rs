//! Road routing for delivery vehicles: a directed road graph from OpenStreetMap XML, fastest
//! routes by travel time, and the order of a delivery run over many stops.

pub mod graph;
pub mod osm;
pub mod tour;

pub use graph::{RoadEdge, RoadGraph, RoadNode, Route};
pub use osm::{RoadParams, parse_osm};
pub use tour::{Tour, TourParams, brute_force, held_karp, order_stops, solve_heuristic};
