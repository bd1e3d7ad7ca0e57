//! Ground segmentation on a committed excerpt of a real labelled frame (see tests/data/README.md).
//! The excerpt has a quarter of the points, so the fine-grid refinement sees less and the
//! score is below the full frame's (measured by `courier bench perception`).

use courier_core::formats::kitti;
use courier_perception::ground::score;
use courier_perception::{GroundParams, GroundSegmenter};

#[test]
fn ground_on_rellis_excerpt() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let cloud = kitti::read_bin(format!("{dir}rellis3d_000104_quarter.bin"), 4).unwrap();
    let labels = kitti::read_labels(format!("{dir}rellis3d_000104_quarter.label")).unwrap();
    assert_eq!(cloud.len(), labels.len());
    let mut seg = GroundSegmenter::new(GroundParams::default()).unwrap();
    let mut mask = Vec::new();
    let stats = seg.segment_cloud(&cloud, &mut mask).unwrap();
    assert_eq!(mask.len(), cloud.len());
    // Ground is near z = -1.28 on this frame.
    assert!((stats.sensor_height - 1.28).abs() < 0.15, "{stats:?}");
    let s = score(
        &mask,
        &labels,
        |l| matches!(l, 1 | 3 | 10 | 23 | 31 | 33),
        |l| l == 0,
    )
    .unwrap();
    assert!(
        s.recall > 0.95 && s.precision > 0.84 && s.f1 > 0.90,
        "{s:?}"
    );
    // Deterministic: a second run on the same segmenter gives the same mask.
    let mut again = Vec::new();
    seg.segment_cloud(&cloud, &mut again).unwrap();
    assert_eq!(mask, again);
}
