//! The delivery simulation loop. At 10 Hz every vehicle (in parallel, results combined in
//! vehicle order) scans its VLP-16 against the district and the tick's movers, runs perception
//! on the cloud, and follows its path with Regulated Pure Pursuit from the pose its ESKF
//! believes, slowing and stopping for perceived obstacles; then it drives ten 10 ms kinematic
//! steps, feeding IMU, wheel odometry and GNSS to the filter. Sequentially after that:
//! pedestrians walk, parry checks every vehicle for contacts, and the dispatcher assigns open
//! parcels to idle vehicles and orders their stops.

use super::pedestrians::{self, Crowd};
use super::vehicle::AckermannState;
use super::world::District;
use super::{DeliveryScenario, invalid, sub_seed};
use crate::collision::{ContactLog, bounding_disc, solid_gap};
use crate::error::{Result, SimError};
use crate::metrics::{DeliveryMetrics, Metrics, RunTotals, StageMs, thread_cpu_s};
use crate::record::Recorder;
use crate::scenario::Scenario;
use crate::sensors::{
    DynamicObjects, GnssModel, ImuModel, Lidar3d, SceneObject, Solid, WheelOdometryModel,
};
use courier_core::Stamp;
use courier_core::geometry::{Pose2, Twist2};
use courier_core::msgs::PointCloud;
use courier_fleet::assign;
use courier_localization::fusion::{FusionFilter, FusionParams, GeoOrigin};
use courier_perception::Perception;
use courier_planning::control::{ControlParams, FollowPath, Limits, RegulatedPurePursuit, World};
use courier_planning::hybrid::{Footprint, FootprintSpec};
use courier_planning::road::{TourParams, order_stops};
use nalgebra::{Point2, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

/// Control, LiDAR and perception period (s).
pub const TICK_S: f64 = 0.1;
/// Kinematics and IMU substeps per tick.
const SUBSTEPS: u64 = 10;
const SUB_NS: i64 = 10_000_000;
/// Scene tags: vehicle i is `VEHICLE_TAG + i`, pedestrian k is `PEDESTRIAN_TAG + k`.
const VEHICLE_TAG: u32 = 1;
const PEDESTRIAN_TAG: u32 = 100_000;
/// Pedestrians within this range of a LiDAR (and in its line of sight) count as present (m).
pub const PEDESTRIAN_RANGE_M: f64 = 20.0;
/// A pedestrian counts as detected when an obstacle box centre lies this close (m).
const DETECTION_MATCH_M: f64 = 1.0;

/// Where a parcel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParcelState {
    Waiting,
    Aboard(usize),
    Delivered,
}

#[derive(Debug, Clone)]
pub struct Parcel {
    pub node: usize,
    pub released_s: f64,
    pub state: ParcelState,
}

/// What a vehicle is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activity {
    Idle,
    Driving,
    /// Handing over parcels until this time (s).
    Dwelling(f64),
}

/// The stages of one vehicle tick, thread CPU seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageCpu {
    pub lidar: f64,
    pub perception: f64,
    pub control: f64,
    pub localization: f64,
}

/// One vehicle: its true state, its sensors and its onboard stack.
#[derive(Debug)]
pub struct Vehicle {
    pub truth: AckermannState,
    imu: ImuModel,
    odom: WheelOdometryModel,
    gnss: GnssModel,
    lidar: Lidar3d,
    perception: Perception,
    filter: FusionFilter,
    rpp: RegulatedPurePursuit,
    pub path: Option<FollowPath>,
    /// Route nodes of the current leg.
    pub route: Vec<usize>,
    cmd: Twist2,
    pub cloud: PointCloud,
    /// Obstacle outline points and predicted track positions (map frame, believed).
    pub obstacle_points: Vec<[f64; 2]>,
    /// Perceived tracks (map frame, believed): (position, box length, width, heading).
    pub tracks: Vec<([f64; 2], [f64; 3])>,
    /// The address node the vehicle is at (or last left) and the node it came from.
    pub at: usize,
    pub came_from: usize,
    /// Remaining stops in visiting order; parcels aboard.
    pub stops: Vec<usize>,
    pub parcels: Vec<usize>,
    pub activity: Activity,
    /// Believed pose at the end of the last tick.
    pub belief: Pose2,
    cpu: StageCpu,
    idle_since: f64,
    /// Junctions along the current leg, the index of the next one, and whether the vehicle
    /// has entered its box.
    junctions: Vec<usize>,
    next_junction: usize,
    in_box: bool,
}

/// What one vehicle tick reports back, in vehicle order.
#[derive(Debug, Default)]
struct TickOut {
    loc_err: f64,
    pedestrians_present: usize,
    pedestrians_detected: usize,
    arrived: Option<usize>,
    moved_m: f64,
    /// Wall time of the control stage (ms).
    control_ms: f64,
    error: Option<String>,
}

