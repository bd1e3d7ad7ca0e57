//! Rerun recording of a simulation: the map, robots, planned paths and tasks on a `sim_time`
//! timeline. This is the only module that knows Rerun.

use crate::error::{Result, SimError};
use crate::warehouse::WarehouseWorld;
use rerun::{Boxes2D, Color, LineStrips2D, Points2D, RecordingStream, RecordingStreamBuilder};
use std::path::Path;

/// Robot colour by what it is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotActivity {
    Idle,
    ToPickup,
    ToDropoff,
}

impl RobotActivity {
    fn color(self) -> Color {
        match self {
            RobotActivity::Idle => Color::from_rgb(150, 150, 150),
            RobotActivity::ToPickup => Color::from_rgb(40, 120, 230),
            RobotActivity::ToDropoff => Color::from_rgb(240, 140, 20),
        }
    }
}

#[derive(Debug)]
pub struct Recorder {
    rec: RecordingStream,
}

fn err(e: impl std::fmt::Display) -> SimError {
    SimError::Record(e.to_string())
}

impl Recorder {
    /// Starts a recording written to `path` (an `.rrd` file).
    pub fn create(path: &Path) -> Result<Self> {
        let rec = RecordingStreamBuilder::new("courier_sim")
            .save(path)
            .map_err(err)?;
        Ok(Self { rec })
    }

    /// The static world: racks, stations and chargers.
    pub fn log_world(&self, world: &WarehouseWorld) -> Result<()> {
        let half = (world.cell_size_m * 0.5) as f32;
        let centre = |c: u32| {
            let p = world.cell_center(c);
            (p[0] as f32, p[1] as f32)
        };
        let racks: Vec<_> = world.obstacles().map(centre).collect();
        self.rec
            .log_static(
                "world/racks",
                &Boxes2D::from_centers_and_half_sizes(
                    racks.iter().copied(),
                    racks.iter().map(|_| (half, half)),
                )
                .with_colors([Color::from_rgb(90, 70, 50)]),
            )
            .map_err(err)?;
        for (name, cells, color) in [
            (
                "world/stations",
                &world.stations,
                Color::from_rgb(30, 180, 60),
            ),
            (
                "world/chargers",
                &world.chargers,
                Color::from_rgb(200, 200, 40),
            ),
        ] {
            let pts: Vec<_> = cells.iter().map(|&c| centre(c)).collect();
            self.rec
                .log_static(
                    name,
                    &Points2D::new(pts)
                        .with_radii([half * 0.8])
                        .with_colors([color]),
                )
                .map_err(err)?;
        }
        Ok(())
    }

    /// One frame: robots (true poses), their heading ticks, and their planned paths.
    pub fn log_frame(
        &self,
        t: f64,
        poses: &[([f64; 2], f64)],
        radius: f64,
        activity: &[RobotActivity],
        paths: &[Vec<[f64; 2]>],
        open_tasks: &[[f64; 2]],
    ) -> Result<()> {
        self.rec.set_duration_secs("sim_time", t);
        let pts: Vec<(f32, f32)> = poses
            .iter()
            .map(|(p, _)| (p[0] as f32, p[1] as f32))
            .collect();
        let colors: Vec<Color> = activity.iter().map(|a| a.color()).collect();
        self.rec
            .log(
                "fleet/robots",
                &Points2D::new(pts)
                    .with_radii([radius as f32])
                    .with_colors(colors),
            )
            .map_err(err)?;
        let ticks: Vec<Vec<(f32, f32)>> = poses
            .iter()
            .map(|(p, h)| {
                let e = (p[0] + radius * h.cos(), p[1] + radius * h.sin());
                vec![(p[0] as f32, p[1] as f32), (e.0 as f32, e.1 as f32)]
            })
            .collect();
        self.rec
            .log("fleet/headings", &LineStrips2D::new(ticks))
            .map_err(err)?;
        let strips: Vec<Vec<(f32, f32)>> = paths
            .iter()
            .map(|p| p.iter().map(|q| (q[0] as f32, q[1] as f32)).collect())
            .collect();
        self.rec
            .log("fleet/paths", &LineStrips2D::new(strips).with_radii([0.05]))
            .map_err(err)?;
        let tasks: Vec<(f32, f32)> = open_tasks
            .iter()
            .map(|p| (p[0] as f32, p[1] as f32))
            .collect();
        self.rec
            .log(
                "tasks/open",
                &Points2D::new(tasks)
                    .with_radii([0.15])
                    .with_colors([Color::from_rgb(220, 40, 40)]),
            )
            .map_err(err)?;
        Ok(())
    }

    /// Flushes everything to disk.
    pub fn finish(self) -> Result<()> {
        self.rec.flush_blocking().map_err(err)
    }
}
