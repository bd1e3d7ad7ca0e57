//! PCD point clouds (Point Cloud Library format, v0.6/v0.7): `ascii`, `binary` and
//! `binary_compressed` (LZF) data; any field types and sizes (`I`/`U` 1, 2, 4, 8 bytes, `F` 4, 8),
//! `COUNT`s, organised (`HEIGHT` > 1) or not. Fields `x y z` are required; `intensity` (or `i`,
//! `reflectance`), `ring` and a per-point time (`time`/`t`/`timestamp`) are kept when present;
//! other fields are skipped. Writing supports all three (LZF compression is done here).
//!
//! Layouts: `ascii` has one text line per point; `binary` packs each point's fields in order
//! (array of structures); `binary_compressed` holds two little-endian u32 (compressed and
//! uncompressed size) and then LZF data that expands to one block per field (structure of arrays).
//!
//! Per-point time becomes [`PointCloud::time`] in seconds. Float fields are seconds; integer
//! fields are nanoseconds (the Ouster driver's `t`). When the field holds absolute times (> 1e6 s,
//! e.g. the `timestamp` F8 of Ouster PCDs) the cloud's `stamp` is the earliest one and `time`
//! holds offsets from it; a zero there marks a point without a return and its time is NaN.

use crate::error::{CoreError, FormatError, Result, read_file};
use crate::msgs::PointCloud;
use crate::time::Stamp;
use std::fmt::Write as _;
use std::path::Path;

/// How the point data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Ascii,
    Binary,
    BinaryCompressed,
}

/// Element type of a field: signed, unsigned integer or float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    I,
    U,
    F,
}

/// One `FIELDS` entry with its `SIZE`, `TYPE` and `COUNT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcdField {
    pub name: String,
    pub size: usize,
    pub kind: FieldType,
    pub count: usize,
}

/// A PCD header.
#[derive(Debug, Clone, PartialEq)]
pub struct PcdHeader {
    pub version: String,
    pub fields: Vec<PcdField>,
    pub width: usize,
    pub height: usize,
    pub points: usize,
    /// `VIEWPOINT tx ty tz qw qx qy qz`: the sensor pose the points were acquired from.
    pub viewpoint: [f64; 7],
    pub data: DataKind,
    /// Byte offset of the point data (just after the `DATA` line).
    pub data_offset: usize,
}