/// Read-only context shared by the vehicle ticks.
struct Ctx<'a> {
    d: &'a DeliveryScenario,
    district: &'a District,
    control: ControlParams,
    footprint: Footprint,
    dynamic: &'a DynamicObjects,
    pedestrians: &'a [[f64; 2]],
    /// Which vehicle may drive through each junction now (indexed by node).
    holder: &'a [Option<usize>],
    /// Half side of a junction box (m).
    box_half: f64,
    /// Tick index (time = k · TICK_S).
    k: u64,
}

fn control_params(d: &DeliveryScenario) -> ControlParams {
    let v = &d.vehicle;
    let c = &d.control;
    let mut p = ControlParams {
        limits: Limits {
            max_speed: v.max_speed,
            max_reverse_speed: 0.0,
            max_yaw_rate: c.max_yaw_rate,
            max_accel: v.max_accel,
            max_decel: v.max_decel,
            max_yaw_accel: 10.0,
        },
        control_period: TICK_S,
        collision_lookahead: c.collision_lookahead_m,
        stop_margin: c.stop_margin_m,
        goal_tolerance: c.goal_tolerance_m,
        ..ControlParams::default()
    };
    let pp = &mut p.pure_pursuit;
    pp.lookahead_time = c.lookahead_time_s;
    pp.min_lookahead = c.lookahead_m[0];
    pp.max_lookahead = c.lookahead_m[1];
    pp.regulated_min_radius = c.regulated_min_radius_m;
    pp.proximity_distance = 0.0;
    pp.approach_distance = 6.0;
    pp.min_approach_speed = 0.3;
    pp.allow_rotate_in_place = false;
    let i = c.inflation_m;
    p.footprint = FootprintSpec::rectangle(
        v.size_m[0] + 2.0 * i,
        v.size_m[1] + 2.0 * i,
        v.rear_overhang_m + i,
    );
    p
}

impl Vehicle {
    fn new(
        d: &DeliveryScenario,
        district: &District,
        i: usize,
        seed: u64,
        at: usize,
        came_from: usize,
    ) -> Result<Self> {
        let start = district
            .lane_path(&[came_from, at])
            .last()
            .copied()
            .ok_or_else(|| invalid("a start address has no lane"))?;
        let s = |k| sub_seed(seed, i as u64, k);
        let mut fusion = FusionParams {
            origin: Some(GeoOrigin {
                latitude: d.gnss.origin[0],
                longitude: d.gnss.origin[1],
                altitude: d.gnss.origin[2],
            }),
            ..d.fusion.clone()
        };
        fusion.gnss_default_sigma = d.gnss.horizontal_std_m;
        let mut filter = FusionFilter::new(fusion);
        // The vehicle knows where it starts (its depot bay), as a robot would at power-up.
        filter.initialize(Stamp::ZERO, &start.to_pose3(), Vector3::zeros());
        Ok(Self {
            truth: AckermannState::at(start),
            imu: ImuModel::new(d.imu.clone(), s(1))?,
            odom: WheelOdometryModel::new(d.odometry.clone(), s(2))?,
            gnss: GnssModel::new(d.gnss.clone(), s(3))?,
            lidar: Lidar3d::new(d.lidar.clone(), s(4))?,
            perception: Perception::new(d.perception.clone())
                .map_err(|e| invalid(format!("perception: {e}")))?,
            filter,
            rpp: RegulatedPurePursuit::new(),
            path: None,
            route: Vec::new(),
            cmd: Twist2::default(),
            cloud: PointCloud::default(),
            obstacle_points: Vec::new(),
            tracks: Vec::new(),
            at,
            came_from,
            stops: Vec::new(),
            parcels: Vec::new(),
            activity: Activity::Idle,
            belief: start,
            cpu: StageCpu::default(),
            idle_since: 0.0,
            junctions: Vec::new(),
            next_junction: 0,
            in_box: false,
        })
    }

    /// The junction ahead of the vehicle (the way it faces at its address): where its next
    /// run starts to branch.
    fn ahead(&self, district: &District) -> usize {
        district
            .forward_chain(self.came_from, self.at)
            .last()
            .copied()
            .unwrap_or(self.at)
    }

    /// Plans the leg to the next stop; `false` when there is none.
    fn start_leg(&mut self, district: &District) -> Result<bool> {
        let Some(&target) = self.stops.first() else {
            self.path = None;
            self.route.clear();
            return Ok(false);
        };
        // Straight on to the next junction (turning back only there), then the fastest route.
        let chain = district.forward_chain(self.came_from, self.at);
        let nodes = match chain.iter().position(|&n| n == target) {
            Some(k) => chain[..=k].to_vec(),
            None => {
                let junction = *chain.last().unwrap_or(&self.at);
                let r = district
                    .graph
                    .route(junction, target)
                    .map_err(|e| invalid(format!("route: {e}")))?
                    .ok_or_else(|| invalid(format!("no route from node {junction} to {target}")))?;
                let mut nodes = chain;
                nodes.extend(r.nodes.into_iter().skip(1));
                nodes
            }
        };
        self.junctions = nodes
            .iter()
            .copied()
            .filter(|&n| district.junction[n])
            .collect();
        self.next_junction = 0;
        self.in_box = false;
        let poses = district.lane_path(&nodes);
        self.route = nodes;
        self.path = (poses.len() >= 2).then(|| FollowPath::new(&poses, None));
        self.rpp = RegulatedPurePursuit::new();
        self.activity = Activity::Driving;
        Ok(true)
    }

