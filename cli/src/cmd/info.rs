//! `courier info FILE`: a human summary of any file Courier reads.

use anyhow::{Result, bail};
use courier_core::OccupancyGrid;
use courier_core::formats::{carmen, kitti, movingai, nav2, pcd};
use courier_core::msgs::PointCloud;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A MovingAI .map or .scen, a CARMEN log (.clf/.log), a Nav2 map (.yaml with its image, or a
    /// bare .pgm), or a point cloud (.pcd, KITTI .bin, nuScenes .pcd.bin).
    pub file: PathBuf,
}

/// The kinds of file `courier info` knows, chosen by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    GridMap,
    Scenario,
    CarmenLog,
    BinCloud,
    Nav2Yaml,
    Pgm,
    Pcd,
}

fn kind_of(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    let ext = name.rsplit('.').next()?;
    Some(match ext {
        "map" => Kind::GridMap,
        "scen" => Kind::Scenario,
        "clf" | "log" => Kind::CarmenLog,
        "bin" => Kind::BinCloud,
        "yaml" | "yml" => Kind::Nav2Yaml,
        "pgm" => Kind::Pgm,
        "pcd" => Kind::Pcd,
        _ => return None,
    })
}

pub fn run(args: Args) -> Result<()> {
    print!("{}", summarize(&args.file)?);
    Ok(())
}

/// The summary text for `path`.
pub fn summarize(path: &Path) -> Result<String> {
    let Some(kind) = kind_of(path) else {
        bail!(
            "{}: unknown file type (expected .map, .scen, .clf, .log, .yaml, .pgm, .pcd, .bin)",
            path.display()
        );
    };
    let mut out = format!("file: {}\n", path.display());
    match kind {
        Kind::GridMap => {
            let m = movingai::read_map(path)?;
            out += &format!(
                "kind: MovingAI grid map\nsize: {} x {} (width x height)\npassable cells: {} of {} ({:.1}%)\n",
                m.width,
                m.height,
                m.passable_count(),
                m.width * m.height,
                100.0 * m.passable_count() as f64 / (m.width * m.height) as f64
            );
        }
        Kind::Scenario => {
            let s = movingai::read_scen(path)?;
            out += &format!("kind: MovingAI scenario\nqueries: {}\n", s.entries.len());
            if let Some(first) = s.entries.first() {
                let maxb = s.entries.iter().map(|e| e.bucket).max().unwrap_or(0);
                let longest = s
                    .entries
                    .iter()
                    .map(|e| e.optimal_length)
                    .fold(0.0, f64::max);
                out += &format!(
                    "map: {} ({} x {})\nbuckets: 0..={maxb}\nlongest optimal length: {longest:.3}\n",
                    first.map_file, first.map_width, first.map_height
                );
            }
        }
        Kind::CarmenLog => {
            let log = carmen::read_log(path)?;
            out += &format!(
                "kind: CARMEN log\nlaser scans: {}\nodometry messages: {}\nparameters: {}\nskipped lines of other message types: {}\n",
                log.lasers.len(),
                log.odometry.len(),
                log.params.len(),
                log.skipped
            );
            if let Some(l) = log.lasers.first() {
                out += &format!(
                    "beams per scan: {} ({:.2} deg step from {:.1} deg)\n",
                    l.ranges.len(),
                    l.angle_increment.to_degrees(),
                    l.start_angle.to_degrees()
                );
            }
            if let Some((a, b)) = log.time_span() {
                out += &format!("time span: {a} .. {b} ({:.1} s)\n", b.seconds_since(a));
            }
            let path_len: f64 = log
                .odometry
                .windows(2)
                .map(|w| (w[1].pose.translation() - w[0].pose.translation()).norm())
                .sum();
            out += &format!("odometry path length: {path_len:.1} m\n");
        }
        Kind::BinCloud => {
            let c = kitti::read_bin_auto(path)?;
            out += &cloud_summary(&c, "float32 point records");
        }
        Kind::Nav2Yaml => {
            let m = nav2::read_map(path)?;
            let meta = &m.meta;
            out += &format!(
                "kind: Nav2 map\nimage: {}\nmode: {:?}, negate: {}, occupied_thresh: {}, free_thresh: {}\n",
                m.image_path.display(),
                meta.mode,
                u8::from(meta.negate),
                meta.occupied_thresh,
                meta.free_thresh
            );
            out += &grid_summary(&m.grid);
        }
        Kind::Pgm => {
            let img = nav2::read_pgm(path)?;
            // Without a yaml, read it as Nav2 would with its usual settings.
            let meta = nav2::MapYaml::new(path, 1.0, [0.0; 3]);
            let grid = nav2::pgm_to_grid(&img, &meta);
            let (free, occ, unknown) = grid.census();
            out += &format!(
                "kind: PGM image\nsize: {} x {} pixels (width x height), maxval {}\nas a Nav2 trinary map (negate 0, occupied_thresh 0.65, free_thresh 0.25): free {free}, occupied {occ}, unknown {unknown}\n",
                img.width, img.height, img.maxval
            );
        }
        Kind::Pcd => {
            let p = pcd::read_pcd(path)?;
            let h = &p.header;
            let fields: Vec<String> = h
                .fields
                .iter()
                .map(|f| {
                    let count = if f.count > 1 {
                        format!("x{}", f.count)
                    } else {
                        String::new()
                    };
                    format!("{}:{:?}{}{count}", f.name, f.kind, f.size)
                })
                .collect();
            out += &cloud_summary(&p.cloud, "PCD");
            out += &format!(
                "format: PCD v{}, DATA {:?}, {} x {} (width x height)\nfields: {}\nviewpoint: {:?}\n",
                h.version,
                h.data,
                h.width,
                h.height,
                fields.join(" "),
                h.viewpoint
            );
            if let Some(t) = &p.cloud.time {
                let (lo, hi) = t
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                let unknown = t.iter().filter(|v| !v.is_finite()).count();
                if lo <= hi {
                    out += &format!(
                        "point times: {lo:.6} .. {hi:.6} s after {} ({unknown} points without a time)\n",
                        p.cloud.stamp
                    );
                }
            }
        }
    }
    Ok(out)
}

