//! The 3D world the range sensors see: a ground plane, static solids (buildings, racks, parked
//! cars as boxes; poles, trees as upright cylinders) in a parry3d BVH, and per-tick dynamic
//! objects (other robots, pedestrians) in a second, small BVH.
//!
//! Public inputs are courier-core/nalgebra `f64`; the hot path runs on parry's `f32` glam types.
//! Boxes are ray cast by parry (`Cuboid` + pose); upright cylinders by a closed-form slab test,
//! because parry's `Cylinder` ray cast is an iterative support-map (GJK) query that is several
//! times slower (the test `cylinder_matches_parry` checks that both agree). The ground is the
//! half-space `z ≤ ground.z`, intersected analytically; its hit distance also caps the BVH search,
//! so a downward beam only visits nodes nearer than the ground.

use crate::error::{Result, SimError};
use courier_core::GridMap;
use courier_core::geometry::Pose3;
use nalgebra::Vector3;
use parry3d::bounding_volume::Aabb;
use parry3d::math::{Pose as PPose, Rot3, Vec3};
use parry3d::partitioning::{Bvh, BvhBuildStrategy};
use parry3d::query::{Ray, RayCast};
use parry3d::shape::{Cuboid, Shape};
use serde::{Deserialize, Serialize};

/// A solid in world coordinates (REP-103: metres, z up).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Solid {
    /// A box standing upright, turned by `yaw` (rad) about z around its centre.
    Box {
        center: [f64; 3],
        half_extents: [f64; 3],
        #[serde(default)]
        yaw: f64,
    },
    /// An upright cylinder from `z_min` to `z_max` (poles, tree trunks, people, round robots).
    Cylinder {
        center: [f64; 2],
        z_min: f64,
        z_max: f64,
        radius: f64,
    },
}

/// One object of a scene: a solid, how strongly it reflects (reported as LiDAR intensity, 0..1),
/// and a tag (e.g. a robot id) so a sensor can ignore its own body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SceneObject {
    pub solid: Solid,
    #[serde(default = "default_reflectivity")]
    pub reflectivity: f32,
    #[serde(default)]
    pub tag: u32,
}

fn default_reflectivity() -> f32 {
    0.5
}

impl SceneObject {
    pub fn new(solid: Solid) -> Self {
        Self {
            solid,
            reflectivity: default_reflectivity(),
            tag: 0,
        }
    }
    pub fn with_reflectivity(mut self, r: f32) -> Self {
        self.reflectivity = r;
        self
    }
    pub fn with_tag(mut self, tag: u32) -> Self {
        self.tag = tag;
        self
    }
    /// An upright box from its centre, size (full extents, m) and yaw.
    pub fn cuboid(center: [f64; 3], size: [f64; 3], yaw: f64) -> Self {
        Self::new(Solid::Box {
            center,
            half_extents: [size[0] * 0.5, size[1] * 0.5, size[2] * 0.5],
            yaw,
        })
    }
    /// An upright cylinder standing on the ground plane `z = 0`.
    pub fn cylinder(center: [f64; 2], height: f64, radius: f64) -> Self {
        Self::new(Solid::Cylinder {
            center,
            z_min: 0.0,
            z_max: height,
            radius,
        })
    }
}

/// The ground: the half-space below `z` (m).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ground {
    /// Height of the ground surface (m). Default 0.
    pub z: f64,
    /// Reflectivity reported for ground returns. Default 0.2 (asphalt, concrete floors).
    pub reflectivity: f32,
}

impl Default for Ground {
    fn default() -> Self {
        Self {
            z: 0.0,
            reflectivity: 0.2,
        }
    }
}

/// What a ray hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HitKind {
    Ground,
    /// Index into the scene's static objects.
    Static(u32),
    /// Index into the dynamic objects of the view.
    Dynamic(u32),
}

/// The first surface along a ray.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Distance from the ray origin (m); the direction is unit length.
    pub range: f32,
    pub reflectivity: f32,
    pub kind: HitKind,
}

