//! Writes a SLAM map as a Nav2 map (`.yaml` + binary `.pgm`, trinary) through core's writer.

use crate::error::Result;
use courier_core::OccupancyGrid;
use courier_core::formats::nav2::{MapYaml, write_map};
use std::path::Path;

/// Writes `grid` to `yaml_path` and an image beside it with the same stem and `.pgm`.
pub fn write_nav2_map(grid: &OccupancyGrid, yaml_path: &Path) -> Result<()> {
    let image = yaml_path.with_extension("pgm");
    let image = image.file_name().unwrap_or(image.as_os_str());
    let origin = [grid.origin.x(), grid.origin.y(), grid.origin.theta()];
    write_map(
        yaml_path,
        grid,
        &MapYaml::new(image, grid.resolution, origin),
    )?;
    Ok(())
}