fn grid_summary(g: &OccupancyGrid) -> String {
    let (free, occ, unknown) = g.census();
    let (w, h) = (
        g.width() as f64 * g.resolution,
        g.height() as f64 * g.resolution,
    );
    format!(
        "size: {} x {} cells (width x height)\nresolution: {} m/cell\norigin: x {} m, y {} m, yaw {} rad\nextent: {w:.2} x {h:.2} m\ncells: free {free}, occupied {occ}, unknown {unknown}\n",
        g.width(),
        g.height(),
        g.resolution,
        g.origin.x(),
        g.origin.y(),
        g.origin.theta()
    )
}

fn cloud_summary(c: &PointCloud, kind: &str) -> String {
    let finite = (0..c.len())
        .filter(|&i| c.point(i).iter().all(|v| v.is_finite()))
        .count();
    let zeros = (0..c.len()).filter(|&i| c.point(i) == [0.0; 3]).count();
    let mut out = format!(
        "kind: point cloud ({kind})\npoints: {}\nnon-finite points: {}\nno-return (0,0,0) points: {zeros}\n",
        c.len(),
        c.len() - finite
    );
    if let Some((lo, hi)) = c.bounds() {
        out += &format!(
            "extent x: {:.2} .. {:.2} m\nextent y: {:.2} .. {:.2} m\nextent z: {:.2} .. {:.2} m\n",
            lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]
        );
    }
    let (imin, imax) = c
        .intensity
        .iter()
        .filter(|v| v.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    if imin <= imax {
        out += &format!("intensity: {imin:.2} .. {imax:.2}\n");
    }
    if let Some(r) = &c.ring {
        out += &format!(
            "rings: {}\n",
            r.iter()
                .filter(|&&v| v != u16::MAX)
                .max()
                .map_or(0, |m| m + 1)
        );
    }
    out
}