/// A compiled primitive, ready for the hot loop.
#[derive(Debug, Clone)]
enum Prim {
    Box {
        pose: PPose,
        cuboid: Cuboid,
    },
    Cyl {
        cx: f32,
        cy: f32,
        z0: f32,
        z1: f32,
        r: f32,
    },
}

impl Prim {
    /// Distance along `ray` (unit direction) to this solid, if below `tmax`. Solid semantics: a
    /// ray starting inside gives 0.
    #[inline]
    fn cast(&self, ray: &Ray, tmax: f32) -> Option<f32> {
        match self {
            Prim::Box { pose, cuboid } => cuboid.cast_ray(pose, ray, tmax, true),
            Prim::Cyl { cx, cy, z0, z1, r } => {
                cast_upright_cylinder(ray, *cx, *cy, *z0, *z1, *r, tmax)
            }
        }
    }
}

/// Closed-form ray vs upright cylinder: intersect the ray's parameter interval inside the
/// infinite cylinder with the interval inside the slab `z0 ≤ z ≤ z1`.
#[inline]
fn cast_upright_cylinder(
    ray: &Ray,
    cx: f32,
    cy: f32,
    z0: f32,
    z1: f32,
    r: f32,
    tmax: f32,
) -> Option<f32> {
    let (ox, oy) = (ray.origin.x - cx, ray.origin.y - cy);
    let (dx, dy) = (ray.dir.x, ray.dir.y);
    let a = dx * dx + dy * dy;
    let c = ox * ox + oy * oy - r * r;
    let (mut t0, mut t1);
    if a < 1e-12 {
        // Vertical ray: inside the circle or never.
        if c > 0.0 {
            return None;
        }
        t0 = f32::NEG_INFINITY;
        t1 = f32::INFINITY;
    } else {
        let b = ox * dx + oy * dy; // half of the usual b
        let disc = b * b - a * c;
        if disc < 0.0 {
            return None;
        }
        let s = disc.sqrt();
        t0 = (-b - s) / a;
        t1 = (-b + s) / a;
    }
    let dz = ray.dir.z;
    if dz.abs() < 1e-12 {
        if ray.origin.z < z0 || ray.origin.z > z1 {
            return None;
        }
    } else {
        let inv = 1.0 / dz;
        let (mut a0, mut a1) = ((z0 - ray.origin.z) * inv, (z1 - ray.origin.z) * inv);
        if a0 > a1 {
            std::mem::swap(&mut a0, &mut a1);
        }
        t0 = t0.max(a0);
        t1 = t1.min(a1);
    }
    if t0 > t1 || t1 < 0.0 {
        return None;
    }
    let t = t0.max(0.0);
    (t < tmax).then_some(t)
}

/// A set of objects with their BVH.
#[derive(Debug, Clone, Default)]
struct ObjectSet {
    prims: Vec<Prim>,
    reflectivity: Vec<f32>,
    tags: Vec<u32>,
    bvh: Bvh,
}

