//! Writes a map as a Nav2 map (`.yaml` + binary `.pgm`, trinary mode).
//! TODO(after merge): switch to `courier_core::formats::nav2`, which owns this format.

use crate::error::{LocalizationError, Result};
use courier_core::OccupancyGrid;
use std::fmt::Write as _;
use std::path::Path;

/// Nav2's defaults: cells at or above 0.65 are occupied, at or below 0.25 free.
const OCCUPIED_THRESH: f64 = 0.65;
const FREE_THRESH: f64 = 0.25;

/// Writes `grid` to `yaml_path` and an image beside it with the same stem and `.pgm`.
pub fn write_nav2_map(grid: &OccupancyGrid, yaml_path: &Path) -> Result<()> {
    let pgm_path = yaml_path.with_extension("pgm");
    let (w, h) = (grid.width(), grid.height());
    let mut bytes = format!("P5\n# courier slam\n{w} {h}\n255\n").into_bytes();
    // The image's first row is the top of the map (the grid's last row).
    for row in (0..h).rev() {
        for col in 0..w {
            let v = grid.data[[row, col]];
            bytes.push(if v < 0 {
                205
            } else if v as f64 >= OCCUPIED_THRESH * 100.0 {
                0
            } else if v as f64 <= FREE_THRESH * 100.0 {
                254
            } else {
                205
            });
        }
    }
    std::fs::write(&pgm_path, bytes).map_err(|e| LocalizationError::io(&pgm_path, e))?;
    let image = pgm_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut yaml = String::new();
    let _ = writeln!(yaml, "image: {image}");
    let _ = writeln!(yaml, "mode: trinary");
    let _ = writeln!(yaml, "resolution: {}", grid.resolution);
    let _ = writeln!(
        yaml,
        "origin: [{}, {}, {}]",
        grid.origin.x(),
        grid.origin.y(),
        grid.origin.theta()
    );
    let _ = writeln!(yaml, "negate: 0");
    let _ = writeln!(yaml, "occupied_thresh: {OCCUPIED_THRESH}");
    let _ = writeln!(yaml, "free_thresh: {FREE_THRESH}");
    std::fs::write(yaml_path, yaml).map_err(|e| LocalizationError::io(yaml_path, e))
}
