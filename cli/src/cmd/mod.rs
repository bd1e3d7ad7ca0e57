//! One module per subcommand.

pub mod bench;
pub mod info;
pub mod sim;
pub mod lifelong;