impl PcdHeader {
    /// Bytes per point in the binary layouts.
    pub fn point_size(&self) -> usize {
        self.fields.iter().map(|f| f.size * f.count).sum()
    }
    pub fn field(&self, name: &str) -> Option<&PcdField> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A PCD file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcd {
    pub header: PcdHeader,
    pub cloud: PointCloud,
}

/// Reads a PCD file.
pub fn read_pcd(path: impl AsRef<Path>) -> Result<Pcd> {
    let path = path.as_ref();
    Ok(parse_pcd(&read_file(path)?, path)?)
}

/// Parses the header; `file` names it in errors.
pub fn parse_header(bytes: &[u8], file: impl AsRef<Path>) -> Result<PcdHeader, FormatError> {
    let file = file.as_ref();
    let mut version = String::from("0.7");
    let mut fields: Vec<String> = Vec::new();
    let (mut sizes, mut types, mut counts): (Option<Vec<usize>>, Option<Vec<FieldType>>, _) =
        (None, None, None::<Vec<usize>>);
    let (mut width, mut height, mut points) = (None, None, None);
    let mut points_line = 0;
    let mut viewpoint = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let mut pos = 0;
    let mut line_no = 0;
    let (data, data_offset, data_line) = loop {
        line_no += 1;
        if pos >= bytes.len() {
            return Err(FormatError::at_line(
                file,
                line_no,
                "file ends before the DATA line ending the header",
            ));
        }
        let end = bytes[pos..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(bytes.len(), |k| pos + k);
        let raw = &bytes[pos..end];
        pos = (end + 1).min(bytes.len());
        let err = |msg: String| FormatError::at_line(file, line_no, msg);
        let text = std::str::from_utf8(raw)
            .map_err(|_| err("header line is not text (missing DATA line?)".into()))?;
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut words = text.split_whitespace();
        let key = words.next().unwrap_or_default().to_ascii_uppercase();
        let vals: Vec<&str> = words.collect();
        let nums = |what: &str| -> Result<Vec<usize>, FormatError> {
            vals.iter()
                .map(|v| {
                    v.parse::<usize>()
                        .map_err(|_| err(format!("{what} must be whole numbers, got {v:?}")))
                })
                .collect()
        };
        let one = |what: &str| -> Result<usize, FormatError> {
            match nums(what)?.as_slice() {
                [n] => Ok(*n),
                _ => Err(err(format!("{what} takes one number, got {}", vals.len()))),
            }
        };
        match key.as_str() {
            "VERSION" => version = vals.join(" "),
            "FIELDS" | "COLUMNS" => fields = vals.iter().map(|s| s.to_string()).collect(),
            "SIZE" => sizes = Some(nums("SIZE")?),
            "COUNT" => counts = Some(nums("COUNT")?),
            "TYPE" => {
                types = Some(
                    vals.iter()
                        .map(|v| match *v {
                            "I" | "i" => Ok(FieldType::I),
                            "U" | "u" => Ok(FieldType::U),
                            "F" | "f" => Ok(FieldType::F),
                            _ => Err(err(format!("TYPE must be I, U or F, got {v:?}"))),
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
            "WIDTH" => width = Some(one("WIDTH")?),
            "HEIGHT" => height = Some(one("HEIGHT")?),
            "POINTS" => {
                points = Some(one("POINTS")?);
                points_line = line_no;
            }
            "VIEWPOINT" => {
                let v: Vec<f64> = vals
                    .iter()
                    .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| err(format!("VIEWPOINT values must be numbers: {text:?}")))?;
                viewpoint = v.try_into().map_err(|v: Vec<f64>| {
                    err(format!(
                        "VIEWPOINT takes 7 numbers (tx ty tz qw qx qy qz), got {}",
                        v.len()
                    ))
                })?;
            }
            "DATA" => {
                let kind = match vals.first().map(|s| s.to_ascii_lowercase()).as_deref() {
                    Some("ascii") => DataKind::Ascii,
                    Some("binary") => DataKind::Binary,
                    Some("binary_compressed") => DataKind::BinaryCompressed,
                    _ => {
                        return Err(err(format!(
                            "DATA must be ascii, binary or binary_compressed, got {:?}",
                            vals.join(" ")
                        )));
                    }
                };
                break (kind, pos, line_no);
            }
            _ => return Err(err(format!("unknown header line {text:?}"))),
        }
    };
    let at = |msg: String| FormatError::at_line(file, data_line, msg);
    if fields.is_empty() {
        return Err(at("header has no FIELDS".into()));
    }
    let n = fields.len();
    let sizes = sizes.ok_or_else(|| at("header has no SIZE".into()))?;
    let types = types.ok_or_else(|| at("header has no TYPE".into()))?;
    let counts = counts.unwrap_or_else(|| vec![1; n]);
    for (what, len) in [
        ("SIZE", sizes.len()),
        ("TYPE", types.len()),
        ("COUNT", counts.len()),
    ] {
        if len != n {
            return Err(at(format!("{what} has {len} entries for {n} FIELDS")));
        }
    }
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let (name, size, kind, count) = (&fields[k], sizes[k], types[k], counts[k]);
        let ok = match kind {
            FieldType::F => matches!(size, 4 | 8),
            _ => matches!(size, 1 | 2 | 4 | 8),
        };
        if !ok || count == 0 || count > 4096 {
            return Err(at(format!(
                "field {name:?} has unsupported SIZE {size} / TYPE {kind:?} / COUNT {count}"
            )));
        }
        out.push(PcdField {
            name: name.clone(),
            size,
            kind,
            count,
        });
    }
    for axis in ["x", "y", "z"] {
        match out.iter().find(|f| f.name == axis) {
            None => return Err(at(format!("no field {axis:?}: x, y and z are required"))),
            Some(f) if f.count != 1 => {
                return Err(at(format!("field {axis:?} has COUNT {}", f.count)));
            }
            Some(_) => {}
        }
    }
    let width = width.ok_or_else(|| at("header has no WIDTH".into()))?;
    let height = height.ok_or_else(|| at("header has no HEIGHT".into()))?;
    let wh = width
        .checked_mul(height)
        .ok_or_else(|| at("WIDTH x HEIGHT overflows".into()))?;
    let points = points.unwrap_or(wh);
    if points != wh {
        return Err(FormatError::at_line(
            file,
            points_line,
            format!("POINTS {points} differs from WIDTH x HEIGHT = {width} x {height}"),
        ));
    }
    Ok(PcdHeader {
        version,
        fields: out,
        width,
        height,
        points,
        viewpoint,
        data,
        data_offset,
    })
}

/// Per-point times above this many seconds are absolute (since an epoch), not offsets.
const ABSOLUTE_TIME: f64 = 1e6;

/// The first `N` bytes of `b` (fixed-size, so the copy compiles to a load).
fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0; N];
    a.copy_from_slice(&b[..N]);
    a
}

/// Decodes element 0 of one field value as f64; `b` holds at least `f.size` bytes.
fn decode(b: &[u8], f: &PcdField) -> f64 {
    match (f.kind, f.size) {
        (FieldType::F, 4) => f64::from(f32::from_le_bytes(le(b))),
        (FieldType::F, _) => f64::from_le_bytes(le(b)),
        (FieldType::U, 1) => f64::from(b[0]),
        (FieldType::U, 2) => f64::from(u16::from_le_bytes(le(b))),
        (FieldType::U, 4) => f64::from(u32::from_le_bytes(le(b))),
        (FieldType::U, _) => u64::from_le_bytes(le(b)) as f64,
        (FieldType::I, 1) => f64::from(b[0] as i8),
        (FieldType::I, 2) => f64::from(i16::from_le_bytes(le(b))),
        (FieldType::I, 4) => f64::from(i32::from_le_bytes(le(b))),
        (FieldType::I, _) => i64::from_le_bytes(le(b)) as f64,
    }
}

/// The role of a field in the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    X,
    Y,
    Z,
    Intensity,
    Ring,
    Time,
}

fn roles(header: &PcdHeader) -> Vec<(usize, Role)> {
    let find = |names: &[&str]| {
        header
            .fields
            .iter()
            .position(|f| names.contains(&f.name.as_str()))
    };
    [
        (find(&["x"]), Role::X),
        (find(&["y"]), Role::Y),
        (find(&["z"]), Role::Z),
        (
            find(&["intensity", "i", "reflectance", "remission"]),
            Role::Intensity,
        ),
        (find(&["ring"]), Role::Ring),
        (find(&["time", "t", "timestamp"]), Role::Time),
    ]
    .into_iter()
    .filter_map(|(k, r)| k.map(|k| (k, r)))
    .collect()
}

/// Builds the cloud from per-field value getters.
fn assemble(header: &PcdHeader, mut value: impl FnMut(usize, usize) -> f64) -> PointCloud {
    let n = header.points;
    let mut cloud = PointCloud::with_capacity(n);
    let roles = roles(header);
    let col = |role: Role, value: &mut dyn FnMut(usize, usize) -> f64| -> Option<Vec<f64>> {
        let (k, _) = roles.iter().find(|(_, r)| *r == role)?;
        Some((0..n).map(|i| value(*k, i)).collect())
    };
    let as_f32 = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    cloud.x = col(Role::X, &mut value).map(as_f32).unwrap_or_default();
    cloud.y = col(Role::Y, &mut value).map(as_f32).unwrap_or_default();
    cloud.z = col(Role::Z, &mut value).map(as_f32).unwrap_or_default();
    cloud.intensity = col(Role::Intensity, &mut value).map_or_else(|| vec![0.0; n], as_f32);
    cloud.ring = col(Role::Ring, &mut value).map(|v| {
        v.into_iter()
            .map(|r| {
                if r.is_finite() && (0.0..65535.0).contains(&r) {
                    r as u16
                } else {
                    u16::MAX
                }
            })
            .collect()
    });
    if let Some(t) = col(Role::Time, &mut value) {
        let integer = roles
            .iter()
            .find(|(_, r)| *r == Role::Time)
            .is_some_and(|(k, _)| header.fields[*k].kind != FieldType::F);
        let secs: Vec<f64> = if integer {
            t.iter().map(|v| v * 1e-9).collect()
        } else {
            t
        };
        // Absolute times (seconds since an epoch) become the stamp plus offsets; in such a field
        // a zero marks a point without a return (Ouster), so its time is unknown (NaN).
        let absolute = |v: f64| v.is_finite() && v > ABSOLUTE_TIME;
        let base = secs
            .iter()
            .copied()
            .filter(|&v| absolute(v))
            .fold(f64::INFINITY, f64::min);
        if base.is_finite() {
            cloud.stamp = Stamp::from_secs_f64(base).unwrap_or_default();
            cloud.time = Some(
                secs.into_iter()
                    .map(|v| {
                        if absolute(v) {
                            (v - base) as f32
                        } else {
                            f32::NAN
                        }
                    })
                    .collect(),
            );
        } else {
            cloud.time = Some(secs.into_iter().map(|v| v as f32).collect());
        }
    }
    cloud
}

/// Parses a PCD file's bytes; `file` names it in errors.
pub fn parse_pcd(bytes: &[u8], file: impl AsRef<Path>) -> Result<Pcd, FormatError> {
    let file = file.as_ref();
    let header = parse_header(bytes, file)?;
    let n = header.points;
    let rec = header.point_size();
    let body = &bytes[header.data_offset..];
    let start = header.data_offset as u64;
    let cloud = match header.data {
        DataKind::Ascii => parse_ascii(bytes, &header, file)?,
        DataKind::Binary => {
            let need = n.checked_mul(rec).ok_or_else(|| {
                FormatError::at_byte(file, start, "POINTS x point size overflows")
            })?;
            if body.len() < need {
                return Err(FormatError::at_byte(
                    file,
                    bytes.len() as u64,
                    format!(
                        "truncated: {n} points of {rec} bytes need {need} bytes of data, the file has {}",
                        body.len()
                    ),
                ));
            }
            let offs = field_offsets(&header);
            assemble(&header, |k, i| {
                let o = i * rec + offs[k];
                decode(&body[o..o + header.fields[k].size], &header.fields[k])
            })
        }
        DataKind::BinaryCompressed => {
            if body.len() < 8 {
                return Err(FormatError::at_byte(
                    file,
                    bytes.len() as u64,
                    "truncated: binary_compressed data needs an 8-byte size header",
                ));
            }
            let csize = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
            let usize_ = u32::from_le_bytes([body[4], body[5], body[6], body[7]]) as usize;
            let need = n.saturating_mul(rec);
            if usize_ != need {
                return Err(FormatError::at_byte(
                    file,
                    start + 4,
                    format!(
                        "uncompressed size {usize_} differs from {n} points x {rec} bytes = {need}"
                    ),
                ));
            }
            if body.len() - 8 < csize {
                return Err(FormatError::at_byte(
                    file,
                    bytes.len() as u64,
                    format!(
                        "truncated: {csize} bytes of compressed data announced, the file has {}",
                        body.len() - 8
                    ),
                ));
            }
            let raw = lzf_decompress(&body[8..8 + csize], usize_).map_err(|(at, msg)| {
                FormatError::at_byte(file, start + 8 + at as u64, format!("LZF data: {msg}"))
            })?;
            // Structure of arrays: each field's values for all points, one block after another.
            let mut bases = Vec::with_capacity(header.fields.len());
            let mut b = 0;
            for f in &header.fields {
                bases.push(b);
                b += n * f.size * f.count;
            }
            assemble(&header, |k, i| {
                let f = &header.fields[k];
                let o = bases[k] + i * f.size * f.count;
                decode(&raw[o..o + f.size], f)
            })
        }
    };
    Ok(Pcd { header, cloud })
}

/// Byte offset of each field inside a binary (array-of-structures) point record.
fn field_offsets(header: &PcdHeader) -> Vec<usize> {
    let mut offs = Vec::with_capacity(header.fields.len());
    let mut o = 0;
    for f in &header.fields {
        offs.push(o);
        o += f.size * f.count;
    }
    offs
}

fn parse_ascii(bytes: &[u8], header: &PcdHeader, file: &Path) -> Result<PointCloud, FormatError> {
    let body = &bytes[header.data_offset..];
    let first_line = 1 + bytes[..header.data_offset]
        .iter()
        .filter(|&&c| c == b'\n')
        .count();
    let text = std::str::from_utf8(body).map_err(|e| {
        FormatError::at_byte(
            file,
            (header.data_offset + e.valid_up_to()) as u64,
            "ascii point data is not text",
        )
    })?;
    let n = header.points;
    let per_point: usize = header.fields.iter().map(|f| f.count).sum();
    // Column of element 0 of each field.
    let mut cols = Vec::with_capacity(header.fields.len());
    let mut c = 0;
    for f in &header.fields {
        cols.push(c);
        c += f.count;
    }
    let mut values: Vec<f64> = Vec::with_capacity(n.min(1 << 24) * header.fields.len());
    let mut lines = text.split('\n').enumerate();
    let mut read = 0;
    while read < n {
        let Some((i, line)) = lines.next() else {
            return Err(FormatError::at_line(
                file,
                first_line + text.split('\n').count(),
                format!("truncated: file ends after {read} of {n} points"),
            ));
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |msg: String| FormatError::at_line(file, first_line + i, msg);
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() != per_point {
            return Err(err(format!(
                "point {read} has {} values, expected {per_point}",
                words.len()
            )));
        }
        for (k, &c) in cols.iter().enumerate() {
            let w = words[c];
            let v: f64 = w.parse().map_err(|_| {
                err(format!(
                    "field {:?} of point {read} is not a number: {w:?}",
                    header.fields[k].name
                ))
            })?;
            values.push(v);
        }
        read += 1;
    }
    if let Some((i, line)) = lines.find(|(_, l)| !l.trim().is_empty()) {
        return Err(FormatError::at_line(
            file,
            first_line + i,
            format!("unexpected data after {n} points: {:?}", line.trim()),
        ));
    }
    let nf = header.fields.len();
    Ok(assemble(header, |k, i| values[i * nf + k]))
}

/// Decompresses LZF data (liblzf's format, as PCL writes it) into exactly `out_len` bytes.
/// Errors carry the offset in `input` where the data went wrong.
pub fn lzf_decompress(input: &[u8], out_len: usize) -> Result<Vec<u8>, (usize, String)> {
    // LZF expands at most ~132x (a 3-byte back-reference yields 264 bytes): a larger claim is
    // garbage, and refusing it avoids a huge allocation.
    if out_len > input.len().saturating_mul(132) + 64 {
        return Err((
            0,
            format!(
                "{} compressed bytes cannot expand to {out_len}",
                input.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        let at = ip;
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            let lit = input
                .get(ip..ip + len)
                .ok_or_else(|| (at, format!("literal run of {len} bytes runs past the end")))?;
            if out.len() + len > out_len {
                return Err((at, format!("output exceeds the expected {out_len} bytes")));
            }
            out.extend_from_slice(lit);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(
                    *input
                        .get(ip)
                        .ok_or_else(|| (at, "back-reference cut off".to_string()))?,
                );
                ip += 1;
            }
            len += 2;
            let low = usize::from(
                *input
                    .get(ip)
                    .ok_or_else(|| (at, "back-reference cut off".to_string()))?,
            );
            ip += 1;
            let dist = ((ctrl & 0x1f) << 8) + low + 1;
            if dist > out.len() {
                return Err((
                    at,
                    format!(
                        "back-reference {dist} bytes back, before the start of the output ({} bytes)",
                        out.len()
                    ),
                ));
            }
            if out.len() + len > out_len {
                return Err((at, format!("output exceeds the expected {out_len} bytes")));
            }
            let from = out.len() - dist;
            if dist >= len {
                out.extend_from_within(from..from + len);
            } else {
                // The source overlaps what is being written (a run): copy byte by byte.
                for k in 0..len {
                    out.push(out[from + k]);
                }
            }
        }
    }
    if out.len() != out_len {
        return Err((
            input.len(),
            format!("data expands to {} bytes, expected {out_len}", out.len()),
        ));
    }
    Ok(out)
}

/// Compresses `input` in liblzf's format (greedy matching over a hash of 3-byte prefixes), as
/// PCL's `binary_compressed` expects.
pub fn lzf_compress(input: &[u8]) -> Vec<u8> {
    const MAX_DIST: usize = 1 << 13;
    const MAX_LEN: usize = 264;
    let n = input.len();
    let mut out = Vec::with_capacity(n / 2 + 16);
    let mut table = vec![usize::MAX; 1 << 14];
    let flush = |out: &mut Vec<u8>, lit: &[u8]| {
        for chunk in lit.chunks(32) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
    };
    let (mut i, mut lit_start) = (0, 0);
    while i + 2 < n {
        let key =
            u32::from(input[i]) << 16 | u32::from(input[i + 1]) << 8 | u32::from(input[i + 2]);
        let h = (key.wrapping_mul(2_654_435_761) >> 18) as usize & ((1 << 14) - 1);
        let cand = table[h];
        table[h] = i;
        if cand != usize::MAX && i - cand <= MAX_DIST && input[cand..cand + 3] == input[i..i + 3] {
            let max = MAX_LEN.min(n - i);
            let mut len = 3;
            while len < max && input[cand + len] == input[i + len] {
                len += 1;
            }
            flush(&mut out, &input[lit_start..i]);
            let dist = i - cand - 1;
            let l = len - 2;
            if l < 7 {
                out.push(((l << 5) | (dist >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (dist >> 8)) as u8);
                out.push((l - 7) as u8);
            }
            out.push((dist & 0xff) as u8);
            i += len;
            lit_start = i;
        } else {
            i += 1;
        }
    }
    flush(&mut out, &input[lit_start..]);
    out
}

/// The fields a written cloud carries: x y z intensity (F4), then ring (U2) and time (F4, seconds
/// from the stamp) when present.
fn written_fields(cloud: &PointCloud) -> Vec<(&'static str, usize, char)> {
    let mut f = vec![
        ("x", 4, 'F'),
        ("y", 4, 'F'),
        ("z", 4, 'F'),
        ("intensity", 4, 'F'),
    ];
    if cloud.ring.is_some() {
        f.push(("ring", 2, 'U'));
    }
    if cloud.time.is_some() {
        f.push(("time", 4, 'F'));
    }
    f
}

/// The bytes of `cloud` as a PCD v0.7 file (unorganised: `HEIGHT 1`).
pub fn pcd_bytes(cloud: &PointCloud, kind: DataKind) -> Result<Vec<u8>> {
    if !cloud.is_consistent() {
        return Err(CoreError::Invalid(
            "point cloud fields have different lengths".into(),
        ));
    }
    let fields = written_fields(cloud);
    let list = |f: &dyn Fn(&(&str, usize, char)) -> String| {
        fields.iter().map(f).collect::<Vec<_>>().join(" ")
    };
    let n = cloud.len();
    let data = match kind {
        DataKind::Ascii => "ascii",
        DataKind::Binary => "binary",
        DataKind::BinaryCompressed => "binary_compressed",
    };
    let mut out = format!(
        "# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {}\nSIZE {}\nTYPE {}\nCOUNT {}\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {data}\n",
        list(&|f| f.0.to_string()),
        list(&|f| f.1.to_string()),
        list(&|f| f.2.to_string()),
        list(&|_| "1".to_string()),
    );
    let ring = cloud.ring.as_deref();
    let time = cloud.time.as_deref();
    if kind == DataKind::Ascii {
        // PCL writes "nan"; Rust's `{}` writes "NaN" (both parse back).
        let num = |v: f32| {
            if v.is_nan() {
                "nan".to_string()
            } else {
                v.to_string()
            }
        };
        for i in 0..n {
            let _ = write!(
                out,
                "{} {} {} {}",
                num(cloud.x[i]),
                num(cloud.y[i]),
                num(cloud.z[i]),
                num(cloud.intensity[i])
            );
            if let Some(r) = ring {
                let _ = write!(out, " {}", r[i]);
            }
            if let Some(t) = time {
                let _ = write!(out, " {}", num(t[i]));
            }
            out.push('\n');
        }
        return Ok(out.into_bytes());
    }
    let mut bytes = out.into_bytes();
    if kind == DataKind::BinaryCompressed {
        // Structure of arrays: all x, then all y, ..., then LZF over the whole block.
        let mut soa = Vec::with_capacity(n * 22);
        for col in [&cloud.x, &cloud.y, &cloud.z, &cloud.intensity] {
            soa.extend(col.iter().flat_map(|v| v.to_le_bytes()));
        }
        if let Some(r) = ring {
            soa.extend(r.iter().flat_map(|v| v.to_le_bytes()));
        }
        if let Some(t) = time {
            soa.extend(t.iter().flat_map(|v| v.to_le_bytes()));
        }
        let packed = lzf_compress(&soa);
        let too_big = |_| CoreError::Invalid("cloud too large for binary_compressed".into());
        bytes.extend(u32::try_from(packed.len()).map_err(too_big)?.to_le_bytes());
        bytes.extend(u32::try_from(soa.len()).map_err(too_big)?.to_le_bytes());
        bytes.extend(packed);
        return Ok(bytes);
    }
    for i in 0..n {
        for v in [cloud.x[i], cloud.y[i], cloud.z[i], cloud.intensity[i]] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(r) = ring {
            bytes.extend_from_slice(&r[i].to_le_bytes());
        }
        if let Some(t) = time {
            bytes.extend_from_slice(&t[i].to_le_bytes());
        }
    }
    Ok(bytes)
}

/// Writes `cloud` as a PCD file.
pub fn write_pcd(path: impl AsRef<Path>, cloud: &PointCloud, kind: DataKind) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, pcd_bytes(cloud, kind)?).map_err(|e| CoreError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Location;

    fn sample() -> PointCloud {
        let mut c = PointCloud::default();
        c.push(1.0, 2.0, 3.0, 10.0);
        c.push(-0.5, f32::NAN, 1e-3, 0.0);
        c.push(100.25, -7.0, 0.0, 255.0);
        c.ring = Some(vec![0, 63, 7]);
        c.time = Some(vec![0.0, 0.05, 0.099]);
        c
    }

    fn same(a: &PointCloud, b: &PointCloud) {
        assert_eq!(a.len(), b.len());
        for i in 0..a.len() {
            for (u, v) in [
                (a.x[i], b.x[i]),
                (a.y[i], b.y[i]),
                (a.z[i], b.z[i]),
                (a.intensity[i], b.intensity[i]),
            ] {
                assert!(u == v || (u.is_nan() && v.is_nan()), "{u} vs {v}");
            }
        }
        assert_eq!(a.ring, b.ring);
        assert_eq!(a.time, b.time);
    }

    #[test]
    fn ascii_and_binary_round_trip() {
        let c = sample();
        for kind in [
            DataKind::Ascii,
            DataKind::Binary,
            DataKind::BinaryCompressed,
        ] {
            let b = pcd_bytes(&c, kind).unwrap();
            let p = parse_pcd(&b, "r.pcd").unwrap();
            assert_eq!(p.header.data, kind);
            assert_eq!(
                (p.header.width, p.header.height, p.header.points),
                (3, 1, 3)
            );
            same(&p.cloud, &c);
        }
    }

    #[test]
    fn reads_mixed_types_counts_and_compressed_soa() {
        // x y z as F8, intensity U1, ring U2, t U4 (ns), a skipped I2 field with COUNT 2.
        let hdr = "VERSION .7\nFIELDS x y z intensity ring t pad\nSIZE 8 8 8 1 2 4 2\nTYPE F F F U U U I\nCOUNT 1 1 1 1 1 1 2\nWIDTH 2\nHEIGHT 1\nVIEWPOINT 1 2 3 1 0 0 0\nPOINTS 2\n";
        type Point = (f64, f64, f64, u8, u16, u32, [i16; 2]);
        let pts: [Point; 2] = [
            (1.5, -2.0, 0.25, 200, 5, 1_000_000, [-3, 4]),
            (-8.0, 3.0, -1.0, 7, 127, 2_500_000, [0, -1]),
        ];
        let mut aos = Vec::new();
        for p in &pts {
            aos.extend(p.0.to_le_bytes());
            aos.extend(p.1.to_le_bytes());
            aos.extend(p.2.to_le_bytes());
            aos.push(p.3);
            aos.extend(p.4.to_le_bytes());
            aos.extend(p.5.to_le_bytes());
            aos.extend(p.6[0].to_le_bytes());
            aos.extend(p.6[1].to_le_bytes());
        }
        let mut soa = Vec::new();
        for k in 0..7 {
            for p in &pts {
                match k {
                    0 => soa.extend(p.0.to_le_bytes()),
                    1 => soa.extend(p.1.to_le_bytes()),
                    2 => soa.extend(p.2.to_le_bytes()),
                    3 => soa.push(p.3),
                    4 => soa.extend(p.4.to_le_bytes()),
                    5 => soa.extend(p.5.to_le_bytes()),
                    _ => {
                        soa.extend(p.6[0].to_le_bytes());
                        soa.extend(p.6[1].to_le_bytes());
                    }
                }
            }
        }
        let ascii = "1.5 -2 0.25 200 5 1000000 -3 4\n-8 3 -1 7 127 2500000 0 -1\n";
        let mut files = vec![
            [format!("{hdr}DATA ascii\n").as_bytes(), ascii.as_bytes()].concat(),
            [format!("{hdr}DATA binary\n").as_bytes(), &aos].concat(),
        ];
        let lzf = lzf_compress(&soa);
        let mut comp = format!("{hdr}DATA binary_compressed\n").into_bytes();
        comp.extend((lzf.len() as u32).to_le_bytes());
        comp.extend((soa.len() as u32).to_le_bytes());
        comp.extend(&lzf);
        files.push(comp);
        for f in &files {
            let p = parse_pcd(f, "m.pcd").unwrap();
            let c = &p.cloud;
            assert_eq!(c.x, vec![1.5, -8.0]);
            assert_eq!(c.z, vec![0.25, -1.0]);
            assert_eq!(c.intensity, vec![200.0, 7.0]);
            assert_eq!(c.ring, Some(vec![5, 127]));
            assert_eq!(c.time, Some(vec![0.001, 0.0025]));
            assert_eq!(p.header.viewpoint[..3], [1.0, 2.0, 3.0]);
            assert_eq!(p.header.point_size(), 8 * 3 + 1 + 2 + 4 + 4);
        }
    }

    #[test]
    fn lzf_compress_round_trips() {
        let mut data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| ((i / 7) as f32).to_le_bytes())
            .collect();
        data.extend(std::iter::repeat_n(9u8, 1000));
        data.extend((0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        let packed = lzf_compress(&data);
        assert!(
            packed.len() < data.len() / 2,
            "{} of {}",
            packed.len(),
            data.len()
        );
        assert_eq!(lzf_decompress(&packed, data.len()).unwrap(), data);
        for small in [&b""[..], b"a", b"ab", b"abcabcabcabc"] {
            assert_eq!(
                lzf_decompress(&lzf_compress(small), small.len()).unwrap(),
                small
            );
        }
    }

    #[test]
    fn lzf_back_references_and_errors() {
        // "abc" literal, then a back-reference of length 6 at distance 3: "abcabcabc".
        let data = [2, b'a', b'b', b'c', (4 << 5), 2];
        assert_eq!(lzf_decompress(&data, 9).unwrap(), b"abcabcabc");
        // Long form (len field 7 + extra byte): 7 + 1 + 2 = 10 bytes of 'z' from distance 1.
        let data = [0, b'z', (7 << 5), 1, 0];
        assert_eq!(lzf_decompress(&data, 11).unwrap(), vec![b'z'; 11]);
        assert!(
            lzf_decompress(&[2, b'a'], 3)
                .unwrap_err()
                .1
                .contains("past the end")
        );
        let e = lzf_decompress(&[0, b'a', (1 << 5), 5], 4).unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("before the start"), "{}", e.1);
        assert!(
            lzf_decompress(&[0, b'a'], 2)
                .unwrap_err()
                .1
                .contains("expands to 1")
        );
        assert!(lzf_decompress(&[0, b'a'], 1 << 30).is_err());
    }

    #[test]
    fn rejects_bad_headers_and_truncation() {
        let good = pcd_bytes(&sample(), DataKind::Binary).unwrap();
        let e = parse_pcd(&good[..good.len() - 3], "t.pcd").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        assert_eq!(e.location, Location::Byte(good.len() as u64 - 3));
        let hlen = parse_header(&good, "t.pcd").unwrap().data_offset;
        let text = String::from_utf8_lossy(&good[..hlen]).to_string();
        let bad = text.replacen("POINTS 3", "POINTS 4", 1);
        let e = parse_pcd(bad.as_bytes(), "t.pcd").unwrap_err();
        assert!(
            e.to_string().starts_with("t.pcd:10: POINTS 4 differs"),
            "{e}"
        );
        let bad = text.replacen("TYPE F F F F U F", "TYPE F F F F U Q", 1);
        let e = parse_pcd(bad.as_bytes(), "t.pcd").unwrap_err();
        assert!(e.to_string().starts_with("t.pcd:5: TYPE must be"), "{e}");
        let bad = text.replacen("SIZE 4 4 4 4 2 4", "SIZE 4 4 4 3 2 4", 1);
        let e = parse_pcd(bad.as_bytes(), "t.pcd").unwrap_err();
        assert!(
            e.to_string()
                .contains("\"intensity\" has unsupported SIZE 3"),
            "{e}"
        );
        let e = parse_pcd(b"VERSION 0.7\nFIELDS x y\n", "t.pcd").unwrap_err();
        assert!(e.to_string().contains("before the DATA line"), "{e}");
        let a = pcd_bytes(&sample(), DataKind::Ascii).unwrap();
        let s = String::from_utf8(a).unwrap();
        let e = parse_pcd(s.replacen("100.25", "1O0.25", 1).as_bytes(), "a.pcd").unwrap_err();
        assert!(e.to_string().starts_with("a.pcd:14: field \"x\""), "{e}");
        let cut = &s[..s.rfind("100.25").unwrap()];
        let e = parse_pcd(cut.as_bytes(), "a.pcd").unwrap_err();
        assert!(e.to_string().contains("after 2 of 3 points"), "{e}");
    }
}
