//! Rerun recordings: a simulation (the map, robots, planned paths and tasks on a `sim_time`
//! timeline) and a 2D SLAM run over a log (scans and pose estimates on a `log_time` timeline,
//! then the optimised trajectory and map). This is the only module that knows Rerun.

use crate::error::{Result, SimError};
use crate::warehouse::WarehouseWorld;
use courier_core::msgs::LaserScan;
use courier_core::{OccupancyGrid, Pose2, Stamp};
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
    /// Starts a simulation recording written to `path` (an `.rrd` file).
    pub fn create(path: &Path) -> Result<Self> {
        Self::create_app("courier_sim", path)
    }

    /// Starts a recording of application `app_id` written to `path` (an `.rrd` file).
    pub fn create_app(app_id: &'static str, path: &Path) -> Result<Self> {
        let rec = RecordingStreamBuilder::new(app_id)
            .save(path)
            .map_err(err)?;
        Ok(Self { rec })
    }

    /// One scan of a 2D SLAM run at `t` seconds into the log: the live pose estimate (a point
    /// and a heading tick) and the scan's valid returns in the map frame, placed through that
    /// estimate and the laser's mounting `laser_offset`.
    pub fn log_slam_scan(
        &self,
        t: f64,
        pose: &Pose2,
        laser_offset: &Pose2,
        scan: &LaserScan,
    ) -> Result<()> {
        self.rec.set_duration_secs("log_time", t);
        let laser = *pose * *laser_offset;
        let hits: Vec<(f32, f32)> = scan
            .points()
            .map(|[x, y]| {
                let q = laser.transform_point(&nalgebra::Point2::new(x as f64, y as f64));
                (q.x as f32, q.y as f32)
            })
            .collect();
        self.log_dots("slam/scan", hits, 0.03, Color::from_rgb(230, 60, 60))?;
        let (x, y, th) = (pose.x(), pose.y(), pose.theta());
        self.log_dots(
            "slam/robot",
            [(x as f32, y as f32)],
            0.15,
            Color::from_rgb(40, 120, 230),
        )?;
        let tip = ((x + 0.4 * th.cos()) as f32, (y + 0.4 * th.sin()) as f32);
        self.rec
            .log(
                "slam/robot_heading",
                &LineStrips2D::new([vec![(x as f32, y as f32), tip]])
                    .with_colors([Color::from_rgb(40, 120, 230)]),
            )
            .map_err(err)
    }

    /// The result of a 2D SLAM run, static: the optimised trajectory and the map's occupied
    /// cells (occupancy ≥ 65 %, Nav2's default `occupied_thresh`) as squares in the map frame.
    pub fn log_slam_result(
        &self,
        trajectory: &[(Stamp, Pose2)],
        map: &OccupancyGrid,
    ) -> Result<()> {
        let line: Vec<(f32, f32)> = trajectory
            .iter()
            .map(|(_, p)| (p.x() as f32, p.y() as f32))
            .collect();
        self.rec
            .log_static(
                "slam/trajectory",
                &LineStrips2D::new([line])
                    .with_radii([0.03])
                    .with_colors([Color::from_rgb(30, 180, 60)]),
            )
            .map_err(err)?;
        let mut cells = Vec::new();
        for ((row, col), &v) in map.data.indexed_iter() {
            if v >= 65 {
                let (x, y) = map.cell_to_world(col as i64, row as i64);
                cells.push((x as f32, y as f32));
            }
        }
        let half = (map.resolution * 0.5) as f32;
        self.rec
            .log_static(
                "slam/map",
                &Boxes2D::from_centers_and_half_sizes(
                    cells.iter().copied(),
                    cells.iter().map(|_| (half, half)),
                )
                .with_colors([Color::from_rgb(20, 20, 20)]),
            )
            .map_err(err)
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
        self.log_dots("tasks/open", tasks, 0.15, Color::from_rgb(220, 40, 40))?;
        Ok(())
    }

    /// The static district: buildings and parked cars (boxes), poles and trees (discs), the
    /// street graph (centre lines) and the delivery addresses.
    pub fn log_district(&self, d: &crate::delivery::District) -> Result<()> {
        use crate::sensors::Solid;
        let (mut tall, mut low) = (Vec::new(), Vec::new());
        let mut round = Vec::new();
        for o in d.scene.objects() {
            match &o.solid {
                Solid::Box {
                    center,
                    half_extents,
                    yaw,
                } => {
                    // Generated boxes are axis-aligned up to a quarter turn.
                    let (hx, hy) = if (yaw.sin()).abs() > 0.7 {
                        (half_extents[1], half_extents[0])
                    } else {
                        (half_extents[0], half_extents[1])
                    };
                    let b = ((center[0] as f32, center[1] as f32), (hx as f32, hy as f32));
                    if half_extents[2] > 1.5 {
                        tall.push(b);
                    } else {
                        low.push(b);
                    }
                }
                Solid::Cylinder { center, radius, .. } => {
                    round.push(((center[0] as f32, center[1] as f32), *radius as f32))
                }
            }
        }
        for (name, boxes, color) in [
            ("world/buildings", &tall, Color::from_rgb(120, 110, 100)),
            ("world/parked_cars", &low, Color::from_rgb(90, 90, 160)),
        ] {
            self.rec
                .log_static(
                    name,
                    &Boxes2D::from_centers_and_half_sizes(
                        boxes.iter().map(|b| b.0),
                        boxes.iter().map(|b| b.1),
                    )
                    .with_colors([color]),
                )
                .map_err(err)?;
        }
        self.rec
            .log_static(
                "world/poles_and_trees",
                &Points2D::new(round.iter().map(|r| r.0))
                    .with_radii(round.iter().map(|r| r.1))
                    .with_colors([Color::from_rgb(60, 140, 60)]),
            )
            .map_err(err)?;
        let g = &d.graph;
        let mut streets = Vec::new();
        for (a, out) in g.out.iter().enumerate() {
            for e in out.iter().filter(|e| e.to > a) {
                let (p, q) = (g.nodes[a].pos, g.nodes[e.to].pos);
                streets.push(vec![(p[0] as f32, p[1] as f32), (q[0] as f32, q[1] as f32)]);
            }
        }
        self.rec
            .log_static(
                "world/streets",
                &LineStrips2D::new(streets)
                    .with_radii([0.1])
                    .with_colors([Color::from_rgb(200, 200, 200)]),
            )
            .map_err(err)?;
        Ok(())
    }

    /// One delivery frame: vehicles (true footprints, believed positions), their planned
    /// paths, the first vehicle's LiDAR points (every 4th, world frame), perceived tracks,
    /// pedestrians and parcels by state.
    pub fn log_delivery(&self, f: &crate::delivery::run::Frame) -> Result<()> {
        use crate::delivery::run::{Activity, ParcelState};
        self.rec.set_duration_secs("sim_time", f.t);
        let p = &f.d.vehicle;
        let (l, w) = (p.size_m[0], p.size_m[1]);
        let rear = p.rear_overhang_m;
        let poly = |x: f64, y: f64, yaw: f64, corners: &[[f64; 2]]| -> Vec<(f32, f32)> {
            let (s, c) = yaw.sin_cos();
            corners
                .iter()
                .chain(corners.first())
                .map(|q| {
                    (
                        (x + c * q[0] - s * q[1]) as f32,
                        (y + s * q[0] + c * q[1]) as f32,
                    )
                })
                .collect()
        };
        let body = [
            [-rear, -w / 2.0],
            [l - rear, -w / 2.0],
            [l - rear, w / 2.0],
            [-rear, w / 2.0],
        ];
        let colors: Vec<Color> = f
            .vehicles
            .iter()
            .map(|v| match v.activity {
                Activity::Idle => RobotActivity::Idle.color(),
                Activity::Driving => RobotActivity::ToDropoff.color(),
                Activity::Dwelling(_) => Color::from_rgb(30, 180, 60),
            })
            .collect();
        let outlines: Vec<Vec<(f32, f32)>> = f
            .vehicles
            .iter()
            .map(|v| poly(v.truth.x, v.truth.y, v.truth.yaw, &body))
            .collect();
        self.rec
            .log(
                "fleet/vehicles",
                &LineStrips2D::new(outlines)
                    .with_radii([0.08])
                    .with_colors(colors),
            )
            .map_err(err)?;
        self.rec
            .log(
                "fleet/believed",
                &Points2D::new(
                    f.vehicles
                        .iter()
                        .map(|v| (v.belief.x() as f32, v.belief.y() as f32)),
                )
                .with_radii([0.25])
                .with_colors([Color::from_rgb(250, 60, 200)]),
            )
            .map_err(err)?;
        let paths: Vec<Vec<(f32, f32)>> = f
            .vehicles
            .iter()
            .filter_map(|v| v.path.as_ref())
            .map(|p| p.poses.iter().map(|q| (q[0] as f32, q[1] as f32)).collect())
            .collect();
        self.rec
            .log("fleet/paths", &LineStrips2D::new(paths).with_radii([0.1]))
            .map_err(err)?;
        if let Some(v) = f.vehicles.first() {
            let pose = v.truth.lidar_pose(p);
            let c = &v.cloud;
            let pts: Vec<(f32, f32, f32)> = (0..c.len())
                .step_by(4)
                .map(|k| {
                    let q =
                        pose.0 * nalgebra::Point3::new(c.x[k] as f64, c.y[k] as f64, c.z[k] as f64);
                    (q.x as f32, q.y as f32, q.z as f32)
                })
                .collect();
            self.rec
                .log(
                    "sensors/vehicle0/lidar",
                    &rerun::Points3D::new(pts).with_radii([0.05]),
                )
                .map_err(err)?;
        }
        let mut tracks = Vec::new();
        for v in f.vehicles {
            for (pos, [bl, bw, yaw]) in &v.tracks {
                let half = [
                    [-bl / 2.0, -bw / 2.0],
                    [bl / 2.0, -bw / 2.0],
                    [bl / 2.0, bw / 2.0],
                    [-bl / 2.0, bw / 2.0],
                ];
                tracks.push(poly(pos[0], pos[1], *yaw, &half));
            }
        }
        self.rec
            .log(
                "perception/tracks",
                &LineStrips2D::new(tracks)
                    .with_radii([0.05])
                    .with_colors([Color::from_rgb(250, 220, 0)]),
            )
            .map_err(err)?;
        self.rec
            .log(
                "world/pedestrians",
                &Points2D::new(
                    f.crowd
                        .people
                        .iter()
                        .map(|q| (q.pos[0] as f32, q.pos[1] as f32)),
                )
                .with_radii([crate::delivery::pedestrians::RADIUS_M as f32])
                .with_colors(f.crowd.people.iter().map(|q| {
                    if q.crossing {
                        Color::from_rgb(230, 30, 30)
                    } else {
                        Color::from_rgb(240, 150, 150)
                    }
                })),
            )
            .map_err(err)?;
        for (name, want, color) in [
            ("tasks/waiting", 0, Color::from_rgb(220, 40, 40)),
            ("tasks/aboard", 1, Color::from_rgb(40, 120, 230)),
            ("tasks/delivered", 2, Color::from_rgb(30, 180, 60)),
        ] {
            let pts: Vec<(f32, f32)> = f
                .parcels
                .iter()
                .filter(|q| {
                    matches!(
                        (want, q.state),
                        (0, ParcelState::Waiting)
                            | (1, ParcelState::Aboard(_))
                            | (2, ParcelState::Delivered)
                    )
                })
                .map(|q| {
                    let n = f.district.graph.nodes[q.node].pos;
                    (n[0] as f32, n[1] as f32)
                })
                .collect();
            self.log_dots(name, pts, 0.6, color)?;
        }
        Ok(())
    }

    /// Logs points of one radius and colour at the current time.
    fn log_dots(
        &self,
        path: &str,
        pts: impl IntoIterator<Item = (f32, f32)>,
        radius: f32,
        color: Color,
    ) -> Result<()> {
        self.rec
            .log(
                path,
                &Points2D::new(pts).with_radii([radius]).with_colors([color]),
            )
            .map_err(err)
    }

    /// Flushes everything to disk.
    pub fn finish(self) -> Result<()> {
        self.rec.flush_blocking().map_err(err)
    }
}