    fn believed_pose(&self) -> Pose2 {
        self.filter
            .estimate()
            .map(|e| e.pose.to_pose2())
            .unwrap_or(self.belief)
    }

    /// One 0.1 s tick: sense, perceive, control, drive and localize.
    fn tick(&mut self, ctx: &Ctx, i: usize) -> TickOut {
        match self.tick_inner(ctx, i) {
            Ok(o) => o,
            Err(e) => TickOut {
                error: Some(format!("vehicle {i}: {e}")),
                ..Default::default()
            },
        }
    }

    fn tick_inner(&mut self, ctx: &Ctx, i: usize) -> Result<TickOut> {
        let d = ctx.d;
        let p = &d.vehicle;
        let t = ctx.k as f64 * TICK_S;
        let stamp = Stamp::from_nanos(ctx.k as i64 * SUBSTEPS as i64 * SUB_NS);
        let mut out = TickOut::default();

        // LiDAR sweep from the true sensor pose.
        let c0 = thread_cpu_s();
        let lidar_pose = self.truth.lidar_pose(p);
        let view = ctx
            .district
            .scene
            .with(ctx.dynamic)
            .ignoring(VEHICLE_TAG + i as u32);
        self.lidar
            .scan_into(&view, &lidar_pose, &lidar_pose, stamp, &mut self.cloud)?;
        let c1 = thread_cpu_s();

        // Perception with the believed sensor pose.
        let belief = self.believed_pose();
        let mount = Pose2::new(p.lidar_mount_m[0], 0.0, 0.0);
        let sensor_belief = belief * mount;
        let po = self
            .perception
            .on_cloud(&self.cloud, Some(&sensor_belief))
            .map_err(|e| invalid(format!("perception: {e}")))?;
        self.obstacle_points.clear();
        for o in &po.obstacles {
            let b = &o.bbox;
            if b.length > 30.0 {
                continue;
            }
            outline(b, &sensor_belief, &mut self.obstacle_points);
        }
        self.tracks.clear();
        for tr in po.tracks.iter().filter(|t| t.confirmed) {
            let (l, w, h) = tr.bbox.map_or((0.6, 0.6, 0.0), |b| {
                (b.length as f64, b.width as f64, b.heading as f64)
            });
            self.tracks
                .push((tr.position, [l, w, h + sensor_belief.theta()]));
            let dt = d.control.track_prediction_s;
            if tr.velocity[0].hypot(tr.velocity[1]) > 0.3 {
                self.obstacle_points.push([
                    tr.position[0] + tr.velocity[0] * dt,
                    tr.position[1] + tr.velocity[1] * dt,
                ]);
            }
        }
        // Perception statistics against the truth (sensor frame from the true pose).
        let truth_sensor = self.truth.pose() * mount;
        let inv = truth_sensor.inverse();
        for q in ctx.pedestrians {
            let (dx, dy) = (q[0] - truth_sensor.x(), q[1] - truth_sensor.y());
            let r = dx.hypot(dy);
            if !(0.5..=PEDESTRIAN_RANGE_M).contains(&r) {
                continue;
            }
            // Line of sight at chest height past the static world.
            let o = Vector3::new(truth_sensor.x(), truth_sensor.y(), 1.2);
            let dir = Vector3::new(dx, dy, 0.0);
            let blocked = ctx
                .district
                .scene
                .alone()
                .cast_ray(&o, &dir, r - pedestrians::RADIUS_M)?
                .is_some_and(|h| h.kind != crate::sensors::HitKind::Ground);
            if blocked {
                continue;
            }
            out.pedestrians_present += 1;
            let local = inv.transform_point(&Point2::new(q[0], q[1]));
            if po.obstacles.iter().any(|o| {
                (o.bbox.center[0] as f64 - local.x).hypot(o.bbox.center[1] as f64 - local.y)
                    < DETECTION_MATCH_M
            }) {
                out.pedestrians_detected += 1;
            }
        }
        let c2 = thread_cpu_s();

        // Control from the believed pose.
        let w0 = Instant::now();
        let mut cmd = Twist2::default();
        match self.activity {
            Activity::Driving => {
                if let Some(path) = &self.path {
                    // Without the right of way, the junction box is closed: a virtual obstacle
                    // where the path enters it.
                    if let Some(&j) = self.junctions.get(self.next_junction)
                        && ctx.holder[j] != Some(i)
                        && !self.in_box
                    {
                        let c = ctx.district.graph.nodes[j].pos;
                        if let Some(q) = path.poses[self.rpp.progress.min(path.poses.len())..]
                            .iter()
                            .find(|q| in_box(q[0], q[1], c, ctx.box_half))
                        {
                            self.obstacle_points.push([q[0], q[1]]);
                        }
                    }
                    let world = World {
                        grid: None,
                        points: &self.obstacle_points,
                    };
                    let (c, done) = self.rpp.command(
                        &ctx.control,
                        &ctx.footprint,
                        path,
                        &world,
                        [belief.x(), belief.y(), belief.theta()],
                        self.cmd,
                        TICK_S,
                    );
                    cmd = c;
                    if done && self.truth.speed < 0.05 {
                        out.arrived = self.stops.first().copied();
                    }
                } else {
                    out.arrived = self.stops.first().copied();
                }
            }
            Activity::Dwelling(_) | Activity::Idle => {}
        }
        self.cmd = cmd;
        let steer = self.truth.steer_for(p, &cmd);
        out.control_ms = w0.elapsed().as_secs_f64() * 1e3;
        let c3 = thread_cpu_s();

        // Drive and localize at 100 Hz.
        let odom_every = ((1.0 / d.odometry_hz) / (TICK_S / SUBSTEPS as f64))
            .round()
            .max(1.0) as u64;
        let gnss_every = ((1.0 / d.gnss_hz) / (TICK_S / SUBSTEPS as f64))
            .round()
            .max(1.0) as u64;
        let sub_dt = TICK_S / SUBSTEPS as f64;
        for j in 1..=SUBSTEPS {
            out.moved_m += self.truth.step(p, cmd.vx, steer, sub_dt);
            let n = ctx.k * SUBSTEPS + j;
            let st = Stamp::from_nanos(n as i64 * SUB_NS);
            let truth = self.truth.truth(p, st);
            let imu = self.imu.measure(&truth)?;
            // A rejected or invalid message leaves the filter as it was; the run goes on.
            let _ = self.filter.on_imu(&imu);
            if n.is_multiple_of(odom_every) {
                let o = self.odom.measure(&truth)?;
                let _ = self.filter.on_odometry(&o);
            }
            if n.is_multiple_of(gnss_every)
                && let Some(fix) = self
                    .gnss
                    .measure(st, &Vector3::new(self.truth.x, self.truth.y, 0.0))?
            {
                let _ = self.filter.on_gnss(&fix);
            }
        }
        self.belief = self.believed_pose();
        out.loc_err = (self.belief.x() - self.truth.x).hypot(self.belief.y() - self.truth.y);
        let c4 = thread_cpu_s();
        self.cpu.lidar += c1 - c0;
        self.cpu.perception += c2 - c1;
        self.cpu.control += c3 - c2;
        self.cpu.localization += c4 - c3;
        let _ = t;
        Ok(out)
    }
}

