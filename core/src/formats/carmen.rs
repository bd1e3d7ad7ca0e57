//! CARMEN robot logs (`.clf`, `.log`): one message per line, `#` comments. Laser messages
//! (FLASER, RLASER, ROBOTLASER1) and ODOM are read; PARAM lines are kept; other message types
//! are counted and skipped. The `ipc_timestamp` text of every message is kept exactly as written,
//! because ground-truth relation files refer to scans by that text.

use crate::error::{FormatError, Result, read_text};
use crate::geometry::Pose2;
use crate::msgs::LaserScan;
use crate::time::Stamp;
use std::path::Path;

/// Ranges at or beyond this are "no return" in FLASER/RLASER messages, which carry no maximum
/// (SICK scanners log about 81.9 m for no echo).
pub const FLASER_MAX_RANGE: f32 = 81.0;

/// Which message a laser record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaserKind {
    Front,
    Rear,
    Robot,
}

/// A laser message.
#[derive(Debug, Clone, PartialEq)]
pub struct LaserRecord {
    pub kind: LaserKind,
    pub start_angle: f64,
    pub angle_increment: f64,
    pub max_range: f32,
    pub ranges: Vec<f32>,
    /// Laser pose in the odometry frame at scan time.
    pub laser_pose: Pose2,
    /// Robot odometry pose at scan time.
    pub odom_pose: Pose2,
    /// The ipc_timestamp exactly as written in the log.
    pub ipc_timestamp: String,
    pub stamp: Stamp,
    /// 1-based line in the log.
    pub line: usize,
}

impl LaserRecord {
    /// The scan as a [`LaserScan`] in frame `laser`.
    pub fn to_scan(&self) -> LaserScan {
        LaserScan {
            stamp: self.stamp,
            frame_id: "laser".into(),
            angle_min: self.start_angle as f32,
            angle_increment: self.angle_increment as f32,
            range_min: 0.0,
            range_max: self.max_range,
            ranges: self.ranges.clone(),
            intensities: Vec::new(),
        }
    }
    /// Pose of the laser in the robot frame (constant mounting offset), from the two poses.
    pub fn laser_offset(&self) -> Pose2 {
        self.odom_pose.between(&self.laser_pose)
    }
}

/// An ODOM message.
#[derive(Debug, Clone, PartialEq)]
pub struct OdomRecord {
    pub pose: Pose2,
    pub tv: f64,
    pub rv: f64,
    pub accel: f64,
    pub ipc_timestamp: String,
    pub stamp: Stamp,
    pub line: usize,
}

/// A parsed CARMEN log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CarmenLog {
    pub lasers: Vec<LaserRecord>,
    pub odometry: Vec<OdomRecord>,
    /// PARAM name/value pairs, in order.
    pub params: Vec<(String, String)>,
    /// Lines of message types this reader does not know (they are skipped).
    pub skipped: usize,
}

impl CarmenLog {
    /// (first, last) time stamp over all laser and odometry messages.
    pub fn time_span(&self) -> Option<(Stamp, Stamp)> {
        let stamps = self
            .lasers
            .iter()
            .map(|l| l.stamp)
            .chain(self.odometry.iter().map(|o| o.stamp));
        stamps.fold(None, |acc, s| match acc {
            None => Some((s, s)),
            Some((a, b)) => Some((a.min(s), b.max(s))),
        })
    }
}

/// Reads a CARMEN log file.
pub fn read_log(path: impl AsRef<Path>) -> Result<CarmenLog> {
    let path = path.as_ref();
    Ok(parse_log(&read_text(path)?, path)?)
}

/// Cursor over the whitespace-separated fields of one line, with errors that name the line.
struct Fields<'a> {
    words: Vec<&'a str>,
    pos: usize,
    file: &'a Path,
    line: usize,
    kind: &'a str,
}