impl ObjectSet {
    fn new(objects: &[SceneObject], what: &str) -> Result<Self> {
        let mut prims = Vec::with_capacity(objects.len());
        let mut aabbs = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            let bad = |m: String| SimError::Invalid(format!("{what} object {i}: {m}"));
            if !(o.reflectivity.is_finite() && o.reflectivity >= 0.0) {
                return Err(bad(format!(
                    "reflectivity must be finite and ≥ 0, got {}",
                    o.reflectivity
                )));
            }
            match &o.solid {
                Solid::Box {
                    center,
                    half_extents,
                    yaw,
                } => {
                    if !center.iter().chain([yaw]).all(|v| v.is_finite()) {
                        return Err(bad(format!(
                            "box centre and yaw must be finite, got {center:?}, {yaw}"
                        )));
                    }
                    if !half_extents.iter().all(|v| v.is_finite() && *v > 0.0) {
                        return Err(bad(format!(
                            "box half extents must be positive, got {half_extents:?}"
                        )));
                    }
                    let pose = PPose::from_parts(
                        Vec3::new(center[0] as f32, center[1] as f32, center[2] as f32),
                        Rot3::from_rotation_z(*yaw as f32),
                    );
                    let cuboid = Cuboid::new(Vec3::new(
                        half_extents[0] as f32,
                        half_extents[1] as f32,
                        half_extents[2] as f32,
                    ));
                    aabbs.push(cuboid.compute_aabb(&pose));
                    prims.push(Prim::Box { pose, cuboid });
                }
                Solid::Cylinder {
                    center,
                    z_min,
                    z_max,
                    radius,
                } => {
                    if !center.iter().chain([z_min, z_max]).all(|v| v.is_finite()) {
                        return Err(bad(format!(
                            "cylinder centre and heights must be finite, got {center:?}, \
                             {z_min}..{z_max}"
                        )));
                    }
                    if !(radius.is_finite() && *radius > 0.0 && z_max > z_min) {
                        return Err(bad(format!(
                            "cylinder needs radius > 0 and z_max > z_min, got r = {radius}, \
                             {z_min}..{z_max}"
                        )));
                    }
                    let (cx, cy, r) = (center[0] as f32, center[1] as f32, *radius as f32);
                    let (z0, z1) = (*z_min as f32, *z_max as f32);
                    aabbs.push(Aabb::new(
                        Vec3::new(cx - r, cy - r, z0),
                        Vec3::new(cx + r, cy + r, z1),
                    ));
                    prims.push(Prim::Cyl { cx, cy, z0, z1, r });
                }
            }
        }
        let bvh = Bvh::from_leaves(BvhBuildStrategy::Binned, &aabbs);
        Ok(Self {
            prims,
            reflectivity: objects.iter().map(|o| o.reflectivity).collect(),
            tags: objects.iter().map(|o| o.tag).collect(),
            bvh,
        })
    }

    /// The nearest object along `ray` closer than `tmax`, skipping objects tagged `ignore`.
    #[inline]
    fn cast(&self, ray: &Ray, tmax: f32, ignore: Option<u32>) -> Option<(u32, f32)> {
        if self.prims.is_empty() {
            return None;
        }
        self.bvh.cast_ray(ray, tmax, |leaf, best| {
            let i = leaf as usize;
            if ignore.is_some_and(|t| self.tags[i] == t) {
                return None;
            }
            self.prims[i].cast(ray, best)
        })
    }
}

/// The static world: ground plus fixed solids.
#[derive(Debug, Clone)]
pub struct Scene3d {
    ground: Option<Ground>,
    objects: Vec<SceneObject>,
    set: ObjectSet,
}

impl Scene3d {
    /// Builds the scene; an object with a non-finite or non-positive size is an error naming it.
    pub fn new(ground: Option<Ground>, objects: Vec<SceneObject>) -> Result<Self> {
        if let Some(g) = &ground
            && !(g.z.is_finite() && g.reflectivity.is_finite())
        {
            return Err(SimError::Invalid(format!(
                "scene ground must be finite, got {g:?}"
            )));
        }
        let set = ObjectSet::new(&objects, "static")?;
        Ok(Self {
            ground,
            objects,
            set,
        })
    }