fn in_box(x: f64, y: f64, c: [f64; 2], half: f64) -> bool {
    (x - c[0]).abs() < half && (y - c[1]).abs() < half
}

/// Right of way at junctions: among the vehicles within `request_m` of the box of their next
/// junction, the nearest gets it (ties by vehicle order); it may pass to a nearer one only while
/// the holder is still more than `COMMIT_M` out (so nobody loses it inside its braking
/// distance). A vehicle gives it back once its rear axle (believed) has left the box by more
/// than the rear overhang.
fn junction_rights(
    district: &District,
    vehicles: &mut [Vehicle],
    holder: &mut [Option<usize>],
    half: f64,
    overhang: f64,
    request_m: f64,
) {
    const COMMIT_M: f64 = 6.0;
    // (junction, distance beyond the box edge) each vehicle asks for.
    let mut wants: Vec<Option<(usize, f64)>> = vec![None; vehicles.len()];
    for (i, v) in vehicles.iter_mut().enumerate() {
        if v.activity != Activity::Driving {
            continue;
        }
        let Some(&j) = v.junctions.get(v.next_junction) else {
            continue;
        };
        let c = district.graph.nodes[j].pos;
        let (x, y) = (v.belief.x(), v.belief.y());
        if in_box(x, y, c, half + overhang) {
            v.in_box = true;
        } else if v.in_box {
            // Through: on to the next junction.
            v.in_box = false;
            v.next_junction += 1;
            let Some(&j2) = v.junctions.get(v.next_junction) else {
                continue;
            };
            let c = district.graph.nodes[j2].pos;
            let dist = ((x - c[0]).abs().max((y - c[1]).abs()) - half).max(0.0);
            wants[i] = (dist < request_m).then_some((j2, dist));
            continue;
        }
        let dist = ((x - c[0]).abs().max((y - c[1]).abs()) - half).max(0.0);
        wants[i] = (v.in_box || dist < request_m).then_some((j, if v.in_box { 0.0 } else { dist }));
    }
    for (j, h) in holder.iter_mut().enumerate() {
        // The current holder keeps it only while it still wants it.
        if let Some(hv) = *h
            && wants[hv].map(|w| w.0) != Some(j)
        {
            *h = None;
        }
        let nearest = wants
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.filter(|w| w.0 == j).map(|w| (w.1, i)))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let Some((dn, n)) = nearest else {
            continue;
        };
        match *h {
            None => *h = Some(n),
            Some(hv) => {
                let dh = wants[hv].map_or(0.0, |w| w.1);
                if hv != n && !vehicles[hv].in_box && dh > COMMIT_M && dn + 1.0 < dh {
                    *h = Some(n);
                }
            }
        }
    }
}

