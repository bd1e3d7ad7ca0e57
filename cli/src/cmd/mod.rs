//! One module per subcommand.

pub mod bench;
pub mod info;
pub mod lifelong;
pub mod mapf;
pub mod perception;
pub mod plan;
pub mod route;
pub mod sim;
pub mod slam;
