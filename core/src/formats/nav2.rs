//! Nav2 map-server maps: a `.yaml` description plus a PGM image (binary `P5` or ASCII `P2`).
//!
//! Reading follows nav2_map_server's `loadMapFromFile`: a pixel's shade is `value / maxval`
//! (0 black … 1 white); its occupancy is `1 - shade` (or `shade` when `negate` is set). In
//! `trinary` mode a cell is occupied (100) when occupancy > `occupied_thresh`, free (0) when
//! occupancy < `free_thresh`, unknown (-1) otherwise; `scale` maps the band between the
//! thresholds linearly onto 0..100; `raw` takes `round(shade * 255)` as the value (0..=100, else
//! unknown) and ignores `negate`. The image's top row is the map's highest row: image row `r`
//! becomes occupancy row `height - 1 - r`, because OccupancyGrid row 0 lies at the origin.
//! `origin` is `[x, y, yaw]` of the lower-left corner of cell (0, 0).
//!
//! Writing follows nav2_map_saver: trinary writes 254 free, 0 occupied, 205 unknown; scale writes
//! `255 * (1 - value / 100)` (a PGM has no alpha, so unknown cells are written as 205 and read
//! back as a value between the thresholds); raw writes the value itself (unknown as 255). The
//! saver's unknown grey 205 has occupancy 0.196, so it reads back as unknown only when
//! `free_thresh <= 0.196` (the value ROS map yamls traditionally carry); with Nav2's 0.25 it
//! reads back as free.

use crate::error::{CoreError, FormatError, Location, Result, read_file, read_text};
use crate::geometry::Pose2;
use crate::maps::{FREE, OCCUPIED, OccupancyGrid, UNKNOWN};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How pixel shades become occupancy values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MapMode {
    /// Free, occupied or unknown only.
    #[default]
    Trinary,
    /// Values between the thresholds are scaled onto 0..100.
    Scale,
    /// Pixel values are the occupancy values.
    Raw,
}

/// The contents of a Nav2 map `.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapYaml {
    /// The image path as written (relative paths are relative to the yaml's folder).
    pub image: PathBuf,
    pub mode: MapMode,
    /// Metres per pixel.
    pub resolution: f64,
    /// `[x, y, yaw]` of the lower-left pixel's lower-left corner in the map frame (m, m, rad).
    pub origin: [f64; 3],
    pub negate: bool,
    pub occupied_thresh: f64,
    pub free_thresh: f64,
}

impl MapYaml {
    /// Nav2's usual settings for `image` at `resolution` with origin `origin`.
    pub fn new(image: impl Into<PathBuf>, resolution: f64, origin: [f64; 3]) -> Self {
        Self {
            image: image.into(),
            mode: MapMode::Trinary,
            resolution,
            origin,
            negate: false,
            occupied_thresh: 0.65,
            free_thresh: 0.25,
        }
    }
    pub fn origin_pose(&self) -> Pose2 {
        Pose2::new(self.origin[0], self.origin[1], self.origin[2])
    }
}

/// The yaml as serde sees it; `negate` may be written `0`/`1` or `true`/`false`.
#[derive(Debug, Deserialize)]
struct RawYaml {
    image: PathBuf,
    #[serde(default)]
    mode: MapMode,
    resolution: f64,
    origin: Vec<f64>,
    #[serde(default)]
    negate: Negate,
    occupied_thresh: Option<f64>,
    free_thresh: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Negate {
    #[default]
    Unset,
    Bool(bool),
    Int(i64),
}

/// The 1-based line where `key:` is defined, for errors about its value.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map_or(1, |i| i + 1)
}

/// Reads a Nav2 map `.yaml` (not the image).
pub fn read_yaml(path: impl AsRef<Path>) -> Result<MapYaml> {
    let path = path.as_ref();
    Ok(parse_yaml(&read_text(path)?, path)?)
}