/// Outline points of an oriented box (sensor frame) in the map frame, every ≤ 0.4 m.
fn outline(b: &courier_perception::boxes::OrientedBox, sensor: &Pose2, out: &mut Vec<[f64; 2]>) {
    let (l, w) = (b.length as f64 * 0.5, b.width as f64 * 0.5);
    let (s, c) = (b.heading as f64).sin_cos();
    let (cx, cy) = (b.center[0] as f64, b.center[1] as f64);
    let corners = [[l, w], [-l, w], [-l, -w], [l, -w]];
    for k in 0..4 {
        let (a, e) = (corners[k], corners[(k + 1) % 4]);
        let len = (e[0] - a[0]).hypot(e[1] - a[1]);
        let n = (len / 0.4).ceil().max(1.0) as usize;
        for m in 0..n {
            let f = m as f64 / n as f64;
            let (x, y) = (a[0] + f * (e[0] - a[0]), a[1] + f * (e[1] - a[1]));
            let q = sensor.transform_point(&Point2::new(cx + c * x - s * y, cy + s * x + c * y));
            out.push([q.x, q.y]);
        }
    }
}

/// Contact keys: (vehicle, kind, other) with kind 0 = vehicle, 1 = pedestrian, 2 = static.
type Key = (u32, u8, u32);

/// Static solids bucketed on a coarse grid for the contact check.
struct StaticIndex {
    cell: f64,
    buckets: std::collections::HashMap<(i64, i64), Vec<u32>>,
}

