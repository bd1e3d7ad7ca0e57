//! MovingAI grid benchmark files: `.map` grids and `.scen` scenarios (grid path finding and MAPF
//! use the same format). CRLF line endings are accepted.
//!
//! ```
//! use courier_core::formats::movingai;
//! let map = movingai::parse_map("type octile\nheight 2\nwidth 3\nmap\n..@\nT.G\n", "inline.map").unwrap();
//! assert_eq!((map.width, map.height, map.passable_count()), (3, 2, 4));
//! ```

use crate::error::{FormatError, Result, read_text};
use crate::maps::GridMap;
use std::path::Path;

/// Is `c` a passable terrain character? `.`, `G` (ground), `S` (swamp / LoRR service point) and
/// `E` (LoRR emitter) are passable; `@`, `O`, `T` (trees) and `W` (water) are not.
fn terrain(c: u8) -> Option<bool> {
    match c {
        b'.' | b'G' | b'S' | b'E' => Some(true),
        b'@' | b'O' | b'T' | b'W' => Some(false),
        _ => None,
    }
}

/// Reads a MovingAI `.map` file.
pub fn read_map(path: impl AsRef<Path>) -> Result<GridMap> {
    let path = path.as_ref();
    Ok(parse_map(&read_text(path)?, path)?)
}

/// Parses the text of a MovingAI `.map`; `file` names it in errors.
pub fn parse_map(text: &str, file: impl AsRef<Path>) -> Result<GridMap, FormatError> {
    let file = file.as_ref();
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate();
    let (mut width, mut height) = (None, None);
    let mut header_end = None;
    for (i, line) in lines.by_ref() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("type"), _) => {}
            (Some(key @ ("height" | "width")), Some(v)) => {
                let n: usize = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0 && n <= 1 << 16)
                    .ok_or_else(|| {
                        FormatError::at_line(
                            file,
                            i + 1,
                            format!("{key} must be a whole number in 1..=65536, got {v:?}"),
                        )
                    })?;
                if key == "height" {
                    height = Some(n)
                } else {
                    width = Some(n)
                }
            }
            (Some("map"), None) => {
                header_end = Some(i);
                break;
            }
            (None, _) => {}
            _ => {
                return Err(FormatError::at_line(
                    file,
                    i + 1,
                    format!("unexpected header line {line:?}"),
                ));
            }
        }
    }
    let header_end = header_end
        .ok_or_else(|| FormatError::at_line(file, 1, "missing the `map` line ending the header"))?;
    let height = height
        .ok_or_else(|| FormatError::at_line(file, header_end + 1, "header has no `height`"))?;
    let width =
        width.ok_or_else(|| FormatError::at_line(file, header_end + 1, "header has no `width`"))?;
    // Bounded by the text size so a garbled header cannot demand a huge allocation.
    let mut passable = Vec::with_capacity((width * height).min(text.len()));
    for row in 0..height {
        let ends = || {
            FormatError::at_line(
                file,
                header_end + 2 + row,
                format!("file ends after {row} of {height} map rows"),
            )
        };
        let (i, line) = lines.next().ok_or_else(ends)?;
        if line.is_empty() {
            return Err(ends());
        }
        let bytes = line.as_bytes();
        if bytes.len() != width {
            return Err(FormatError::at_line(
                file,
                i + 1,
                format!("row {row} has {} cells, expected {width}", bytes.len()),
            ));
        }
        for (x, &c) in bytes.iter().enumerate() {
            passable.push(terrain(c).ok_or_else(|| {
                FormatError::at_line(
                    file,
                    i + 1,
                    format!("unknown terrain {:?} at column {x}", c as char),
                )
            })?);
        }
    }
    if let Some((i, line)) = lines.find(|(_, l)| !l.trim().is_empty()) {
        return Err(FormatError::at_line(
            file,
            i + 1,
            format!("unexpected text after the {height} map rows: {line:?}"),
        ));
    }
    Ok(GridMap::new(width, height, passable))
}

/// One query of a `.scen` file.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenEntry {
    pub bucket: u32,
    /// The map column as written; informational only (MAPF scens often hold foreign paths).
    pub map_file: String,
    pub map_width: usize,
    pub map_height: usize,
    pub start: (usize, usize),
    pub goal: (usize, usize),
    /// Octile shortest-path length (0 where the file does not give it).
    pub optimal_length: f64,
}

/// A MovingAI scenario file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    pub entries: Vec<ScenEntry>,
}

