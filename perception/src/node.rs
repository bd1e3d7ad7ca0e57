//! The perception node core: PointCloud in → ground mask, obstacles (clusters with oriented
//! boxes) and tracks out. The chain is crop → ground segmentation → obstacle points (non-ground,
//! below a height limit) → voxel downsampling → clustering → L-shape boxes → tracking. All
//! intermediate buffers are kept between frames.

use crate::boxes::{OrientedBox, fit_l_shape};
use crate::cluster::{ClusterParams, Clusterer, NOISE};
use crate::ground::{GroundParams, GroundSegmenter, GroundStats};
use crate::preprocess::{CropParams, VoxelGrid};
use crate::tracking::{Detection, Track, Tracker, TrackerParams};
use courier_core::msgs::PointCloud;
use courier_core::{Pose2, Stamp};
use nalgebra::Point2;
use serde::{Deserialize, Serialize};

/// Parameters of [`Perception`]; one YAML/JSON object, every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PerceptionParams {
    pub crop: CropParams,
    pub ground: GroundParams,
    /// Obstacle points higher than this above the ground level are ignored (overhangs, canopy),
    /// m. Default 2.5.
    pub obstacle_max_height: f32,
    /// Obstacles are clustered within this horizontal range (m). Default 50.
    pub obstacle_range: f32,
    /// Voxel size for obstacle points before clustering (m; 0 = none). Default 0.15.
    pub obstacle_voxel: f32,
    pub cluster: ClusterParams,
    /// Clusters bigger than this footprint (longer side, m) are static structure, not tracked.
    /// Default 12.
    pub track_max_length: f32,
    pub tracker: TrackerParams,
}

impl Default for PerceptionParams {
    fn default() -> Self {
        Self {
            crop: CropParams::default(),
            ground: GroundParams::default(),
            obstacle_max_height: 2.5,
            obstacle_range: 50.0,
            obstacle_voxel: 0.15,
            cluster: ClusterParams::default(),
            track_max_length: 12.0,
            tracker: TrackerParams::default(),
        }
    }
}

/// One obstacle cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Obstacle {
    pub bbox: OrientedBox,
    /// Points in the cluster (after downsampling).
    pub points: usize,
}

/// What one frame produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerceptionOutput {
    pub stamp: Stamp,
    /// One byte per input point, in input order: 1 ground, 0 not (cropped points are 0).
    pub ground_mask: Vec<u8>,
    /// Obstacle clusters in the cloud's frame.
    pub obstacles: Vec<Obstacle>,
    /// Confirmed tracks, in the frame of the pose given to [`Perception::on_cloud`] (the cloud
    /// frame when none).
    pub tracks: Vec<Track>,
    pub ground_stats: GroundStats,
}

/// The perception node core.
#[derive(Debug)]
pub struct Perception {
    params: PerceptionParams,
    ground: GroundSegmenter,
    tracker: Tracker,
    clusterer: Clusterer,
    voxels: VoxelGrid,
    cropped: PointCloud,
    kept: Vec<u32>,
    mask: Vec<u8>,
    obstacle_idx: Vec<u32>,
    obstacle_pts: Vec<[f32; 3]>,
    labels: Vec<u32>,
    members: Vec<Vec<[f32; 3]>>,
    dets: Vec<Detection>,
    last: Option<Stamp>,
    out: PerceptionOutput,
}

impl Perception {
    pub fn new(params: PerceptionParams) -> crate::Result<Self> {
        Ok(Self {
            ground: GroundSegmenter::new(params.ground.clone())?,
            tracker: Tracker::new(params.tracker.clone())?,
            clusterer: Clusterer::default(),
            voxels: VoxelGrid::default(),
            cropped: PointCloud::default(),
            kept: Vec::new(),
            mask: Vec::new(),
            obstacle_idx: Vec::new(),
            obstacle_pts: Vec::new(),
            labels: Vec::new(),
            members: Vec::new(),
            dets: Vec::new(),
            last: None,
            out: PerceptionOutput::default(),
            params,
        })
    }