    /// A warehouse floor from a grid map: every blocked cell becomes a box of `height` metres
    /// (runs of blocked cells along a row merge into one box). Cell `(x, y)` is centred at
    /// `((x + 0.5) s, (height_cells - 1 - y + 0.5) s)`, row 0 at the top, as in
    /// [`crate::warehouse::WarehouseWorld::cell_center`]. With `walls`, a wall of the same
    /// height closes the map's outline.
    pub fn from_grid(grid: &GridMap, cell_size_m: f64, height: f64, walls: bool) -> Result<Self> {
        if !(cell_size_m.is_finite() && cell_size_m > 0.0 && height.is_finite() && height > 0.0) {
            return Err(SimError::Invalid(format!(
                "grid scene needs positive cell size and height, got {cell_size_m}, {height}"
            )));
        }
        let s = cell_size_m;
        let mut objects = Vec::new();
        for y in 0..grid.height {
            let yc = (grid.height - 1 - y) as f64 * s + 0.5 * s;
            let mut x = 0;
            while x < grid.width {
                if grid.passable[grid.index(x, y)] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < grid.width && !grid.passable[grid.index(x, y)] {
                    x += 1;
                }
                let len = (x - start) as f64 * s;
                objects.push(SceneObject::cuboid(
                    [start as f64 * s + 0.5 * len, yc, 0.5 * height],
                    [len, s, height],
                    0.0,
                ));
            }
        }
        if walls {
            let (w, h, t) = (grid.width as f64 * s, grid.height as f64 * s, 0.2);
            for (c, size) in [
                ([0.5 * w, -0.5 * t], [w + 2.0 * t, t]),
                ([0.5 * w, h + 0.5 * t], [w + 2.0 * t, t]),
                ([-0.5 * t, 0.5 * h], [t, h]),
                ([w + 0.5 * t, 0.5 * h], [t, h]),
            ] {
                objects.push(SceneObject::cuboid(
                    [c[0], c[1], 0.5 * height],
                    [size[0], size[1], height],
                    0.0,
                ));
            }
        }
        Self::new(Some(Ground::default()), objects)
    }

    pub fn ground(&self) -> Option<&Ground> {
        self.ground.as_ref()
    }
    pub fn objects(&self) -> &[SceneObject] {
        &self.objects
    }

    /// This scene with no dynamic objects.
    pub fn alone(&self) -> SceneView<'_> {
        SceneView {
            scene: self,
            dynamic: None,
            ignore: None,
        }
    }

    /// This scene with the dynamic objects of one tick.
    pub fn with<'a>(&'a self, dynamic: &'a DynamicObjects) -> SceneView<'a> {
        SceneView {
            scene: self,
            dynamic: Some(&dynamic.set),
            ignore: None,
        }
    }
}

/// The moving objects of one tick (robots, pedestrians), built once per tick and shared by all
/// sensors scanning at that tick.
#[derive(Debug, Clone, Default)]
pub struct DynamicObjects {
    objects: Vec<SceneObject>,
    set: ObjectSet,
}

impl DynamicObjects {
    pub fn new(objects: Vec<SceneObject>) -> Result<Self> {
        let set = ObjectSet::new(&objects, "dynamic")?;
        Ok(Self { objects, set })
    }
    pub fn objects(&self) -> &[SceneObject] {
        &self.objects
    }
}

/// What one sensor sees: the static scene, the tick's dynamic objects, and a tag to ignore (the
/// sensor's own robot body, which would otherwise hide everything at range 0).
#[derive(Debug, Clone, Copy)]
pub struct SceneView<'a> {
    scene: &'a Scene3d,
    dynamic: Option<&'a ObjectSet>,
    ignore: Option<u32>,
}