impl Scenario {
    /// Checks every entry against `map`: sizes agree, starts and goals are passable cells.
    pub fn check_against(&self, map: &GridMap, file: impl AsRef<Path>) -> Result<(), FormatError> {
        for (k, e) in self.entries.iter().enumerate() {
            let line = k + 2;
            if (e.map_width, e.map_height) != (map.width, map.height) {
                return Err(FormatError::at_line(
                    &file,
                    line,
                    format!(
                        "scenario is for a {}x{} map but the map is {}x{}",
                        e.map_width, e.map_height, map.width, map.height
                    ),
                ));
            }
            for (what, (x, y)) in [("start", e.start), ("goal", e.goal)] {
                if !map.is_passable(x as i64, y as i64) {
                    return Err(FormatError::at_line(
                        &file,
                        line,
                        format!("{what} ({x}, {y}) is not a passable cell of the map"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Reads a MovingAI `.scen` file.
pub fn read_scen(path: impl AsRef<Path>) -> Result<Scenario> {
    let path = path.as_ref();
    Ok(parse_scen(&read_text(path)?, path)?)
}

/// Parses the text of a `.scen`; `file` names it in errors.
pub fn parse_scen(text: &str, file: impl AsRef<Path>) -> Result<Scenario, FormatError> {
    let file = file.as_ref();
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate();
    match lines.next() {
        Some((_, l)) if l.split_whitespace().next() == Some("version") => {}
        Some((_, l)) => {
            return Err(FormatError::at_line(
                file,
                1,
                format!("expected `version 1`, got {l:?}"),
            ));
        }
        None => return Err(FormatError::at_line(file, 1, "empty scenario file")),
    }
    let mut entries = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: String| FormatError::at_line(file, i + 1, msg);
        // Tab-separated so the map column may hold spaces; fall back to white space.
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        if fields.len() != 9 {
            return Err(err(format!("expected 9 fields, found {}", fields.len())));
        }
        let int = |k: usize, name: &str| -> Result<usize, FormatError> {
            fields[k].parse::<usize>().map_err(|_| {
                err(format!(
                    "{name} must be a non-negative integer, got {:?}",
                    fields[k]
                ))
            })
        };
        let optimal_length: f64 = fields[8]
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| {
                err(format!(
                    "optimal length must be a finite non-negative number, got {:?}",
                    fields[8]
                ))
            })?;
        let e = ScenEntry {
            bucket: int(0, "bucket")? as u32,
            map_file: fields[1].to_string(),
            map_width: int(2, "map width")?,
            map_height: int(3, "map height")?,
            start: (int(4, "start x")?, int(5, "start y")?),
            goal: (int(6, "goal x")?, int(7, "goal y")?),
            optimal_length,
        };
        for (what, (x, y)) in [("start", e.start), ("goal", e.goal)] {
            if x >= e.map_width || y >= e.map_height {
                return Err(err(format!(
                    "{what} ({x}, {y}) lies outside the {}x{} map",
                    e.map_width, e.map_height
                )));
            }
        }
        entries.push(e);
    }
    Ok(Scenario { entries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_crlf_maps_and_rejects_garbage() {
        let m = parse_map(
            "type octile\r\nheight 2\r\nwidth 2\r\nmap\r\n.@\r\nSW\r\n",
            "a.map",
        )
        .unwrap();
        assert_eq!(m.passable, vec![true, false, true, false]);
        let e = parse_map("type octile\nheight 3\nwidth 2\nmap\n..\n..\n", "t.map").unwrap_err();
        assert_eq!(e.location, crate::Location::Line(7));
        assert!(e.to_string().contains("ends after 2 of 3"), "{e}");
        let e = parse_map("type octile\nheight 1\nwidth 2\nmap\n.x\n", "t.map").unwrap_err();
        assert!(
            e.to_string().starts_with("t.map:5: unknown terrain 'x'"),
            "{e}"
        );
        let e = parse_map("type octile\nheight 1\nwidth 3\nmap\n..\n", "t.map").unwrap_err();
        assert!(e.to_string().contains("2 cells, expected 3"), "{e}");
        assert!(parse_map("", "t.map").is_err());
        assert!(parse_map("type octile\nheight -1\nwidth 2\nmap\n", "t.map").is_err());
    }

    #[test]
    fn parses_scen_lines_and_checks_bounds() {
        let text = "version 1\n0\tsome/where/x.map\t4\t3\t0\t0\t3\t2\t3.82842712\n";
        let s = parse_scen(text, "x.scen").unwrap();
        assert_eq!(s.entries[0].goal, (3, 2));
        assert!((s.entries[0].optimal_length - 3.82842712).abs() < 1e-12);
        let e = parse_scen("version 1\n0\tm\t4\t3\t0\t0\t4\t2\t1\n", "x.scen").unwrap_err();
        assert!(
            e.to_string().contains("x.scen:2: goal (4, 2) lies outside"),
            "{e}"
        );
        assert!(parse_scen("version 1\n0\tm\t4\t3\t0\t0\n", "x.scen").is_err());
        assert!(parse_scen("hello\n", "x.scen").is_err());
        let map = GridMap::new(4, 3, vec![true; 12]);
        s.check_against(&map, "x.scen").unwrap();
        let blocked = GridMap::new(4, 3, (0..12).map(|i| i != 11).collect());
        assert!(s.check_against(&blocked, "x.scen").is_err());
    }
}
