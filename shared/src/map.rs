//! Maps: a human-editable ASCII grid of wall tiles, floor and spawn points.
//!
//! Format: one character per tile, every row the same width. `#` is a wall, `.` is floor, `S` is
//! floor with a spawn point. Lines starting with `;` are comments. Everything outside the grid is
//! wall, so a missing border never lets a player walk off the map. The server sends the map text
//! in its welcome, so a client never needs the same files as the server.

use glam::Vec2;
use thiserror::Error;

/// Side of one grid tile in world units.
pub const TILE: f32 = 32.0;
/// Largest accepted grid side in tiles (keeps positions far inside the quantized range).
pub const MAX_MAP_TILES: usize = 256;
/// Largest accepted map text in bytes.
pub const MAX_MAP_BYTES: usize = 80_000;

/// A parsed map.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    /// Display name (the file stem for files on disk).
    pub name: String,
    /// Width in tiles.
    pub width: usize,
    /// Height in tiles.
    pub height: usize,
    walls: Vec<bool>,
    /// Spawn points, tile centres, in reading order.
    pub spawns: Vec<Vec2>,
    /// The source text, kept so the server can send it verbatim.
    pub source: String,
}

/// Why a map text was refused. Lines and columns count from 1.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum MapError {
    /// A character that is not `#`, `.` or `S`.
    #[error("line {line}, column {column}: unexpected character {found:?} (expected '#', '.' or 'S')")]
    BadChar { line: usize, column: usize, found: char },
    /// A row narrower or wider than the first one.
    #[error("line {line}: row is {found} tiles wide, expected {expected} like the first row")]
    Ragged {
        line: usize,
        expected: usize,
        found: usize,
    },
    /// No grid rows at all.
    #[error("the map has no rows")]
    Empty,
    /// No `S` anywhere.
    #[error("the map has no spawn point ('S')")]
    NoSpawn,
    /// Too big to be sent in a welcome or to stay inside the quantized coordinate range.
    #[error("the map is too large: {0} (limit {MAX_MAP_TILES}x{MAX_MAP_TILES} tiles, {MAX_MAP_BYTES} bytes)")]
    TooLarge(String),
}

/// The maps shipped in `assets/maps`, compiled in so `rewind` runs from any directory.
pub const BUILTIN_MAPS: &[(&str, &str)] = &[
    ("arena", include_str!("../../assets/maps/arena.txt")),
    ("warehouse", include_str!("../../assets/maps/warehouse.txt")),
];

impl Map {
    /// Parses map text.
    pub fn parse(name: &str, text: &str) -> Result<Map, MapError> {
        if text.len() > MAX_MAP_BYTES {
            return Err(MapError::TooLarge(format!("{} bytes", text.len())));
        }
        let mut rows: Vec<(usize, &str)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with(';') {
                continue;
            }
            rows.push((i + 1, line));
        }
        let Some(&(_, first)) = rows.first() else {
            return Err(MapError::Empty);
        };
        let width = first.chars().count();
        let height = rows.len();
        if width > MAX_MAP_TILES || height > MAX_MAP_TILES {
            return Err(MapError::TooLarge(format!("{width}x{height} tiles")));
        }
        let mut walls = Vec::with_capacity(width * height);
        let mut spawns = Vec::new();
        for (y, (line_no, row)) in rows.iter().enumerate() {
            let found = row.chars().count();
            if found != width {
                return Err(MapError::Ragged {
                    line: *line_no,
                    expected: width,
                    found,
                });
            }
            for (x, c) in row.chars().enumerate() {
                match c {
                    '#' => walls.push(true),
                    '.' => walls.push(false),
                    'S' => {
                        walls.push(false);
                        spawns.push(Vec2::new((x as f32 + 0.5) * TILE, (y as f32 + 0.5) * TILE));
                    }
                    other => {
                        return Err(MapError::BadChar {
                            line: *line_no,
                            column: x + 1,
                            found: other,
                        });
                    }
                }
            }
        }
        if spawns.is_empty() {
            return Err(MapError::NoSpawn);
        }
        Ok(Map {
            name: name.to_string(),
            width,
            height,
            walls,
            spawns,
            source: text.to_string(),
        })
    }

    /// A built-in map by name.
    pub fn builtin(name: &str) -> Option<Map> {
        BUILTIN_MAPS
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(n, text)| Map::parse(n, text).ok())
    }

    /// Whether tile (x, y) blocks; everything outside the grid does.
    pub fn is_wall(&self, x: i32, y: i32) -> bool {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height {
            return true;
        }
        self.walls[y as usize * self.width + x as usize]
    }

    /// Size of the map in world units.
    pub fn size(&self) -> Vec2 {
        Vec2::new(self.width as f32 * TILE, self.height as f32 * TILE)
    }

    /// Distance along the unit direction `dir` from `origin` to the first wall, capped at `max`.
    /// A grid walk (Amanatides & Woo) so the cost grows with distance, not with map size.
    pub fn raycast(&self, origin: Vec2, dir: Vec2, max: f32) -> f32 {
        let mut walk = TileWalk::new(origin, dir);
        if self.is_wall(walk.tile.0, walk.tile.1) {
            return 0.0;
        }
        loop {
            let t = walk.step();
            if t >= max {
                return max;
            }
            if self.is_wall(walk.tile.0, walk.tile.1) {
                return t.max(0.0);
            }
        }
    }

    /// Whether a straight line between two points is free of walls.
    pub fn line_of_sight(&self, a: Vec2, b: Vec2) -> bool {
        let d = b - a;
        let len = d.length();
        if len <= f32::EPSILON {
            return true;
        }
        self.raycast(a, d / len, len) >= len
    }
}

