//! Raw float32 point records: KITTI velodyne `.bin` (x, y, z, reflectance), nuScenes `.pcd.bin`
//! (x, y, z, intensity, ring), and per-point `.label` files (SemanticKITTI layout: one
//! little-endian u32 per point, semantic class in the low 16 bits).

use crate::error::{FormatError, Result, read_file};
use crate::msgs::PointCloud;
use std::path::Path;

/// Reads a cloud of little-endian f32 records of `fields` values each (4 for KITTI, 5 for
/// nuScenes `.pcd.bin`, whose fifth value is the ring). A size that is not a whole number of
/// records is an error at the offset of the incomplete record.
pub fn read_bin(path: impl AsRef<Path>, fields: usize) -> Result<PointCloud> {
    let path = path.as_ref();
    Ok(parse_bin(&read_file(path)?, fields, path)?)
}

/// Reads a `.bin` cloud, choosing the record size from the name: 5 fields for `*.pcd.bin`
/// (nuScenes), 4 otherwise (KITTI).
pub fn read_bin_auto(path: impl AsRef<Path>) -> Result<PointCloud> {
    let path = path.as_ref();
    let fields = if path.to_string_lossy().ends_with(".pcd.bin") {
        5
    } else {
        4
    };
    read_bin(path, fields)
}

/// Parses the bytes of a float32 record file; `file` names it in errors.
pub fn parse_bin(
    bytes: &[u8],
    fields: usize,
    file: impl AsRef<Path>,
) -> Result<PointCloud, FormatError> {
    if !(3..=16).contains(&fields) {
        return Err(FormatError::new(
            &file,
            crate::Location::File,
            format!("record of {fields} floats is not supported"),
        ));
    }
    let rec = 4 * fields;
    if !bytes.len().is_multiple_of(rec) {
        let at = (bytes.len() / rec * rec) as u64;
        return Err(FormatError::at_byte(
            &file,
            at,
            format!(
                "truncated: {} bytes is not a whole number of {rec}-byte points ({} bytes left over)",
                bytes.len(),
                bytes.len() % rec
            ),
        ));
    }
    let n = bytes.len() / rec;
    let mut cloud = PointCloud::with_capacity(n);
    let mut ring = (fields >= 5).then(|| Vec::with_capacity(n));
    let f = |c: &[u8], k: usize| {
        f32::from_le_bytes([c[4 * k], c[4 * k + 1], c[4 * k + 2], c[4 * k + 3]])
    };
    for c in bytes.chunks_exact(rec) {
        cloud.push(f(c, 0), f(c, 1), f(c, 2), f(c, 3));
        if let Some(r) = &mut ring {
            let v = f(c, 4);
            r.push(if v.is_finite() && (0.0..65536.0).contains(&v) {
                v as u16
            } else {
                u16::MAX
            });
        }
    }
    cloud.ring = ring;
    Ok(cloud)
}

/// Writes a cloud as KITTI `.bin` (x, y, z, intensity).
pub fn write_bin(path: impl AsRef<Path>, cloud: &PointCloud) -> Result<()> {
    let mut out = Vec::with_capacity(cloud.len() * 16);
    for i in 0..cloud.len() {
        for v in [cloud.x[i], cloud.y[i], cloud.z[i], cloud.intensity[i]] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path.as_ref(), out).map_err(|e| crate::CoreError::io(path, e))
}

/// Reads a `.label` file: the semantic class (low 16 bits) of each point.
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<u16>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    if bytes.len() % 4 != 0 {
        return Err(FormatError::at_byte(
            path,
            (bytes.len() / 4 * 4) as u64,
            "truncated: label files hold 4 bytes per point",
        )
        .into());
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(vals: &[f32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn parses_records_and_rejects_truncation() {
        let b = bytes(&[1.0, 2.0, 3.0, 0.5, -1.0, -2.0, -3.0, 0.25]);
        let c = parse_bin(&b, 4, "a.bin").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.point(1), [-1.0, -2.0, -3.0]);
        assert_eq!(c.intensity[0], 0.5);
        let e = parse_bin(&b[..30], 4, "a.bin").unwrap_err();
        assert_eq!(e.location, crate::Location::Byte(16));
        assert!(e.to_string().contains("truncated"), "{e}");
        let n = parse_bin(&bytes(&[1.0, 2.0, 3.0, 9.0, 31.0]), 5, "n.pcd.bin").unwrap();
        assert_eq!(n.ring, Some(vec![31]));
        assert!(parse_bin(&[], 4, "empty.bin").unwrap().is_empty());
    }

    #[test]
    fn write_read_round_trip() {
        let dir = std::env::temp_dir().join(format!("courier-kitti-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = PointCloud::default();
        c.push(0.5, f32::NAN, 2.0, 7.0);
        let p = dir.join("x.bin");
        write_bin(&p, &c).unwrap();
        let back = read_bin(&p, 4).unwrap();
        assert!(back.y[0].is_nan() && back.x[0] == 0.5 && back.intensity[0] == 7.0);
        std::fs::remove_dir_all(&dir).ok();
    }
}
