//! Development aid: scores ground segmentation on a labelled frame with per-label and per-range
//! breakdowns. `cargo run --release -p courier-perception --example ground_eval -- BIN LABEL [H]`
#![allow(clippy::needless_range_loop, clippy::field_reassign_with_default)]
use courier_core::formats::kitti;
use courier_perception::ground::{GroundParams, GroundSegmenter, score};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let cloud = kitti::read_bin_auto(&a[1]).expect("cloud");
    let labels = if a.len() > 2 && a[2] != "-" {
        Some(kitti::read_labels(&a[2]).expect("labels"))
    } else {
        None
    };
    let mut p = GroundParams::default();
    p.sensor_height = a.get(3).and_then(|s| s.parse().ok());
    let env = |k: &str, d: f32| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    p.rough_neighbors = env("NEIGH", 0.0) > 0.0;
    p.min_range = env("MINR", p.min_range);
    p.cell = env("CELL", p.cell);
    p.tall = env("TALL", p.tall);
    p.base_keep = env("KEEP", p.base_keep);
    p.ground_height = env("GH", p.ground_height);
    p.tall_window = env("WIN", p.tall_window);
    p.fit_dist = env("FIT", p.fit_dist);
    p.seed_margin = env("SEED", p.seed_margin);
    p.max_flatness = env("FLAT", p.max_flatness);
    let mut seg = GroundSegmenter::new(p).expect("params");
    let mut mask = Vec::new();
    let t = cpu_time::ThreadTime::now();
    let mut st = Default::default();
    for _ in 0..20 {
        st = seg.segment(&cloud.x, &cloud.y, &cloud.z, &mut mask);
    }
    println!(
        "{:?} {:.2} ms cpu",
        st,
        t.elapsed().as_secs_f64() * 1e3 / 20.0
    );
    // Where the ground points are: counts by height above -h (0.25 m bins from -1 m), within 30 m.
    let h = st.sensor_height;
    let mut zb = [0usize; 12];
    for i in 0..mask.len() {
        let r = (cloud.x[i].powi(2) + cloud.y[i].powi(2)).sqrt();
        if mask[i] == 1 && r < 30.0 {
            zb[(((cloud.z[i] + h + 1.0) / 0.25).max(0.0) as usize).min(11)] += 1;
        }
    }
    println!("ground pts (r<30) by height above -h, 0.25 m bins from -1 m: {zb:?}");
    let Some(labels) = labels else { return };
    let gs = |l: u16| matches!(l, 1 | 3 | 10 | 23 | 31 | 33);
    let s = score(&mask, &labels, gs, |l| l == 0).expect("len");
    println!(
        "P {:.2} R {:.2} F1 {:.2}  tp {} fp {} fn {}",
        s.precision * 100.0,
        s.recall * 100.0,
        s.f1 * 100.0,
        s.tp,
        s.fp,
        s.fn_
    );
    let mut per = std::collections::BTreeMap::new();
    for i in 0..mask.len() {
        let e = per.entry(labels[i]).or_insert((0, 0));
        e.0 += 1;
        e.1 += mask[i] as usize;
    }
    println!("label: n, marked ground {per:?}");
    // errors by range
    let mut fp_r = [0usize; 12];
    let mut fn_r = [0usize; 12];
    let mut fp_h = [0usize; 12];
    for i in 0..mask.len() {
        let l = labels[i];
        if l == 0 {
            continue;
        }
        let r = (cloud.x[i].powi(2) + cloud.y[i].powi(2)).sqrt();
        let k = ((r / 5.0) as usize).min(11);
        if mask[i] == 1 && !gs(l) {
            fp_r[k] += 1;
            let hk = (((cloud.z[i] + 1.28) / 0.05).max(0.0) as usize).min(11);
            fp_h[hk] += 1;
        }
        if mask[i] == 0 && gs(l) {
            fn_r[k] += 1;
        }
    }
    // height of points above the lowest true-ground point of their 1 m cell
    let mut cmin = std::collections::HashMap::new();
    let key = |i: usize| {
        (((cloud.x[i]).floor() as i64) << 32) ^ ((cloud.y[i]).floor() as i64 & 0xffffffff)
    };
    for i in 0..mask.len() {
        if gs(labels[i]) {
            let e = cmin.entry(key(i)).or_insert(f32::INFINITY);
            *e = e.min(cloud.z[i]);
        }
    }
    let mut hfp = [0usize; 14];
    let mut htp = [0usize; 14];
    let mut nocell = 0;
    for i in 0..mask.len() {
        if mask[i] == 0 || labels[i] == 0 {
            continue;
        }
        let Some(&m) = cmin.get(&key(i)) else {
            if !gs(labels[i]) {
                nocell += 1;
            }
            continue;
        };
        let k = (((cloud.z[i] - m) / 0.05).max(0.0) as usize).min(13);
        if gs(labels[i]) {
            htp[k] += 1
        } else {
            hfp[k] += 1
        }
    }
    println!(
        "height above cell true-ground min (5cm bins): TP {htp:?}\n FP {hfp:?} fp without ground in cell {nocell}"
    );
    let mut call: std::collections::HashMap<i64, (f32, f32, usize)> =
        std::collections::HashMap::new();
    for i in 0..mask.len() {
        if labels[i] == 0 {
            continue;
        }
        let e = call
            .entry(key(i))
            .or_insert((f32::INFINITY, f32::NEG_INFINITY, 0));
        e.0 = e.0.min(cloud.z[i]);
        e.1 = e.1.max(cloud.z[i]);
        e.2 += 1;
    }
    let mut spread_fp = [0usize; 12];
    let mut spread_tp = [0usize; 12];
    let mut low_fp = [0usize; 12];
    for i in 0..mask.len() {
        if mask[i] == 0 || labels[i] == 0 {
            continue;
        }
        let c = call[&key(i)];
        let k = (((c.1 - c.0) / 0.25) as usize).min(11);
        if gs(labels[i]) {
            spread_tp[k] += 1
        } else {
            spread_fp[k] += 1;
            let k2 = (((cloud.z[i] - c.0) / 0.05) as usize).min(11);
            low_fp[k2] += 1;
        }
    }
    println!(
        "1m-cell z spread (0.25 bins) of marked points: TP {spread_tp:?}\n FP {spread_fp:?}\n FP height above cell min (5cm) {low_fp:?}"
    );
    println!(
        "fp by 5m range {fp_r:?}\nfn by 5m range {fn_r:?}\nfp by 5cm height above -1.28 {fp_h:?}"
    );
}
