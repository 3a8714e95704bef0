//! The colours of the game in one place, so the window, the replay viewer and screenshots look
//! the same and the local player always stands out from everyone else.

use macroquad::color::Color;

/// Shorthand for an opaque colour from 0..=255 components.
const fn rgb(r: u8, g: u8, b: u8) -> Color {
    Color::new(r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0, 1.0)
}

/// Outside the map.
pub const BACKGROUND: Color = rgb(16, 18, 24);
/// Floor tiles, alternating.
pub const FLOOR_A: Color = rgb(36, 40, 49);
/// Floor tiles, alternating.
pub const FLOOR_B: Color = rgb(40, 44, 54);
/// Wall body.
pub const WALL: Color = rgb(78, 86, 104);
/// Wall top edge highlight.
pub const WALL_EDGE: Color = rgb(116, 127, 150);
/// Shadow cast by a wall onto the floor below it.
pub const WALL_SHADOW: Color = Color::new(0.0, 0.0, 0.0, 0.28);
/// Our own player.
pub const LOCAL: Color = rgb(64, 200, 255);
/// Other players: warm colours only, so none can be mistaken for the local cyan.
pub const OTHERS: [Color; 6] = [
    rgb(255, 112, 92),
    rgb(255, 180, 72),
    rgb(232, 110, 214),
    rgb(160, 226, 96),
    rgb(246, 226, 100),
    rgb(255, 146, 170),
];
/// Panels behind HUD text.
pub const PANEL: Color = Color::new(0.04, 0.05, 0.07, 0.72);
/// Panel borders.
pub const PANEL_EDGE: Color = Color::new(1.0, 1.0, 1.0, 0.12);
/// Regular HUD text.
pub const TEXT: Color = rgb(230, 234, 240);
/// Secondary HUD text.
pub const TEXT_DIM: Color = rgb(150, 158, 172);
/// Health bar fill.
pub const HEALTH: Color = rgb(92, 220, 120);
/// Health bar fill when low.
pub const HEALTH_LOW: Color = rgb(255, 84, 84);
/// Our own verdict, before the server answered.
pub const HIT_PENDING: Color = rgb(255, 255, 255);
/// The server agreed with our verdict.
pub const HIT_CONFIRMED: Color = rgb(90, 255, 130);
/// The server disagreed.
pub const HIT_DENIED: Color = rgb(255, 72, 72);
/// Debug view: the hitboxes we traced against.
pub const DEBUG_CLIENT: Color = rgb(80, 170, 255);
/// Debug view: the hitboxes the server rewound to.
pub const DEBUG_SERVER: Color = rgb(255, 160, 60);
/// Link conditioner overlay accent.
pub const NETSIM: Color = rgb(255, 200, 60);

/// The colour of a player: cyan for us, a stable warm colour per id for everyone else.
pub fn player_colour(id: u16, local: bool) -> Color {
    if local {
        LOCAL
    } else {
        OTHERS[usize::from(id) % OTHERS.len()]
    }
}

/// `c` with alpha multiplied by `a`.
pub fn fade(c: Color, a: f32) -> Color {
    Color::new(c.r, c.g, c.b, c.a * a.clamp(0.0, 1.0))
}