impl<'a> Fields<'a> {
    fn err(&self, msg: impl Into<String>) -> FormatError {
        FormatError::at_line(
            self.file,
            self.line,
            format!("{}: {}", self.kind, msg.into()),
        )
    }
    fn word(&mut self, what: &str) -> Result<&'a str, FormatError> {
        let w =
            self.words.get(self.pos).copied().ok_or_else(|| {
                self.err(format!("line ends before {what} (field {})", self.pos + 1))
            })?;
        self.pos += 1;
        Ok(w)
    }
    /// A number; NaN and infinities are allowed only where `allow_nonfinite` (laser ranges).
    fn num(&mut self, what: &str, allow_nonfinite: bool) -> Result<f64, FormatError> {
        let w = self.word(what)?;
        let v: f64 = w
            .parse()
            .map_err(|_| self.err(format!("{what} is not a number: {w:?}")))?;
        if !allow_nonfinite && !v.is_finite() {
            return Err(self.err(format!("{what} is not finite: {w:?}")));
        }
        Ok(v)
    }
    fn finite(&mut self, what: &str) -> Result<f64, FormatError> {
        self.num(what, false)
    }
    fn count(&mut self, what: &str) -> Result<usize, FormatError> {
        let w = self.word(what)?;
        w.parse::<usize>()
            .ok()
            .filter(|&n| n <= 100_000)
            .ok_or_else(|| self.err(format!("{what} must be a count, got {w:?}")))
    }
    fn pose(&mut self, what: &str) -> Result<Pose2, FormatError> {
        let x = self.finite(&format!("{what} x"))?;
        let y = self.finite(&format!("{what} y"))?;
        let t = self.finite(&format!("{what} theta"))?;
        Ok(Pose2::new(x, y, t))
    }
    fn ranges(&mut self, n: usize) -> Result<Vec<f32>, FormatError> {
        (0..n)
            .map(|i| self.num(&format!("range {i}"), true).map(|v| v as f32))
            .collect()
    }
    /// The trailer `ipc_timestamp ipc_hostname logger_timestamp`.
    fn trailer(&mut self) -> Result<(String, Stamp), FormatError> {
        let text = self.word("ipc_timestamp")?;
        let secs: f64 = text
            .parse()
            .map_err(|_| self.err(format!("ipc_timestamp is not a number: {text:?}")))?;
        let stamp = Stamp::from_secs_f64(secs)
            .ok_or_else(|| self.err(format!("ipc_timestamp out of range: {text:?}")))?;
        self.word("ipc_hostname")?;
        self.finite("logger_timestamp")?;
        if self.pos != self.words.len() {
            return Err(self.err(format!(
                "{} unexpected fields after logger_timestamp",
                self.words.len() - self.pos
            )));
        }
        Ok((text.to_string(), stamp))
    }
}

/// The beam geometry of a FLASER/RLASER message, which carries none: a 180° field of view,
/// counter-clockwise from -90°; an odd count includes both ends (181 → 1°, 361 → 0.5°),
/// an even one does not (180 → 1°, 360 → 0.5°).
fn flaser_geometry(n: usize) -> (f64, f64) {
    let fov = std::f64::consts::PI;
    let step = if n % 2 == 1 {
        fov / (n.max(2) - 1) as f64
    } else {
        fov / n.max(1) as f64
    };
    (-fov / 2.0, step)
}