impl StaticIndex {
    fn new(objects: &[SceneObject], cell: f64) -> Self {
        let mut buckets: std::collections::HashMap<(i64, i64), Vec<u32>> = Default::default();
        for (k, o) in objects.iter().enumerate() {
            let (c, r) = bounding_disc(&o.solid);
            let (x0, x1) = (
                ((c[0] - r) / cell).floor() as i64,
                ((c[0] + r) / cell).floor() as i64,
            );
            let (y0, y1) = (
                ((c[1] - r) / cell).floor() as i64,
                ((c[1] + r) / cell).floor() as i64,
            );
            for x in x0..=x1 {
                for y in y0..=y1 {
                    buckets.entry((x, y)).or_default().push(k as u32);
                }
            }
        }
        Self { cell, buckets }
    }
    fn near(&self, c: [f64; 2], r: f64, out: &mut Vec<u32>) {
        out.clear();
        let (x0, x1) = (
            ((c[0] - r) / self.cell).floor() as i64,
            ((c[0] + r) / self.cell).floor() as i64,
        );
        let (y0, y1) = (
            ((c[1] - r) / self.cell).floor() as i64,
            ((c[1] + r) / self.cell).floor() as i64,
        );
        for x in x0..=x1 {
            for y in y0..=y1 {
                if let Some(b) = self.buckets.get(&(x, y)) {
                    out.extend_from_slice(b);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Checks every vehicle body against the other vehicles, the pedestrians and the static world.
fn contacts(
    bodies: &[SceneObject],
    people: &[SceneObject],
    statics: &[SceneObject],
    index: &StaticIndex,
    near_miss: f64,
    log: &mut ContactLog<Key>,
) -> crate::collision::ContactEvents {
    let mut touching = HashSet::new();
    let mut near = HashSet::new();
    let mut cand = Vec::new();
    let mut test = |a: &Solid, b: &Solid, key: Key| {
        let (ca, ra) = bounding_disc(a);
        let (cb, rb) = bounding_disc(b);
        if (ca[0] - cb[0]).hypot(ca[1] - cb[1]) > ra + rb + near_miss {
            return;
        }
        let g = solid_gap(a, b);
        if g <= 0.0 {
            touching.insert(key);
        } else if g < near_miss {
            near.insert(key);
        }
    };
    for (i, a) in bodies.iter().enumerate() {
        for (j, b) in bodies.iter().enumerate().skip(i + 1) {
            test(&a.solid, &b.solid, (i as u32, 0, j as u32));
        }
        for (k, q) in people.iter().enumerate() {
            test(&a.solid, &q.solid, (i as u32, 1, k as u32));
        }
        let (c, r) = bounding_disc(&a.solid);
        index.near(c, r + near_miss, &mut cand);
        for &s in &cand {
            test(&a.solid, &statics[s as usize].solid, (i as u32, 2, s));
        }
    }
    if !touching.is_empty() && std::env::var_os("COURIER_SIM_DEBUG").is_some() {
        // (vehicle, kind 0 vehicle / 1 pedestrian / 2 static, other)
        eprintln!("touching: {touching:?}");
    }
    log.update(touching, near)
}

/// Dispatch: gives idle vehicles up to `capacity` waiting parcels each (rounds of optimal
/// assignment by road travel time from where each vehicle's run so far ends) and orders each
/// vehicle's stops with the tour solver; idle vehicles without parcels cruise to a random
/// address so they do not park in a lane.
fn dispatch(
    d: &DeliveryScenario,
    district: &District,
    vehicles: &mut [Vehicle],
    parcels: &mut [Parcel],
    rng: &mut ChaCha8Rng,
    t: f64,
) -> Result<()> {
    let idle: Vec<usize> = (0..vehicles.len())
        .filter(|&v| vehicles[v].activity == Activity::Idle)
        .collect();
    if idle.is_empty() {
        return Ok(());
    }
    let g = &district.graph;
    let mut last: Vec<usize> = idle.iter().map(|&v| vehicles[v].ahead(district)).collect();
    for _round in 0..d.capacity {
        let open: Vec<usize> = (0..parcels.len())
            .filter(|&p| parcels[p].state == ParcelState::Waiting)
            .collect();
        if open.is_empty() {
            break;
        }
        let mut costs = Vec::with_capacity(idle.len() * open.len());
        for &from in &last {
            let times = g
                .times_from(from)
                .map_err(|e| invalid(format!("routing: {e}")))?;
            costs.extend(open.iter().map(|&p| {
                let s = times[parcels[p].node];
                s.is_finite().then(|| (s * 1000.0).round() as i64)
            }));
        }
        let a = assign::optimal(idle.len(), open.len(), &costs)
            .map_err(|e| SimError::Fleet(e.to_string()))?;
        for (r, task) in a.iter().enumerate() {
            if let Some(c) = task {
                let p = open[*c];
                let v = idle[r];
                parcels[p].state = ParcelState::Aboard(v);
                vehicles[v].parcels.push(p);
                last[r] = parcels[p].node;
            }
        }
    }
    for &v in &idle {
        let veh = &mut vehicles[v];
        let mut stops: Vec<usize> = veh.parcels.iter().map(|&p| parcels[p].node).collect();
        stops.sort_unstable();
        stops.dedup();
        if stops.is_empty() {
            // Cruise somewhere after idling a while.
            if t - veh.idle_since < 10.0 {
                continue;
            }
            stops.push(district.addresses[rng.random_range(0..district.addresses.len())]);
        }
        let ahead = veh.ahead(district);
        let tour = order_stops(
            g,
            ahead,
            &stops,
            &TourParams {
                return_to_depot: false,
                ..TourParams::default()
            },
        )
        .map_err(|e| invalid(format!("tour: {e}")))?;
        veh.stops = tour.order.iter().map(|&k| stops[k]).collect();
        veh.start_leg(district)?;
    }
    Ok(())
}

/// Everything the recorder draws at one instant.
#[derive(Debug)]
pub struct Frame<'a> {
    pub t: f64,
    pub district: &'a District,
    pub d: &'a DeliveryScenario,
    pub vehicles: &'a [Vehicle],
    pub crowd: &'a Crowd,
    pub parcels: &'a [Parcel],
}

/// Runs a delivery scenario. `record`: write a Rerun recording there. `progress` is called
/// every simulated second with the simulated time.
pub fn run(
    scenario: &Scenario,
    record: Option<&Path>,
    mut progress: impl FnMut(f64) + Send,
) -> Result<Metrics> {
    let d = scenario
        .delivery
        .as_ref()
        .ok_or_else(|| invalid("not a delivery scenario"))?;
    let wall0 = Instant::now();
    let cpu_process0 = process_cpu_s();
    let seed = scenario.seed;
    let district = District::generate(
        &d.district,
        seed,
        d.addresses_per_side,
        d.vehicle.max_speed,
        d.lane_offset_m,
        d.gnss.origin,
    )?;
    if d.vehicles > district.addresses.len() {
        return Err(invalid(format!(
            "{} vehicles do not fit on the district's {} addresses",
            d.vehicles,
            district.addresses.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(sub_seed(seed, u64::MAX, 0));
    // Start bays: distinct addresses, facing a random way along the street.
    let mut bays = district.addresses.clone();
    for k in 0..d.vehicles {
        let j = rng.random_range(k..bays.len());
        bays.swap(k, j);
    }
    let mut vehicles = Vec::with_capacity(d.vehicles);
    for (i, &at) in bays[..d.vehicles].iter().enumerate() {
        let nb = &district.graph.out[at];
        let came_from = nb[rng.random_range(0..nb.len())].to;
        vehicles.push(Vehicle::new(d, &district, i, seed, at, came_from)?);
    }
    let mut parcels: Vec<Parcel> = Vec::new();
    let release = |parcels: &mut Vec<Parcel>, rng: &mut ChaCha8Rng, t: f64| {
        parcels.push(Parcel {
            node: district.addresses[rng.random_range(0..district.addresses.len())],
            released_s: t,
            state: ParcelState::Waiting,
        });
    };
    for _ in 0..d.parcels {
        release(&mut parcels, &mut rng, 0.0);
    }
    let release_every = if d.parcels_per_hour > 0.0 {
        3600.0 / d.parcels_per_hour
    } else {
        f64::INFINITY
    };
    let mut next_release = release_every;
    let mut crowd = Crowd::new(
        &d.district,
        d.pedestrians,
        d.crossing_prob,
        sub_seed(seed, u64::MAX, 1),
    );
    for &p in &d.standing_pedestrians {
        crowd.add_standing(p);
    }
    let control = control_params(d);
    let footprint = Footprint::new(&control.footprint, 0.25, 16)
        .map_err(|e| invalid(format!("footprint: {e}")))?;
    let statics = district.scene.objects();
    let index = StaticIndex::new(statics, 10.0);
    let mut log = ContactLog::default();
    let recorder = record.map(Recorder::create).transpose()?;
    if let Some(r) = &recorder {
        r.log_district(&district)?;
    }
    let ticks = (scenario.duration_s / TICK_S).round() as u64;
    let record_every = ((1.0 / scenario.record_hz.max(1e-3)) / TICK_S)
        .round()
        .max(1.0) as u64;
    let dispatch_every = (d.dispatch_period_s / TICK_S).round().max(1.0) as u64;
    let ticks_per_s = (1.0 / TICK_S).round() as u64;

    let mut m = Metrics {
        scenario: scenario.name.clone(),
        seed,
        agents: d.vehicles,
        ..Default::default()
    };
    let mut dm = DeliveryMetrics {
        pedestrians: crowd.people.len(),
        ..Default::default()
    };
    let (mut err_sum, mut err_n) = (0.0, 0usize);
    let mut latencies = Vec::new();
    let mut control_ms = Vec::new();
    let outages: Vec<(f64, f64)> = d
        .gnss
        .faults
        .iter()
        .filter_map(|f| match f {
            crate::sensors::GnssFault::Outage { start_s, end_s } => Some((*start_s, *end_s)),
            _ => None,
        })
        .collect();
    let mut last_moved = vec![0.0f64; d.vehicles];
    let mut holder: Vec<Option<usize>> = vec![None; district.graph.nodes.len()];
    let box_half = 0.5 * d.district.street_width_m;

    for k in 0..ticks {
        let t = k as f64 * TICK_S;
        while next_release <= t {
            release(&mut parcels, &mut rng, next_release);
            next_release += release_every;
        }
        if k % dispatch_every == 0 {
            let c0 = thread_cpu_s();
            dispatch(d, &district, &mut vehicles, &mut parcels, &mut rng, t)?;
            dm.dispatch_cpu_ms += (thread_cpu_s() - c0) * 1e3;
        }
        // The movers of this tick, seen by every LiDAR.
        let bodies: Vec<SceneObject> = vehicles
            .iter()
            .enumerate()
            .map(|(i, v)| v.truth.body(&d.vehicle, VEHICLE_TAG + i as u32))
            .collect();
        let people: Vec<SceneObject> = crowd.objects(PEDESTRIAN_TAG).collect();
        let dynamic = DynamicObjects::new(bodies.iter().chain(&people).cloned().collect())?;
        let ped_pos: Vec<[f64; 2]> = crowd.people.iter().map(|q| q.pos).collect();
        let ctx = Ctx {
            d,
            district: &district,
            control: control.clone(),
            footprint: footprint.clone(),
            dynamic: &dynamic,
            pedestrians: &ped_pos,
            holder: &holder,
            box_half,
            k,
        };
        let outs: Vec<TickOut> = vehicles
            .par_iter_mut()
            .enumerate()
            .map(|(i, v)| v.tick(&ctx, i))
            .collect();
        for (i, o) in outs.into_iter().enumerate() {
            if let Some(e) = o.error {
                return Err(SimError::Invalid(e));
            }
            err_sum += o.loc_err;
            err_n += 1;
            m.localization_error_max_m = m.localization_error_max_m.max(o.loc_err);
            if outages.iter().any(|&(a, b)| a <= t && t <= b) {
                dm.localization_error_in_outage_max_m =
                    dm.localization_error_in_outage_max_m.max(o.loc_err);
            }
            dm.pedestrian_observations += o.pedestrians_present;
            dm.pedestrians_detected += o.pedestrians_detected;
            m.distance_driven_m += o.moved_m;
            control_ms.push(o.control_ms);
            if o.moved_m > 1e-3 {
                last_moved[i] = t;
            }
            let v = &mut vehicles[i];
            if let Some(stop) = o.arrived {
                // Hand over every parcel for this address.
                let route = std::mem::take(&mut v.route);
                if route.len() >= 2 {
                    v.came_from = route[route.len() - 2];
                    v.at = stop;
                }
                v.stops.retain(|&s| s != stop);
                let (here, rest): (Vec<usize>, Vec<usize>) =
                    v.parcels.iter().partition(|&&p| parcels[p].node == stop);
                for p in here {
                    parcels[p].state = ParcelState::Delivered;
                    latencies.push(t + TICK_S - parcels[p].released_s);
                    m.tasks_completed += 1;
                }
                v.parcels = rest;
                v.path = None;
                v.activity = Activity::Dwelling(t + d.dwell_s);
            }
            if let Activity::Dwelling(until) = v.activity
                && t + TICK_S >= until
                && !v.start_leg(&district)?
            {
                v.activity = Activity::Idle;
                v.idle_since = t;
            }
        }
        junction_rights(
            &district,
            &mut vehicles,
            &mut holder,
            box_half,
            d.vehicle.rear_overhang_m,
            12.0,
        );
        // Pedestrians walk; then parry checks the new positions.
        let covers: Vec<([f64; 2], f64)> = vehicles
            .iter()
            .map(|v| {
                let (c, r) = bounding_disc(&v.truth.body(&d.vehicle, 0).solid);
                (c, r)
            })
            .collect();
        crowd.step(&d.district, TICK_S, &covers);
        let bodies: Vec<SceneObject> = vehicles
            .iter()
            .map(|v| v.truth.body(&d.vehicle, 0))
            .collect();
        let people: Vec<SceneObject> = crowd.objects(PEDESTRIAN_TAG).collect();
        let ev = contacts(&bodies, &people, statics, &index, d.near_miss_m, &mut log);
        m.collisions += ev.collisions;
        m.near_misses += ev.near_misses;
        if let Some(rec) = &recorder
            && k % record_every == 0
        {
            rec.log_delivery(&Frame {
                t: t + TICK_S,
                district: &district,
                d,
                vehicles: &vehicles,
                crowd: &crowd,
                parcels: &parcels,
            })?;
        }
        if (k + 1) % ticks_per_s == 0 {
            progress((k + 1) as f64 * TICK_S);
        }
    }
    if let Some(r) = recorder {
        r.finish()?;
    }
    let sim_time = ticks as f64 * TICK_S;
    dm.parcels_released = parcels.len();
    for v in &vehicles {
        let c = v.filter.counters();
        dm.gnss_fixes_accepted += c.gnss_accepted as usize;
        dm.gnss_fixes_rejected += c.gnss_rejected as usize;
    }
    dm.parcels_delivered = m.tasks_completed;
    dm.pedestrian_detection_rate = if dm.pedestrian_observations == 0 {
        0.0
    } else {
        dm.pedestrians_detected as f64 / dm.pedestrian_observations as f64
    };
    dm.vehicles_stopped_last_60s = last_moved.iter().filter(|&&t| sim_time - t > 60.0).count();
    if std::env::var_os("COURIER_SIM_DEBUG").is_some() {
        for (i, v) in vehicles.iter().enumerate() {
            if sim_time - last_moved[i] <= 30.0 {
                continue;
            }
            let b = v.belief;
            let near_pt = v
                .obstacle_points
                .iter()
                .map(|q| (q[0] - b.x()).hypot(q[1] - b.y()))
                .fold(f64::INFINITY, f64::min);
            let near_veh = vehicles
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| (o.truth.x - v.truth.x).hypot(o.truth.y - v.truth.y))
                .fold(f64::INFINITY, f64::min);
            let near_ped = crowd
                .people
                .iter()
                .map(|q| (q.pos[0] - v.truth.x).hypot(q.pos[1] - v.truth.y))
                .fold(f64::INFINITY, f64::min);
            eprintln!(
                "stuck {i}: since {:.1} {:?} truth ({:.1},{:.1},{:.2}) belief ({:.1},{:.1},{:.2}) stops {:?} route {:?} progress {} / {} near point {near_pt:.1} vehicle {near_veh:.1} pedestrian {near_ped:.1} cmd {:?}",
                last_moved[i],
                v.activity,
                v.truth.x,
                v.truth.y,
                v.truth.yaw,
                b.x(),
                b.y(),
                b.theta(),
                v.stops,
                v.route,
                v.rpp.progress,
                v.path.as_ref().map_or(0, |p| p.poses.len()),
                v.cmd
            );
        }
    }
    let steps = (ticks as usize * d.vehicles).max(1) as f64;
    let sum = |f: fn(&StageCpu) -> f64| vehicles.iter().map(|v| f(&v.cpu)).sum::<f64>();
    dm.cpu_ms_per_vehicle_tick = StageMs {
        lidar: sum(|c| c.lidar) * 1e3 / steps,
        perception: sum(|c| c.perception) * 1e3 / steps,
        control: sum(|c| c.control) * 1e3 / steps,
        localization: sum(|c| c.localization) * 1e3 / steps,
    };
    m.summarize(&RunTotals {
        sim_time_s: sim_time,
        latencies: &latencies,
        loc_error_sum: err_sum,
        loc_error_samples: err_n,
        planning_ms: &control_ms,
        wall_s: wall0.elapsed().as_secs_f64(),
    });
    dm.process_cpu_s = process_cpu_s() - cpu_process0;
    dm.real_time_factor_cpu = sim_time / dm.process_cpu_s.max(1e-9);
    m.delivery = Some(dm);
    Ok(m)
}

/// CPU time of the whole process (s), from /proc/self/stat (user + system, in clock ticks).
fn process_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let u: f64 = f.get(11)?.parse().ok()?;
            let k: f64 = f.get(12)?.parse().ok()?;
            Some((u + k) / 100.0)
        })
        .unwrap_or(f64::NAN)
}
