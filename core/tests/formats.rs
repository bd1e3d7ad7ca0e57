//! Every reader on small real files (core/tests/data, origins in its README.md), and on
//! truncated or garbled copies made here: the error must name the file, the line or byte
//! offset, and what was wrong.

use courier_core::formats::{carmen, kitti, movingai, nav2, pcd};
use courier_core::maps::{FREE, OCCUPIED, UNKNOWN};
use courier_core::{CoreError, FormatError, Location};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("courier-formats-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}

/// Writes `bytes` as `name` in `dir` and returns the path.
fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("temp file is writable");
    p
}

/// The format error inside `e`, checking that its message names `file`.
fn format_error(e: CoreError, file: &Path) -> FormatError {
    let text = e.to_string();
    assert!(
        text.starts_with(&file.display().to_string()),
        "error does not name {}: {text}",
        file.display()
    );
    match e {
        CoreError::Format(f) => f,
        other => panic!("expected a format error, got {other}"),
    }
}

fn close(a: [f32; 3], b: [f32; 3]) {
    assert!(
        a.iter().zip(&b).all(|(u, v)| (u - v).abs() < 1e-6),
        "{a:?} vs {b:?}"
    );
}

#[test]
fn movingai_map_and_scen() {
    let map = movingai::read_map(data("den312d.map")).unwrap();
    assert_eq!(
        (map.width, map.height, map.passable_count()),
        (65, 81, 2445)
    );
    let empty = movingai::read_map(data("empty-32-32.map")).unwrap();
    assert_eq!(empty.passable_count(), 1024);
    let scen = movingai::read_scen(data("empty-32-32-even-1_head.scen")).unwrap();
    assert_eq!(scen.entries.len(), 20);
    assert_eq!(scen.entries[0].map_file, "empty-32-32.map");
    scen.check_against(&empty, "x.scen").unwrap();
    assert!(scen.entries.iter().all(|e| e.optimal_length > 0.0));

    let dir = scratch("movingai");
    let text = std::fs::read_to_string(data("den312d.map")).unwrap();
    // Cut in the middle of the 10th map row (line 14).
    let cut_at = text.match_indices('\n').nth(12).unwrap().0 + 20;
    let p = put(&dir, "cut.map", &text[..cut_at]);
    let e = format_error(movingai::read_map(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(14));
    assert!(e.message.contains("row 9 has 19 cells, expected 65"), "{e}");
    let p = put(
        &dir,
        "short.map",
        text.lines().take(30).collect::<Vec<_>>().join("\n"),
    );
    let e = format_error(movingai::read_map(&p).unwrap_err(), &p);
    assert!(e.message.contains("ends after 26 of 81"), "{e}");
    let p = put(
        &dir,
        "garbled.map",
        text.replacen("TTTTT.TTTTT", "TTTTT?TTTTT", 1),
    );
    let e = format_error(movingai::read_map(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(7));
    assert!(e.message.contains("unknown terrain '?' at column 5"), "{e}");

    let stext = std::fs::read_to_string(data("empty-32-32-even-1_head.scen")).unwrap();
    let mut lines: Vec<&str> = stext.lines().collect();
    let garbled = lines[5].replacen("32\t32", "32\tthirty-two", 1);
    lines[5] = &garbled;
    let p = put(&dir, "garbled.scen", lines.join("\n"));
    let e = format_error(movingai::read_scen(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(6));
    assert!(e.message.contains("map height"), "{e}");
    let p = put(&dir, "cut.scen", &stext[..stext.len() - 12]);
    let e = format_error(movingai::read_scen(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(21));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn carmen_log() {
    let log = carmen::read_log(data("intel_head.clf")).unwrap();
    assert_eq!(
        (log.lasers.len(), log.odometry.len(), log.params.len()),
        (14, 25, 2)
    );
    assert!(log.lasers.iter().all(|l| l.ranges.len() == 180));
    assert_eq!(log.lasers[0].ipc_timestamp, "976052857.337530");
    assert_eq!(log.lasers[13].ipc_timestamp, "976052859.583758");

    let dir = scratch("carmen");
    let text = std::fs::read_to_string(data("intel_head.clf")).unwrap();
    let p = put(&dir, "cut.clf", &text[..text.len() - 40]);
    let e = format_error(carmen::read_log(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(50));
    assert!(e.message.starts_with("FLASER"), "{e}");
    let p = put(
        &dir,
        "garbled.clf",
        text.replacen("FLASER 180 1.07", "FLASER 180 1.O7", 1),
    );
    let e = format_error(carmen::read_log(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(13));
    assert!(e.message.contains("range 0 is not a number"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn kitti_bin() {
    let c = kitti::read_bin(data("kitti_hdl64_head.bin"), 4).unwrap();
    assert_eq!(c.len(), 256);
    close(c.point(0), [52.897_94, 0.022_989_74, 1.997_994_5]);
    assert_eq!(c.intensity[255], 0.51);

    let dir = scratch("kitti");
    let bytes = std::fs::read(data("kitti_hdl64_head.bin")).unwrap();
    let p = put(&dir, "cut.bin", &bytes[..bytes.len() - 3]);
    let e = format_error(kitti::read_bin(&p, 4).unwrap_err(), &p);
    assert_eq!(e.location, Location::Byte(255 * 16));
    assert!(e.message.contains("truncated"), "{e}");
    // Labels: one u32 per point, class in the low 16 bits (instance in the high 16).
    let labels: Vec<u8> = (0..256u32)
        .flat_map(|i| ((i % 40) | (7 << 16)).to_le_bytes())
        .collect();
    let p = put(&dir, "x.label", &labels);
    let l = kitti::read_labels(&p).unwrap();
    assert_eq!((l.len(), l[39], l[40]), (256, 39, 0));
    let p = put(&dir, "cut.label", &labels[..labels.len() - 1]);
    let e = format_error(kitti::read_labels(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Byte(255 * 4));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pcd_binary_compressed_real_excerpt() {
    let p = pcd::read_pcd(data("ouster_os128_head.pcd")).unwrap();
    let (h, c) = (&p.header, &p.cloud);
    assert_eq!(h.data, pcd::DataKind::BinaryCompressed);
    assert_eq!((h.points, h.point_size(), h.fields.len()), (512, 27, 7));
    assert_eq!(h.field("timestamp").unwrap().size, 8);
    assert_eq!(c.len(), 512);
    let returns: Vec<usize> = (0..512).filter(|&i| c.point(i) != [0.0; 3]).collect();
    assert_eq!(returns.len(), 412);
    assert_eq!(returns[0], 3);
    close(c.point(3), [-2.746_638_8, -4.095_306_4, -0.068_194_87]);
    assert_eq!(c.intensity[3], 74.0);
    let ring = c.ring.as_ref().unwrap();
    assert_eq!((ring[3], ring[511]), (0, 127));
    // Absolute F8 timestamps: the stamp is the earliest, times are offsets; no-returns are NaN.
    assert!((c.stamp.nanos() - 1_631_322_303_470_092_000).abs() < 1000);
    let t = c.time.as_ref().unwrap();
    assert!((t[3] - 0.075_200_08).abs() < 1e-6, "{}", t[3]);
    assert_eq!(t.iter().filter(|v| v.is_nan()).count(), 100);

    // Written back as ascii, binary and binary_compressed, it reads back the same.
    let dir = scratch("pcd");
    for kind in [
        pcd::DataKind::Ascii,
        pcd::DataKind::Binary,
        pcd::DataKind::BinaryCompressed,
    ] {
        let out = dir.join(format!("{kind:?}.pcd"));
        pcd::write_pcd(&out, c, kind).unwrap();
        let back = pcd::read_pcd(&out).unwrap().cloud;
        assert_eq!(
            (back.x.clone(), back.ring.clone()),
            (c.x.clone(), c.ring.clone())
        );
        assert_eq!(back.intensity, c.intensity);
        let same_t = back
            .time
            .as_ref()
            .unwrap()
            .iter()
            .zip(t)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()));
        assert!(same_t, "{kind:?}");
    }

    let bytes = std::fs::read(data("ouster_os128_head.pcd")).unwrap();
    let p = put(&dir, "cut.pcd", &bytes[..bytes.len() - 100]);
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Byte(bytes.len() as u64 - 100));
    assert!(e.message.contains("truncated"), "{e}");
    let text = String::from_utf8_lossy(&bytes[..h.data_offset]).to_string();
    let mut garbled = text.replacen("TYPE F F F F U U F", "TYPE F F F X U U F", 1);
    garbled.push_str("....");
    let p = put(&dir, "garbled_header.pcd", garbled);
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(5));
    assert!(e.message.contains("TYPE must be I, U or F"), "{e}");
    // A wrong uncompressed size in the 8-byte data header.
    let mut bad = bytes.clone();
    bad[h.data_offset + 4] ^= 0x40;
    let p = put(&dir, "bad_size.pcd", &bad);
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Byte(h.data_offset as u64 + 4));
    // A back-reference pointing before the start of the output.
    let mut bad = bytes.clone();
    let first_ctrl = h.data_offset + 8;
    bad[first_ctrl] = 0xff;
    let p = put(&dir, "bad_lzf.pcd", &bad);
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Byte(first_ctrl as u64));
    assert!(e.message.starts_with("LZF data"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pcd_ascii_errors_name_the_line() {
    let dir = scratch("pcd_ascii");
    let c = pcd::read_pcd(data("ouster_os128_head.pcd")).unwrap().cloud;
    let p = dir.join("a.pcd");
    pcd::write_pcd(&p, &c, pcd::DataKind::Ascii).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    // Header is 11 lines; point 3 is on line 15.
    let lines: Vec<&str> = text.lines().collect();
    let mut garbled = lines.clone();
    let bad = lines[14].replacen('-', "~", 1);
    garbled[14] = &bad;
    let p = put(&dir, "garbled.pcd", garbled.join("\n"));
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert_eq!(e.location, Location::Line(15));
    assert!(e.message.contains("point 3 is not a number"), "{e}");
    let p = put(&dir, "cut.pcd", lines[..300].join("\n"));
    let e = format_error(pcd::read_pcd(&p).unwrap_err(), &p);
    assert!(e.message.contains("after 289 of 512 points"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn nav2_map_read_write() {
    let m = nav2::read_map(data("den312d_nav2.yaml")).unwrap();
    let g = &m.grid;
    assert_eq!((g.width(), g.height(), g.resolution), (65, 81, 0.05));
    assert_eq!(
        (g.origin.x(), g.origin.y(), g.origin.theta()),
        (-1.6, -2.0, 0.0)
    );
    assert_eq!(g.census(), (2430, 2592, 243));
    // The image was made from den312d.map (top row first): map row r is image row 80 - r.
    let src = movingai::read_map(data("den312d.map")).unwrap();
    for row in 0..81 {
        for col in 0..65 {
            let want = if col < 3 {
                UNKNOWN
            } else if src.is_passable(col, 80 - row) {
                FREE
            } else {
                OCCUPIED
            };
            assert_eq!(g.get(col, row), Some(want), "cell ({col}, {row})");
        }
    }
    let ascii = nav2::read_map(data("den312d_nav2_ascii.yaml")).unwrap();
    assert_eq!(ascii.grid, m.grid);

    // Write and read back: trinary with free_thresh 0.196 keeps unknown cells.
    let dir = scratch("nav2");
    let out = dir.join("copy.yaml");
    nav2::write_map(
        &out,
        g,
        &nav2::MapYaml {
            image: "copy.pgm".into(),
            ..m.meta.clone()
        },
    )
    .unwrap();
    let back = nav2::read_map(&out).unwrap();
    assert_eq!(back.grid, m.grid);
    assert_eq!(
        nav2::read_pgm(dir.join("copy.pgm")).unwrap(),
        nav2::read_pgm(&m.image_path).unwrap()
    );

    // Truncated image: the error names the .pgm and the byte offset.
    let pgm = std::fs::read(&m.image_path).unwrap();
    let yaml = std::fs::read_to_string(data("den312d_nav2.yaml")).unwrap();
    let img = put(&dir, "den312d_nav2.pgm", &pgm[..pgm.len() - 65]);
    let y = put(&dir, "cut.yaml", &yaml);
    let e = format_error(nav2::read_map(&y).unwrap_err(), &img);
    assert_eq!(e.location, Location::Byte(pgm.len() as u64 - 65));
    assert!(e.message.contains("truncated"), "{e}");
    // Garbled ASCII image: names the line.
    let atext = std::fs::read_to_string(data("den312d_nav2_ascii.pgm")).unwrap();
    let img = put(&dir, "g.pgm", atext.replacen("254", "25x", 1));
    let e = format_error(nav2::read_pgm(&img).unwrap_err(), &img);
    assert!(matches!(e.location, Location::Line(l) if l > 4), "{e}");
    // Garbled yaml: names the yaml and the line.
    let y = put(
        &dir,
        "bad.yaml",
        yaml.replace("free_thresh: 0.196", "free_thresh: 0.9"),
    );
    let e = format_error(nav2::read_map(&y).unwrap_err(), &y);
    assert_eq!(e.location, Location::Line(7));
    assert!(e.message.contains("above occupied_thresh"), "{e}");
    let y = put(
        &dir,
        "bad2.yaml",
        yaml.replace("resolution: 0.05", "resolution: [0.05"),
    );
    let e = format_error(nav2::read_map(&y).unwrap_err(), &y);
    assert!(matches!(e.location, Location::Line(_)), "{e}");
    // A missing image is an I/O error naming the image path.
    let y = put(
        &dir,
        "missing.yaml",
        yaml.replace("den312d_nav2.pgm", "nope.pgm"),
    );
    let e = nav2::read_map(&y).unwrap_err();
    assert!(e.to_string().contains("nope.pgm"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