/// Parses the text of a CARMEN log; `file` names it in errors.
pub fn parse_log(text: &str, file: impl AsRef<Path>) -> Result<CarmenLog, FormatError> {
    let file = file.as_ref();
    let mut log = CarmenLog::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words: Vec<&str> = line.split_whitespace().collect();
        let kind = words.remove(0);
        let mut f = Fields {
            words,
            pos: 0,
            file,
            line: i + 1,
            kind,
        };
        match kind {
            "FLASER" | "RLASER" => {
                let n = f.count("beam count")?;
                let ranges = f.ranges(n)?;
                let laser_pose = f.pose("laser pose")?;
                let odom_pose = f.pose("odometry pose")?;
                let (ipc_timestamp, stamp) = f.trailer()?;
                let (start_angle, angle_increment) = flaser_geometry(n);
                log.lasers.push(LaserRecord {
                    kind: if kind == "FLASER" {
                        LaserKind::Front
                    } else {
                        LaserKind::Rear
                    },
                    start_angle,
                    angle_increment,
                    max_range: FLASER_MAX_RANGE,
                    ranges,
                    laser_pose,
                    odom_pose,
                    ipc_timestamp,
                    stamp,
                    line: i + 1,
                });
            }
            "ROBOTLASER1" => {
                f.finite("laser type")?;
                let start_angle = f.finite("start_angle")?;
                let fov = f.finite("fov")?;
                let angle_increment = f.finite("angular resolution")?;
                let max_range = f.finite("max_range")? as f32;
                f.finite("accuracy")?;
                f.finite("remission_mode")?;
                let n = f.count("beam count")?;
                if n > 1 && (angle_increment * (n - 1) as f64 - fov).abs() > angle_increment + 1e-6
                {
                    return Err(f.err(format!(
                        "{n} beams at {angle_increment} rad do not span the fov {fov} rad"
                    )));
                }
                let ranges = f.ranges(n)?;
                let n_rem = f.count("remission count")?;
                for k in 0..n_rem {
                    f.num(&format!("remission {k}"), true)?;
                }
                let laser_pose = f.pose("laser pose")?;
                let odom_pose = f.pose("robot pose")?;
                for what in [
                    "tv",
                    "rv",
                    "forward_safety_dist",
                    "side_safety_dist",
                    "turn_axis",
                ] {
                    f.finite(what)?;
                }
                let (ipc_timestamp, stamp) = f.trailer()?;
                log.lasers.push(LaserRecord {
                    kind: LaserKind::Robot,
                    start_angle,
                    angle_increment,
                    max_range,
                    ranges,
                    laser_pose,
                    odom_pose,
                    ipc_timestamp,
                    stamp,
                    line: i + 1,
                });
            }
            "ODOM" => {
                let pose = f.pose("pose")?;
                let tv = f.finite("tv")?;
                let rv = f.finite("rv")?;
                let accel = f.finite("accel")?;
                let (ipc_timestamp, stamp) = f.trailer()?;
                log.odometry.push(OdomRecord {
                    pose,
                    tv,
                    rv,
                    accel,
                    ipc_timestamp,
                    stamp,
                    line: i + 1,
                });
            }
            "PARAM" => {
                let name = f.word("name")?.to_string();
                let value = f.words[f.pos..].join(" ");
                log.params.push((name, value));
            }
            _ => log.skipped += 1,
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FL: &str = "FLASER 4 1.0 2.0 81.91 nan 0.1 0.2 0.3 0.0 0.0 0.3 976052857.310768 nwr 0.5";

    #[test]
    fn reads_flaser_odom_and_keeps_timestamp_text() {
        let text = format!(
            "# comment\nPARAM robot_name x\n{FL}\nODOM 1 2 0.5 0.1 0.0 0 976052857.400000 nwr 0.6\nTRUEPOS 1 2 3\n"
        );
        let log = parse_log(&text, "t.clf").unwrap();
        assert_eq!(log.lasers.len(), 1);
        let l = &log.lasers[0];
        assert_eq!(l.ipc_timestamp, "976052857.310768");
        assert_eq!(l.ranges.len(), 4);
        assert!(l.ranges[3].is_nan());
        assert!((l.start_angle + std::f64::consts::FRAC_PI_2).abs() < 1e-12);
        assert!((l.angle_increment - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
        let off = l.laser_offset();
        assert!((off.x() - 0.1 * 0.3f64.cos() - 0.2 * 0.3f64.sin()).abs() < 1e-9);
        assert_eq!(log.odometry[0].ipc_timestamp, "976052857.400000");
        assert_eq!(log.skipped, 1);
        assert_eq!(log.params, vec![("robot_name".into(), "x".into())]);
        let scan = l.to_scan();
        assert_eq!(scan.points().count(), 2, "81.91 and NaN are no-returns");
    }

    #[test]
    fn rejects_truncated_and_garbled_lines() {
        let cut = &FL[..FL.len() - 10];
        let e = parse_log(&format!("# x\n{cut}\n"), "t.clf").unwrap_err();
        assert_eq!(e.location, crate::Location::Line(2));
        assert!(e.to_string().contains("FLASER"), "{e}");
        let e = parse_log("ODOM 1 2 zz 0 0 0 1.0 h 1.0\n", "t.clf").unwrap_err();
        assert!(e.to_string().contains("pose theta is not a number"), "{e}");
        let e = parse_log("ODOM 1 2 inf 0 0 0 1.0 h 1.0\n", "t.clf").unwrap_err();
        assert!(e.to_string().contains("not finite"), "{e}");
        let e = parse_log("FLASER 999999999 1\n", "t.clf").unwrap_err();
        assert!(e.to_string().contains("beam count"), "{e}");
        let e = parse_log(&format!("{FL} extra\n"), "t.clf").unwrap_err();
        assert!(e.to_string().contains("unexpected fields"), "{e}");
    }

    #[test]
    fn reads_robotlaser1() {
        let line = "ROBOTLASER1 0 -1.5708 3.1416 1.5708 50.0 0.01 0 3 1.0 2.0 3.0 0 0.1 0 0 0 0 0 0.3 0.0 0.5 0.2 0.7 5.0 h 5.1";
        let log = parse_log(line, "r.log").unwrap();
        let l = &log.lasers[0];
        assert_eq!(
            (l.kind, l.max_range, l.ranges.len()),
            (LaserKind::Robot, 50.0, 3)
        );
        assert_eq!(l.ipc_timestamp, "5.0");
    }
}
