//! Ray geometry for hitscan: ray against circle hitboxes, first hit along the ray.

use glam::Vec2;

/// Distance along the unit direction `dir` from `origin` at which the ray enters the circle,
/// or `None` if it misses or the circle lies behind the origin. An origin inside the circle hits
/// at distance 0 (a point-blank shot is a hit).
pub fn ray_circle(origin: Vec2, dir: Vec2, center: Vec2, radius: f32) -> Option<f32> {
    let m = origin - center;
    let b = m.dot(dir);
    let c = m.dot(m) - radius * radius;
    if c <= 0.0 {
        return Some(0.0);
    }
    if b > 0.0 {
        return None;
    }
    let disc = b * b - c;
    if disc < 0.0 {
        return None;
    }
    Some(-b - disc.sqrt())
}

/// The nearest target the ray reaches before `max_dist`: (target key, distance). Ties go to the
/// first target in iteration order, so callers pass targets in a stable order.
pub fn first_hit<K: Copy>(
    origin: Vec2,
    dir: Vec2,
    max_dist: f32,
    radius: f32,
    targets: impl IntoIterator<Item = (K, Vec2)>,
) -> Option<(K, f32)> {
    let mut best: Option<(K, f32)> = None;
    for (key, center) in targets {
        if let Some(d) = ray_circle(origin, dir, center, radius)
            && d <= max_dist
            && best.is_none_or(|(_, bd)| d < bd)
        {
            best = Some((key, d));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ray_hits_circle_front_edge() {
        let d = ray_circle(Vec2::ZERO, Vec2::X, Vec2::new(10.0, 0.0), 2.0).unwrap();
        assert!((d - 8.0).abs() < 1e-5);
    }

    #[test]
    fn ray_misses_circle_behind_or_beside() {
        assert!(ray_circle(Vec2::ZERO, Vec2::X, Vec2::new(-10.0, 0.0), 2.0).is_none());
        assert!(ray_circle(Vec2::ZERO, Vec2::X, Vec2::new(10.0, 2.5), 2.0).is_none());
        // Grazing just inside the edge still hits.
        assert!(ray_circle(Vec2::ZERO, Vec2::X, Vec2::new(10.0, 1.99), 2.0).is_some());
    }

    #[test]
    fn first_hit_picks_nearest() {
        let targets = [
            (1, Vec2::new(30.0, 0.0)),
            (2, Vec2::new(10.0, 0.5)),
            (3, Vec2::new(5.0, 9.0)),
        ];
        let (k, _) = first_hit(Vec2::ZERO, Vec2::X, 100.0, 2.0, targets).unwrap();
        assert_eq!(k, 2);
        assert!(first_hit(Vec2::ZERO, Vec2::X, 5.0, 2.0, targets).is_none());
    }
}