/// Parses the text of a Nav2 map `.yaml`; `file` names it in errors.
pub fn parse_yaml(text: &str, file: impl AsRef<Path>) -> Result<MapYaml, FormatError> {
    let file = file.as_ref();
    let raw: RawYaml = serde_yaml::from_str(text).map_err(|e| {
        let loc = e
            .location()
            .map_or(Location::Line(1), |l| Location::Line(l.line()));
        FormatError::new(file, loc, format!("not a Nav2 map yaml: {e}"))
    })?;
    let at = |key: &str, msg: String| FormatError::at_line(file, key_line(text, key), msg);
    if !(raw.resolution.is_finite() && raw.resolution > 0.0) {
        return Err(at(
            "resolution",
            format!(
                "resolution must be a positive number of metres, got {}",
                raw.resolution
            ),
        ));
    }
    let origin: [f64; 3] = raw
        .origin
        .as_slice()
        .try_into()
        .ok()
        .filter(|o: &[f64; 3]| o.iter().all(|v| v.is_finite()))
        .ok_or_else(|| {
            at(
                "origin",
                format!(
                    "origin must be three finite numbers [x, y, yaw], got {:?}",
                    raw.origin
                ),
            )
        })?;
    let negate = match raw.negate {
        Negate::Unset | Negate::Bool(false) | Negate::Int(0) => false,
        Negate::Bool(true) | Negate::Int(1) => true,
        Negate::Int(n) => return Err(at("negate", format!("negate must be 0 or 1, got {n}"))),
    };
    let occupied_thresh = raw.occupied_thresh.unwrap_or(0.65);
    let free_thresh = raw.free_thresh.unwrap_or(0.25);
    for (key, v) in [
        ("occupied_thresh", occupied_thresh),
        ("free_thresh", free_thresh),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(at(key, format!("{key} must lie in 0..=1, got {v}")));
        }
    }
    if free_thresh > occupied_thresh {
        return Err(at(
            "free_thresh",
            format!("free_thresh {free_thresh} is above occupied_thresh {occupied_thresh}"),
        ));
    }
    Ok(MapYaml {
        image: raw.image,
        mode: raw.mode,
        resolution: raw.resolution,
        origin,
        negate,
        occupied_thresh,
        free_thresh,
    })
}

/// The yaml text for `meta`, as nav2_map_saver writes it.
pub fn yaml_text(meta: &MapYaml) -> String {
    let mode = match meta.mode {
        MapMode::Trinary => "trinary",
        MapMode::Scale => "scale",
        MapMode::Raw => "raw",
    };
    format!(
        "image: {}\nmode: {mode}\nresolution: {}\norigin: [{}, {}, {}]\nnegate: {}\noccupied_thresh: {}\nfree_thresh: {}\n",
        meta.image.display(),
        meta.resolution,
        meta.origin[0],
        meta.origin[1],
        meta.origin[2],
        u8::from(meta.negate),
        meta.occupied_thresh,
        meta.free_thresh
    )
}

/// A grey-level PGM image; `pixels` are row-major from the top-left, each in `0..=maxval`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pgm {
    pub width: usize,
    pub height: usize,
    pub maxval: u16,
    pub pixels: Vec<u16>,
}

/// Reads a PGM image (`P5` binary or `P2` ASCII).
pub fn read_pgm(path: impl AsRef<Path>) -> Result<Pgm> {
    let path = path.as_ref();
    Ok(parse_pgm(&read_file(path)?, path)?)
}

/// Splits PGM header/ASCII text into tokens, skipping `#` comments.
struct Tokens<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// The next token and its byte offset.
    fn next_token(&mut self) -> Option<(&'a [u8], usize)> {
        let b = self.bytes;
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.pos < b.len() && b[self.pos] == b'#' {
                while self.pos < b.len() && b[self.pos] != b'\n' {
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let start = self.pos;
        while self.pos < b.len() && !b[self.pos].is_ascii_whitespace() && b[self.pos] != b'#' {
            self.pos += 1;
        }
        (self.pos > start).then(|| (&b[start..self.pos], start))
    }
}

/// The 1-based line holding byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
}