    pub fn params(&self) -> &PerceptionParams {
        &self.params
    }

    /// Processes one cloud. `pose`: the sensor's pose in a fixed frame (e.g. `odom`) at the
    /// cloud's stamp, so that tracks and their velocities are in that frame; without it, tracks
    /// are in the cloud frame (right only for a standing sensor). Errors: an inconsistent cloud,
    /// or a stamp before the previous cloud's; the state is then unchanged.
    pub fn on_cloud(
        &mut self,
        cloud: &PointCloud,
        pose: Option<&Pose2>,
    ) -> crate::Result<&PerceptionOutput> {
        crate::error::check_cloud(cloud)?;
        if let Some(prev) = self.last
            && cloud.stamp < prev
        {
            return Err(crate::PerceptionError::TimeWentBackwards {
                what: "point cloud",
                stamp_ns: cloud.stamp.nanos(),
                previous_ns: prev.nanos(),
            });
        }
        self.last = Some(cloud.stamp);
        self.params
            .crop
            .apply(cloud, &mut self.cropped, &mut self.kept)?;
        let c = &self.cropped;
        let stats = self.ground.segment(&c.x, &c.y, &c.z, &mut self.mask);
        let out = &mut self.out;
        out.stamp = cloud.stamp;
        out.ground_stats = stats;
        out.ground_mask.clear();
        out.ground_mask.resize(cloud.len(), 0);
        for (j, &i) in self.kept.iter().enumerate() {
            out.ground_mask[i as usize] = self.mask[j];
        }

        // Obstacle points.
        let top = -stats.sensor_height + self.params.obstacle_max_height;
        let r2max = self.params.obstacle_range.powi(2);
        self.obstacle_idx.clear();
        for j in 0..c.len() {
            let (x, y, z) = (c.x[j], c.y[j], c.z[j]);
            if self.mask[j] == 0 && z <= top && x * x + y * y <= r2max {
                self.obstacle_idx.push(j as u32);
            }
        }
        let get = |k: usize| {
            let j = self.obstacle_idx[k] as usize;
            [c.x[j], c.y[j], c.z[j]]
        };
        if self.params.obstacle_voxel > 0.0 {
            self.voxels.downsample(
                self.obstacle_idx.len(),
                get,
                self.params.obstacle_voxel,
                &mut self.obstacle_pts,
            )?;
        } else {
            self.obstacle_pts.clear();
            self.obstacle_pts
                .extend((0..self.obstacle_idx.len()).map(get));
        }
        let k =
            self.clusterer
                .cluster(&self.obstacle_pts, &self.params.cluster, &mut self.labels)?;

        // Boxes.
        for m in &mut self.members {
            m.clear();
        }
        if self.members.len() < k {
            self.members.resize_with(k, Vec::new);
        }
        for (p, &l) in self.obstacle_pts.iter().zip(&self.labels) {
            if l != NOISE {
                self.members[l as usize].push(*p);
            }
        }
        out.obstacles.clear();
        for m in &self.members[..k] {
            if m.len() > self.params.cluster.max_points {
                continue;
            }
            if let Some(bbox) = fit_l_shape(m.iter().copied()) {
                out.obstacles.push(Obstacle {
                    bbox,
                    points: m.len(),
                });
            }
        }

        // Tracks.
        self.dets.clear();
        let dets = out
            .obstacles
            .iter()
            .filter(|o| o.bbox.length <= self.params.track_max_length)
            .map(|o| {
                let (x, y) = (o.bbox.center[0] as f64, o.bbox.center[1] as f64);
                let position = match pose {
                    Some(p) => {
                        let q = p.transform_point(&Point2::new(x, y));
                        [q.x, q.y]
                    }
                    None => [x, y],
                };
                Detection {
                    position,
                    bbox: Some(o.bbox),
                }
            });
        self.dets.extend(dets);
        self.tracker.update(cloud.stamp, &self.dets)?;
        out.tracks.clear();
        out.tracks.extend(self.tracker.tracks());
        Ok(&self.out)
    }
}