impl SceneView<'_> {
    /// Ignores every object with this tag.
    pub fn ignoring(mut self, tag: u32) -> Self {
        self.ignore = Some(tag);
        self
    }

    /// The first hit along a ray within `max_range`; `dir` need not be unit length. Checks its
    /// input: non-finite values or a zero direction are errors.
    pub fn cast_ray(
        &self,
        origin: &Vector3<f64>,
        dir: &Vector3<f64>,
        max_range: f64,
    ) -> Result<Option<Hit>> {
        let n = dir.norm();
        let ok = origin.iter().all(|v| v.is_finite()) && n.is_finite() && n > 0.0;
        if !(ok && max_range >= 0.0) {
            return Err(SimError::Invalid(format!(
                "ray needs a finite origin, a non-zero direction and max range ≥ 0, got \
                 {origin:?}, {dir:?}, {max_range}"
            )));
        }
        let d = dir / n;
        let o = Vec3::new(origin.x as f32, origin.y as f32, origin.z as f32);
        let d = Vec3::new(d.x as f32, d.y as f32, d.z as f32);
        Ok(self.cast(o, d, max_range as f32))
    }

    /// The hot path: unit direction, no checks.
    #[inline]
    pub(crate) fn cast(&self, o: Vec3, d: Vec3, tmax: f32) -> Option<Hit> {
        let mut best = tmax;
        let mut hit = None;
        if let Some(g) = &self.scene.ground {
            let gz = g.z as f32;
            let t = if o.z <= gz {
                Some(0.0)
            } else if d.z < 0.0 {
                Some((o.z - gz) / -d.z)
            } else {
                None
            };
            if let Some(t) = t
                && t < best
            {
                best = t;
                hit = Some(Hit {
                    range: t,
                    reflectivity: g.reflectivity,
                    kind: HitKind::Ground,
                });
            }
        }
        let ray = Ray::new(o, d);
        if let Some((i, t)) = self.scene.set.cast(&ray, best, self.ignore)
            && t < best
        {
            best = t;
            hit = Some(Hit {
                range: t,
                reflectivity: self.scene.set.reflectivity[i as usize],
                kind: HitKind::Static(i),
            });
        }
        if let Some(set) = self.dynamic
            && let Some((i, t)) = set.cast(&ray, best, self.ignore)
            && t < best
        {
            hit = Some(Hit {
                range: t,
                reflectivity: set.reflectivity[i as usize],
                kind: HitKind::Dynamic(i),
            });
        }
        hit
    }
}

/// courier-core pose (f64, nalgebra) → parry pose (f32, glam).
pub(crate) fn to_parry_pose(p: &Pose3) -> PPose {
    let t = p.0.translation.vector;
    let q = p.0.rotation.quaternion();
    PPose::from_parts(
        Vec3::new(t.x as f32, t.y as f32, t.z as f32),
        Rot3::from_xyzw(q.i as f32, q.j as f32, q.k as f32, q.w as f32).normalize(),
    )
}