/// Parses the bytes of a PGM image; `file` names it in errors.
pub fn parse_pgm(bytes: &[u8], file: impl AsRef<Path>) -> Result<Pgm, FormatError> {
    let file = file.as_ref();
    let at = |off: usize, msg: String| FormatError::at_byte(file, off as u64, msg);
    let binary = match bytes.get(..2) {
        Some(b"P5") => true,
        Some(b"P2") => false,
        _ => {
            return Err(at(
                0,
                "not a PGM image: expected the magic number P5 (binary) or P2 (ASCII)".into(),
            ));
        }
    };
    let mut tok = Tokens { bytes, pos: 2 };
    let mut header = [0usize; 3];
    for (k, what) in ["width", "height", "maxval"].iter().enumerate() {
        let (t, off) = tok.next_token().ok_or_else(|| {
            at(
                bytes.len(),
                format!("file ends before the {what} in the header"),
            )
        })?;
        header[k] = std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&v| v > 0 && v <= if k == 2 { 65535 } else { 1 << 16 })
            .ok_or_else(|| {
                at(
                    off,
                    format!(
                        "{what} must be a whole number in 1..={}, got {:?}",
                        if k == 2 { 65535 } else { 1 << 16 },
                        String::from_utf8_lossy(t)
                    ),
                )
            })?;
    }
    let [width, height, maxval] = header;
    let n = width * height;
    // Capacity bounded by the file size, so a garbled header cannot demand a huge allocation
    // (an ASCII pixel takes at least two bytes).
    let mut pixels = Vec::with_capacity(n.min(bytes.len() / if binary { 1 } else { 2 } + 1));
    if binary {
        // Exactly one white-space byte separates maxval from the raster.
        let start = tok.pos + 1;
        let wide = maxval > 255;
        let need = n * if wide { 2 } else { 1 };
        let have = bytes.len().saturating_sub(start);
        if have < need {
            return Err(at(
                bytes.len(),
                format!(
                    "truncated: a {width}x{height} raster needs {need} bytes after the header, the file has {have}"
                ),
            ));
        }
        let raster = &bytes[start..start + need];
        if wide {
            pixels.extend(
                raster
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]])),
            );
        } else {
            pixels.extend(raster.iter().map(|&v| u16::from(v)));
        }
        if let Some(k) = pixels.iter().position(|&v| usize::from(v) > maxval) {
            return Err(at(
                start + if wide { 2 * k } else { k },
                format!("pixel {k} is {} but maxval is {maxval}", pixels[k]),
            ));
        }
    } else {
        for k in 0..n {
            let (t, off) = tok.next_token().ok_or_else(|| {
                FormatError::at_line(
                    file,
                    line_of(bytes, bytes.len()),
                    format!("truncated: file ends after {k} of {n} pixels"),
                )
            })?;
            let v = std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.parse::<u16>().ok())
                .filter(|&v| usize::from(v) <= maxval)
                .ok_or_else(|| {
                    FormatError::at_line(
                        file,
                        line_of(bytes, off),
                        format!(
                            "pixel {k} must be a whole number in 0..={maxval}, got {:?}",
                            String::from_utf8_lossy(t)
                        ),
                    )
                })?;
            pixels.push(v);
        }
    }
    Ok(Pgm {
        width,
        height,
        maxval: maxval as u16,
        pixels,
    })
}