/// A walk over the tiles a ray from `origin` along the unit vector `dir` crosses, in order
/// (Amanatides & Woo): `Map::raycast` and the fog's sight memo take the same steps, so they
/// decide alike.
#[derive(Clone, Copy, Debug)]
pub struct TileWalk {
    /// The tile the walk is in.
    pub tile: (i32, i32),
    step: (i32, i32),
    /// Distance along the ray to the next vertical and horizontal tile boundary.
    t_max: (f32, f32),
    /// Distance along the ray between two vertical, and two horizontal, boundaries.
    t_delta: (f32, f32),
}

impl TileWalk {
    /// A walk starting in the tile holding `origin`.
    pub fn new(origin: Vec2, dir: Vec2) -> TileWalk {
        let tx = (origin.x / TILE).floor() as i32;
        let ty = (origin.y / TILE).floor() as i32;
        let step_x = if dir.x > 0.0 { 1 } else { -1 };
        let step_y = if dir.y > 0.0 { 1 } else { -1 };
        let next_boundary = |t: i32, step: i32| (t + i32::from(step > 0)) as f32 * TILE;
        let t_max_x = if dir.x != 0.0 {
            (next_boundary(tx, step_x) - origin.x) / dir.x
        } else {
            f32::INFINITY
        };
        let t_max_y = if dir.y != 0.0 {
            (next_boundary(ty, step_y) - origin.y) / dir.y
        } else {
            f32::INFINITY
        };
        let t_delta_x = if dir.x != 0.0 {
            TILE / dir.x.abs()
        } else {
            f32::INFINITY
        };
        let t_delta_y = if dir.y != 0.0 {
            TILE / dir.y.abs()
        } else {
            f32::INFINITY
        };
        TileWalk {
            tile: (tx, ty),
            step: (step_x, step_y),
            t_max: (t_max_x, t_max_y),
            t_delta: (t_delta_x, t_delta_y),
        }
    }

    /// Moves into the next tile; returns the distance along the ray at which it is entered.
    pub fn step(&mut self) -> f32 {
        if self.t_max.0 < self.t_max.1 {
            self.tile.0 += self.step.0;
            let t = self.t_max.0;
            self.t_max.0 += self.t_delta.0;
            t
        } else {
            self.tile.1 += self.step.1;
            let t = self.t_max.1;
            self.t_max.1 += self.t_delta.1;
            t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_maps_parse() {
        for (name, text) in BUILTIN_MAPS {
            let map = Map::parse(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(map.spawns.len() >= 4, "{name} has few spawns");
        }
        let big = Map::builtin("warehouse").unwrap();
        assert!(big.spawns.len() >= 32);
    }

    #[test]
    fn bad_char_reports_line_and_column() {
        let err = Map::parse("t", "; c\n###\n#x#\n").unwrap_err();
        assert_eq!(
            err,
            MapError::BadChar {
                line: 3,
                column: 2,
                found: 'x'
            }
        );
        assert!(err.to_string().contains("line 3, column 2"));
    }

    #[test]
    fn ragged_rows_and_missing_spawn_are_refused() {
        assert_eq!(
            Map::parse("t", "####\n#S#\n").unwrap_err(),
            MapError::Ragged {
                line: 2,
                expected: 4,
                found: 3
            }
        );
        assert_eq!(Map::parse("t", "###\n#.#\n").unwrap_err(), MapError::NoSpawn);
        assert_eq!(Map::parse("t", "; only\n").unwrap_err(), MapError::Empty);
    }

    #[test]
    fn raycast_stops_at_first_wall() {
        let map = Map::parse("t", "#####\n#S..#\n#####\n").unwrap();
        let origin = Vec2::new(48.0, 48.0);
        let d = map.raycast(origin, Vec2::X, 1000.0);
        assert!((d - (128.0 - 48.0)).abs() < 1e-3, "{d}");
        let d = map.raycast(origin, Vec2::NEG_Y, 1000.0);
        assert!((d - 16.0).abs() < 1e-3, "{d}");
        assert_eq!(map.raycast(origin, Vec2::X, 10.0), 10.0);
    }
}