/// Checks that a sensor pose is usable.
pub(crate) fn check_pose(p: &Pose3, what: &str) -> Result<()> {
    let t = p.0.translation.vector;
    let q = p.0.rotation.quaternion();
    if t.iter().chain(q.coords.iter()).all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "{what}: sensor pose must be finite, got {p:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parry3d::shape::Cylinder;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn v(x: f64, y: f64, z: f64) -> Vector3<f64> {
        Vector3::new(x, y, z)
    }

    #[test]
    fn ray_hits_a_box_at_its_face() {
        // A 2 m cube centred 10 m ahead: its near face is at x = 9.
        let scene = Scene3d::new(
            None,
            vec![
                SceneObject::cuboid([10.0, 0.0, 1.0], [2.0, 2.0, 2.0], 0.0).with_reflectivity(0.7),
            ],
        )
        .unwrap();
        let hit = scene
            .alone()
            .cast_ray(&v(0.0, 0.0, 1.0), &v(1.0, 0.0, 0.0), 50.0)
            .unwrap()
            .unwrap();
        assert!((hit.range - 9.0).abs() < 1e-5, "{hit:?}");
        assert_eq!(hit.kind, HitKind::Static(0));
        assert_eq!(hit.reflectivity, 0.7);
        // Turned by 45°, the nearest point is the edge at 10 − √2.
        let turned = Scene3d::new(
            None,
            vec![SceneObject::cuboid(
                [10.0, 0.0, 1.0],
                [2.0, 2.0, 2.0],
                std::f64::consts::FRAC_PI_4,
            )],
        )
        .unwrap();
        let hit = turned
            .alone()
            .cast_ray(&v(0.0, 0.0, 1.0), &v(1.0, 0.0, 0.0), 50.0)
            .unwrap()
            .unwrap();
        assert!((hit.range - (10.0 - 2f32.sqrt())).abs() < 1e-4, "{hit:?}");
        // Out of range, aimed above, or aimed away: no hit.
        let view = scene.alone();
        assert!(
            view.cast_ray(&v(0.0, 0.0, 1.0), &v(1.0, 0.0, 0.0), 8.0)
                .unwrap()
                .is_none()
        );
        assert!(
            view.cast_ray(&v(0.0, 0.0, 3.0), &v(1.0, 0.0, 0.0), 50.0)
                .unwrap()
                .is_none()
        );
        assert!(
            view.cast_ray(&v(0.0, 0.0, 1.0), &v(-1.0, 0.0, 0.0), 50.0)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn ground_and_dynamic_objects_and_ignored_tags() {
        let scene = Scene3d::new(
            Some(Ground::default()),
            vec![SceneObject::cuboid([20.0, 0.0, 1.0], [1.0, 1.0, 2.0], 0.0)],
        )
        .unwrap();
        // 45° down from 2 m: ground at 2√2.
        let o = v(0.0, 0.0, 2.0);
        let h = scene
            .alone()
            .cast_ray(&o, &v(1.0, 0.0, -1.0), 100.0)
            .unwrap()
            .unwrap();
        assert_eq!(h.kind, HitKind::Ground);
        assert!((h.range - 8f32.sqrt()).abs() < 1e-5);
        // A pedestrian 5 m ahead hides the box; ignoring its tag shows the box again.
        let movers = DynamicObjects::new(vec![
            SceneObject::cylinder([5.0, 0.0], 1.8, 0.3).with_tag(42),
        ])
        .unwrap();
        let o = v(0.0, 0.0, 1.0);
        let h = scene
            .with(&movers)
            .cast_ray(&o, &v(1.0, 0.0, 0.0), 100.0)
            .unwrap()
            .unwrap();
        assert_eq!(h.kind, HitKind::Dynamic(0));
        assert!((h.range - 4.7).abs() < 1e-5);
        let h = scene
            .with(&movers)
            .ignoring(42)
            .cast_ray(&o, &v(1.0, 0.0, 0.0), 100.0)
            .unwrap()
            .unwrap();
        assert_eq!(h.kind, HitKind::Static(0));
        assert!((h.range - 19.5).abs() < 1e-4);
    }

    #[test]
    fn cylinder_matches_parry() {
        // parry's Cylinder stands along its local y; turn it so y becomes z.
        let (cx, cy, z0, z1, r) = (3.0f32, -2.0f32, 0.5f32, 2.5f32, 0.7f32);
        let shape = Cylinder::new((z1 - z0) * 0.5, r);
        let pose = PPose::from_parts(
            Vec3::new(cx, cy, (z0 + z1) * 0.5),
            Rot3::from_rotation_x(std::f32::consts::FRAC_PI_2),
        );
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut hits = 0;
        for _ in 0..2000 {
            let o = Vec3::new(
                rng.random_range(-2.0..8.0),
                rng.random_range(-7.0..3.0),
                rng.random_range(-1.0..4.0),
            );
            // Aim at a random point near the cylinder so most rays come close to it.
            let target = Vec3::new(
                cx + rng.random_range(-1.2 * r..1.2 * r),
                cy + rng.random_range(-1.2 * r..1.2 * r),
                rng.random_range(z0 - 0.3..z1 + 0.3),
            );
            let d = (target - o).normalize();
            let ray = Ray::new(o, d);
            let mine = cast_upright_cylinder(&ray, cx, cy, z0, z1, r, 100.0);
            let theirs = shape.cast_ray(&pose, &ray, 100.0, true);
            match (mine, theirs) {
                (Some(a), Some(b)) => {
                    hits += 1;
                    assert!((a - b).abs() < 1e-3, "{o:?} {d:?}: {a} vs {b}");
                }
                (None, None) => {}
                // Grazing rays may differ by rounding; they must be at the surface.
                (a, b) => {
                    let t = a.or(b).unwrap_or(0.0);
                    let p = o + d * t;
                    let rad = ((p.x - cx).powi(2) + (p.y - cy).powi(2)).sqrt();
                    assert!(
                        (rad - r).abs() < 1e-3
                            || (p.z - z0).abs() < 1e-3
                            || (p.z - z1).abs() < 1e-3,
                        "{o:?} {d:?}: {a:?} vs {b:?}"
                    );
                }
            }
        }
        assert!(hits > 1000, "too few hits to compare: {hits}");
    }

    #[test]
    fn bad_objects_and_rays_are_errors() {
        let bad = [
            SceneObject::cuboid([0.0, 0.0, f64::NAN], [1.0, 1.0, 1.0], 0.0),
            SceneObject::cuboid([0.0, 0.0, 0.0], [0.0, 1.0, 1.0], 0.0),
            SceneObject::cylinder([0.0, 0.0], 1.0, -1.0),
            SceneObject::cylinder([0.0, 0.0], 0.0, 1.0),
            SceneObject::cylinder([0.0, 0.0], 1.0, 1.0).with_reflectivity(f32::NAN),
        ];
        for (k, o) in bad.into_iter().enumerate() {
            let good = SceneObject::cylinder([5.0, 0.0], 1.0, 1.0);
            let e = Scene3d::new(None, vec![good, o]).unwrap_err().to_string();
            assert!(e.contains("static object 1"), "case {k}: {e}");
        }
        let scene = Scene3d::new(Some(Ground::default()), vec![]).unwrap();
        let view = scene.alone();
        assert!(
            view.cast_ray(&v(0.0, 0.0, 1.0), &v(0.0, 0.0, 0.0), 1.0)
                .is_err()
        );
        assert!(
            view.cast_ray(&v(f64::NAN, 0.0, 1.0), &v(1.0, 0.0, 0.0), 1.0)
                .is_err()
        );
        assert!(
            view.cast_ray(&v(0.0, 0.0, 1.0), &v(1.0, 0.0, 0.0), f64::NAN)
                .is_err()
        );
    }

    #[test]
    fn grid_scene_matches_the_warehouse_cells() {
        use crate::warehouse::{LayoutParams, WarehouseWorld};
        let world = WarehouseWorld::generate(&LayoutParams::default(), 1.0).unwrap();
        let scene = Scene3d::from_grid(&world.grid, world.cell_size_m, 2.0, false).unwrap();
        let view = scene.alone();
        let down = v(0.0, 0.0, -1.0);
        // From 10 m above each cell centre: racks stop the ray at their top, free cells at the floor.
        let racks: Vec<u32> = world.obstacles().collect();
        assert!(!racks.is_empty());
        for &c in racks
            .iter()
            .take(50)
            .chain(&world.pickups[..10.min(world.pickups.len())])
        {
            let [x, y] = world.cell_center(c);
            let h = view.cast_ray(&v(x, y, 10.0), &down, 20.0).unwrap().unwrap();
            let want = if racks.contains(&c) { 8.0 } else { 10.0 };
            assert!((h.range - want).abs() < 1e-4, "cell {c}: {h:?}");
        }
    }

    #[test]
    fn grid_scene_places_racks_on_cells() {
        // 4×3 grid, one blocked run at row 1 (from the top), columns 1..=2.
        let mut passable = vec![true; 12];
        passable[4 + 1] = false;
        passable[4 + 2] = false;
        let grid = GridMap::new(4, 3, passable);
        let scene = Scene3d::from_grid(&grid, 1.0, 2.0, true).unwrap();
        assert_eq!(scene.objects().len(), 1 + 4);
        // Row 1 from the top of a 3-row map is centred at y = 1.5; the run spans x ∈ [1, 3].
        let view = scene.alone();
        let h = view
            .cast_ray(&v(0.5, 1.5, 1.0), &v(1.0, 0.0, 0.0), 10.0)
            .unwrap()
            .unwrap();
        assert!((h.range - 0.5).abs() < 1e-5, "{h:?}");
        // The wall at y = 3 closes the map above.
        let h = view
            .cast_ray(&v(0.5, 0.5, 1.0), &v(0.0, 1.0, 0.0), 10.0)
            .unwrap()
            .unwrap();
        assert!((h.range - 2.5).abs() < 1e-5, "{h:?}");
    }
}