/// The PGM bytes of `img`: `P5` when `binary`, else `P2`.
pub fn pgm_bytes(img: &Pgm, binary: bool) -> Vec<u8> {
    let mut out = format!(
        "{}\n# CREATOR: courier\n{} {}\n{}\n",
        if binary { "P5" } else { "P2" },
        img.width,
        img.height,
        img.maxval
    )
    .into_bytes();
    if binary {
        if img.maxval > 255 {
            out.extend(img.pixels.iter().flat_map(|v| v.to_be_bytes()));
        } else {
            out.extend(img.pixels.iter().map(|&v| v as u8));
        }
    } else {
        for row in img.pixels.chunks(img.width.max(1)) {
            let line: Vec<String> = row.iter().map(u16::to_string).collect();
            out.extend_from_slice(line.join(" ").as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// The occupancy value of one pixel under `meta` (nav2 `loadMapFromFile`).
fn pixel_to_cell(value: u16, maxval: u16, meta: &MapYaml) -> i8 {
    let shade = f64::from(value) / f64::from(maxval);
    let occ = if meta.negate { shade } else { 1.0 - shade };
    match meta.mode {
        MapMode::Trinary | MapMode::Scale if occ > meta.occupied_thresh => OCCUPIED,
        MapMode::Trinary | MapMode::Scale if occ < meta.free_thresh => FREE,
        MapMode::Trinary => UNKNOWN,
        MapMode::Scale => {
            let v = (occ - meta.free_thresh) / (meta.occupied_thresh - meta.free_thresh) * 100.0;
            // Between the thresholds v lies in 0..=100, so the cast cannot wrap.
            v.round_ties_even().clamp(0.0, 100.0) as i8
        }
        MapMode::Raw => {
            let v = (shade * 255.0).round();
            if (0.0..=100.0).contains(&v) {
                v as i8
            } else {
                UNKNOWN
            }
        }
    }
}

/// Converts an image to an occupancy grid under `meta`, flipping rows (image top = map top).
pub fn pgm_to_grid(img: &Pgm, meta: &MapYaml) -> OccupancyGrid {
    let mut g = OccupancyGrid::filled(
        img.width,
        img.height,
        meta.resolution,
        meta.origin_pose(),
        UNKNOWN,
    );
    for (r, row) in img.pixels.chunks_exact(img.width).enumerate() {
        let grid_row = img.height - 1 - r;
        for (c, &v) in row.iter().enumerate() {
            g.data[[grid_row, c]] = pixel_to_cell(v, img.maxval, meta);
        }
    }
    g
}

/// Converts an occupancy grid to an 8-bit image as nav2_map_saver does for `mode` and the
/// thresholds of `meta` (`negate` is not applied: the saver always writes `negate: 0`).
pub fn grid_to_pgm(grid: &OccupancyGrid, meta: &MapYaml) -> Pgm {
    let free_i = (meta.free_thresh * 100.0).round() as i32;
    let occ_i = (meta.occupied_thresh * 100.0).round() as i32;
    let (w, h) = (grid.width(), grid.height());
    let mut pixels = Vec::with_capacity(w * h);
    for r in 0..h {
        for c in 0..w {
            let v = i32::from(grid.data[[h - 1 - r, c]]);
            let p = match meta.mode {
                MapMode::Trinary => {
                    if !(0..=100).contains(&v) {
                        205
                    } else if v <= free_i {
                        254
                    } else if v >= occ_i {
                        0
                    } else {
                        205
                    }
                }
                MapMode::Scale => {
                    if (0..=100).contains(&v) {
                        (255.0 * (1.0 - f64::from(v) / 100.0)).round() as u16
                    } else {
                        205
                    }
                }
                MapMode::Raw => {
                    if (0..=100).contains(&v) {
                        v as u16
                    } else {
                        255
                    }
                }
            };
            pixels.push(p);
        }
    }
    Pgm {
        width: w,
        height: h,
        maxval: 255,
        pixels,
    }
}

/// A Nav2 map as read: its yaml and the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Nav2Map {
    pub meta: MapYaml,
    /// The image file actually read.
    pub image_path: PathBuf,
    pub grid: OccupancyGrid,
}

/// Reads a Nav2 map: the `.yaml` and the image it names.
pub fn read_map(yaml_path: impl AsRef<Path>) -> Result<Nav2Map> {
    let yaml_path = yaml_path.as_ref();
    let meta = read_yaml(yaml_path)?;
    let image_path = if meta.image.is_absolute() {
        meta.image.clone()
    } else {
        yaml_path
            .parent()
            .unwrap_or(Path::new(""))
            .join(&meta.image)
    };
    let ext = image_path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase());
    if ext.as_deref() != Some("pgm") {
        return Err(FormatError::at_line(
            yaml_path,
            key_line(&read_text(yaml_path)?, "image"),
            format!(
                "image {} is not a .pgm; only PGM images are supported",
                meta.image.display()
            ),
        )
        .into());
    }
    let img = read_pgm(&image_path)?;
    let grid = pgm_to_grid(&img, &meta);
    Ok(Nav2Map {
        meta,
        image_path,
        grid,
    })
}

/// Writes `grid` as a Nav2 map: `yaml_path` and, beside it, the image named by `meta.image`
/// (binary P5). `meta.resolution` and `meta.origin` are taken from the grid.
pub fn write_map(yaml_path: impl AsRef<Path>, grid: &OccupancyGrid, meta: &MapYaml) -> Result<()> {
    let yaml_path = yaml_path.as_ref();
    let mut meta = meta.clone();
    meta.resolution = grid.resolution;
    meta.origin = [grid.origin.x(), grid.origin.y(), grid.origin.theta()];
    meta.negate = false;
    let image_path = yaml_path
        .parent()
        .unwrap_or(Path::new(""))
        .join(&meta.image);
    let img = grid_to_pgm(grid, &meta);
    std::fs::write(&image_path, pgm_bytes(&img, true))
        .map_err(|e| CoreError::io(&image_path, e))?;
    std::fs::write(yaml_path, yaml_text(&meta)).map_err(|e| CoreError::io(yaml_path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "image: m.pgm\nmode: trinary\nresolution: 0.05\norigin: [-1.0, 2.0, 0.5]\nnegate: 0\noccupied_thresh: 0.65\nfree_thresh: 0.196\n";

    #[test]
    fn parses_yaml_and_reports_bad_values_by_line() {
        let m = parse_yaml(YAML, "m.yaml").unwrap();
        assert_eq!(m.origin, [-1.0, 2.0, 0.5]);
        assert_eq!(
            (m.mode, m.negate, m.free_thresh),
            (MapMode::Trinary, false, 0.196)
        );
        let bad = YAML.replace("[-1.0, 2.0, 0.5]", "[-1.0, 2.0]");
        let e = parse_yaml(&bad, "m.yaml").unwrap_err();
        assert!(e.to_string().starts_with("m.yaml:4: origin must be"), "{e}");
        let e = parse_yaml(&YAML.replace("0.05", "-2"), "m.yaml").unwrap_err();
        assert_eq!(e.location, Location::Line(3));
        let e = parse_yaml(&YAML.replace("trinary", "fancy"), "m.yaml").unwrap_err();
        assert_eq!(e.location, Location::Line(2), "{e}");
        let e = parse_yaml(&YAML.replace("negate: 0", "negate: 3"), "m.yaml").unwrap_err();
        assert!(e.to_string().contains("m.yaml:5: negate"), "{e}");
        let e = parse_yaml("resolution: 0.1\n", "m.yaml").unwrap_err();
        assert!(e.to_string().contains("image"), "{e}");
        let m = parse_yaml(&YAML.replace("negate: 0", "negate: true"), "m.yaml").unwrap();
        assert!(m.negate);
        assert_eq!(parse_yaml(&yaml_text(&m), "again.yaml").unwrap(), m);
    }

    #[test]
    fn trinary_scale_raw_and_negate_follow_nav2() {
        let mut meta = MapYaml::new("x.pgm", 1.0, [0.0; 3]);
        // 205 (the saver's "unknown" grey) has occupancy 0.196 < 0.25: free under these
        // thresholds, unknown only when free_thresh <= 0.196 (hence ROS maps' 0.196).
        assert_eq!(pixel_to_cell(254, 255, &meta), FREE);
        assert_eq!(pixel_to_cell(0, 255, &meta), OCCUPIED);
        assert_eq!(pixel_to_cell(128, 255, &meta), UNKNOWN);
        assert_eq!(pixel_to_cell(205, 255, &meta), FREE);
        meta.free_thresh = 0.196;
        assert_eq!(pixel_to_cell(205, 255, &meta), UNKNOWN);
        meta.free_thresh = 0.25;
        meta.negate = true;
        assert_eq!(pixel_to_cell(254, 255, &meta), OCCUPIED);
        assert_eq!(pixel_to_cell(0, 255, &meta), FREE);
        meta.negate = false;
        meta.mode = MapMode::Scale;
        // occ = 1 - 128/255 = 0.498 → (0.498 - 0.25) / 0.4 * 100 = 62.0 → 62
        assert_eq!(pixel_to_cell(128, 255, &meta), 62);
        assert_eq!(pixel_to_cell(200, 255, &meta), FREE);
        assert_eq!(pixel_to_cell(60, 255, &meta), OCCUPIED);
        meta.mode = MapMode::Raw;
        assert_eq!(pixel_to_cell(37, 255, &meta), 37);
        assert_eq!(pixel_to_cell(101, 255, &meta), UNKNOWN);
        assert_eq!(pixel_to_cell(37 * 257, 65535, &meta), 37);
    }

    #[test]
    fn image_top_row_is_the_highest_map_row() {
        // 2 wide, 3 high: top row black (occupied), bottom row white (free), middle grey.
        let img = parse_pgm(b"P2\n# c\n2 3\n255\n0 0\n128 128\n255 254\n", "t.pgm").unwrap();
        let g = pgm_to_grid(&img, &MapYaml::new("t.pgm", 0.5, [1.0, 2.0, 0.0]));
        assert_eq!(g.data[[2, 0]], OCCUPIED);
        assert_eq!(g.data[[1, 1]], UNKNOWN);
        assert_eq!(g.data[[0, 1]], FREE);
        // Cell (col 0, row 2) is the top-left pixel; its centre is at (1.25, 3.25).
        assert_eq!(g.cell_to_world(0, 2), (1.25, 3.25));
        let back = grid_to_pgm(&g, &MapYaml::new("t.pgm", 0.5, [0.0; 3]));
        assert_eq!(back.pixels, vec![0, 0, 205, 205, 254, 254]);
    }

    #[test]
    fn raw_mode_round_trips_and_scale_keeps_the_thresholds() {
        let mut g = OccupancyGrid::filled(4, 3, 0.1, Pose2::new(1.0, -2.0, 0.25), FREE);
        for (k, v) in g.data.iter_mut().enumerate() {
            *v = [0, 1, 37, 64, 65, 99, 100, -1, 50, 20, 80, 10][k];
        }
        let dir = std::env::temp_dir().join(format!("courier-nav2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = MapYaml {
            mode: MapMode::Raw,
            ..MapYaml::new("raw.pgm", 0.1, [0.0; 3])
        };
        write_map(dir.join("raw.yaml"), &g, &raw).unwrap();
        let back = read_map(dir.join("raw.yaml")).unwrap();
        assert_eq!(back.grid, g);
        assert_eq!(back.meta.origin, [1.0, -2.0, 0.25]);
        let scale = MapYaml {
            mode: MapMode::Scale,
            ..MapYaml::new("scale.pgm", 0.1, [0.0; 3])
        };
        write_map(dir.join("scale.yaml"), &g, &scale).unwrap();
        let s = read_map(dir.join("scale.yaml")).unwrap().grid;
        // Above occupied_thresh (65 %) → 100, below free_thresh (25 %) → 0, between: scaled.
        assert_eq!(s.data[[1, 2]], OCCUPIED); // 80
        assert_eq!(s.data[[0, 1]], FREE); // 1
        // 50 → pixel 128 → occupancy 0.498 → (0.498 - 0.25) / 0.4 → 62 (8-bit pixels lose a bit).
        assert_eq!(s.data[[2, 0]], 62);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn huge_garbled_sizes_fail_without_allocating() {
        let e = parse_pgm(b"P2\n65536 65536\n255\n0 0 0\n", "h.pgm").unwrap_err();
        assert!(
            e.to_string().contains("after 3 of 4294967296 pixels"),
            "{e}"
        );
        let e = parse_pgm(b"P5\n65536 65536\n65535\n\0\0", "h.pgm").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn pgm_round_trips_and_rejects_bad_files() {
        let img = Pgm {
            width: 3,
            height: 2,
            maxval: 255,
            pixels: vec![0, 1, 2, 253, 254, 255],
        };
        for binary in [true, false] {
            assert_eq!(parse_pgm(&pgm_bytes(&img, binary), "r.pgm").unwrap(), img);
        }
        let wide = Pgm {
            maxval: 1000,
            pixels: vec![0, 999, 1000, 7, 256, 3],
            ..img.clone()
        };
        assert_eq!(parse_pgm(&pgm_bytes(&wide, true), "w.pgm").unwrap(), wide);
        let b = pgm_bytes(&img, true);
        let e = parse_pgm(&b[..b.len() - 2], "t.pgm").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert_eq!(e.location, Location::Byte(b.len() as u64 - 2));
        let e = parse_pgm(b"P6\n1 1\n255\n\0\0\0", "t.pgm").unwrap_err();
        assert_eq!(e.location, Location::Byte(0));
        let e = parse_pgm(b"P2\n2 1\n255\n0\nx\n", "t.pgm").unwrap_err();
        assert!(e.to_string().starts_with("t.pgm:5: pixel 1"), "{e}");
        let e = parse_pgm(b"P2\n2 1\n255\n0 256\n", "t.pgm").unwrap_err();
        assert!(e.to_string().contains("0..=255"), "{e}");
        let e = parse_pgm(b"P5\n2 -1\n255\n", "t.pgm").unwrap_err();
        assert!(e.to_string().contains("@ byte 5: height"), "{e}");
    }
}
