//! One frame of the game from a `GameView`: world under a follow camera, then the HUD. Takes plain
//! data only (the view plus a few overlay flags), so the live window and a replay viewer share it.

use super::debug;
use super::effects::Effects;
use super::hud;
use super::killcam;
use super::netgraph;
use super::palette;
use super::screens;
use super::world;
use crate::view::{GameView, Phase};
use macroquad::camera::{Camera2D, set_camera, set_default_camera};
use macroquad::color::Color;
use macroquad::window::{clear_background, screen_height, screen_width};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;

/// World units per pixel at the reference 720-pixel-high window: 1.25 pixels per unit shows a
/// 1024x576-unit area, enough to see threats coming without making players tiny.
pub const PIXELS_PER_UNIT_720: f32 = 1.25;

/// Overlay switches and transient UI that are not part of the game state.
#[derive(Clone, Debug, Default)]
pub struct Overlays<'a> {
    /// F3 net graph.
    pub net_graph: bool,
    /// F4 lag-compensation debug view.
    pub debug_view: bool,
    /// Tab held.
    pub scoreboard: bool,
    /// The chat line being typed, when the chat box is open.
    pub chat_entry: Option<&'a str>,
    /// Current link-conditioner settings, when the session can change them.
    pub link: Option<&'a LinkConfig>,
    /// Show the conditioner keys (a key was pressed recently, or the session is conditioned).
    pub link_keys: bool,
    /// Where to draw the crosshair (mouse position), if any.
    pub crosshair: Option<Vec2>,
    /// Show the key-help line.
    pub help: bool,
    /// Camera target overriding the local player (the replay viewer's follow or free camera).
    pub focus: Option<Vec2>,
    /// Zoom factor on top of the standard scale (the replay viewer's overview); `None` is 1.
    pub zoom: Option<f32>,
}

/// Renderer state carried across frames (effects, camera focus).
#[derive(Clone, Debug, Default)]
pub struct Renderer {
    effects: Effects,
    focus: Vec2,
    /// Zoom the world was last drawn with (`None`: the standard scale).
    zoom: Option<f32>,
}

impl Renderer {
    /// A fresh renderer.
    pub fn new() -> Renderer {
        Renderer::default()
    }

    /// Pixels per world unit for the current window size.
    pub fn ppu() -> f32 {
        screen_height().max(1.0) / 720.0 * PIXELS_PER_UNIT_720
    }

    /// The camera the world was last drawn with (centred on our player), for mouse aiming.
    pub fn camera(&self) -> Camera2D {
        let ppu = self.scale();
        Camera2D {
            target: self.focus,
            // Positive y zoom: macroquad flips y for screen cameras, so world +y points down the
            // screen, matching the map text (row 0 at the top).
            zoom: Vec2::new(
                2.0 * ppu / screen_width().max(1.0),
                2.0 * ppu / screen_height().max(1.0),
            ),
            ..Default::default()
        }
    }

    /// Pixels per world unit as last drawn (the standard scale times the zoom).
    pub fn scale(&self) -> f32 {
        Renderer::ppu() * self.zoom.filter(|z| z.is_finite() && *z > 0.0).unwrap_or(1.0)
    }

    /// Draws one frame. `dt` advances effect timers.
    pub fn draw(&mut self, view: &GameView, ui: &Overlays<'_>, dt: f32) {
        let (w, h) = (screen_width(), screen_height());
        match &view.phase {
            Phase::Connecting => {
                screens::draw_connecting(macroquad::time::get_time(), w, h);
                return;
            }
            Phase::Ended { reason } => {
                screens::draw_ended(reason, w, h);
                if let Some(m) = &view.match_over {
                    hud::draw_match_over(m, view.local_id, w, h);
                }
                return;
            }
            Phase::Playing | Phase::Reconnecting { .. } => {}
        }
        self.effects.update(view, dt);
        self.zoom = ui.zoom;
        let ppu = self.scale();
        let half = Vec2::new(w, h) / (2.0 * ppu);
        let wanted = ui
            .focus
            .or_else(|| view.killcam.as_ref().map(|k| k.focus))
            .or_else(|| view.players.iter().find(|p| p.local).map(|p| p.pos));
        let map_size = view.map.as_ref().map(|m| m.size());
        self.focus = follow(wanted.unwrap_or(self.focus), map_size, half);
        clear_background(palette::BACKGROUND);
        let camera = self.camera();
        set_camera(&camera);
        if let Some(map) = &view.map {
            world::draw_map(map, self.focus - half, self.focus + half);
        }
        if ui.debug_view {
            debug::draw_world(&view.shots, &view.tracers);
        }
        world::draw_tracers(&view.tracers);
        for p in view.players.iter().filter(|p| !p.alive) {
            world::draw_player(p, &self.effects);
        }
        // Remote players first so ours is always on top.
        for p in view.players.iter().filter(|p| p.alive && !p.local) {
            world::draw_player(p, &self.effects);
        }
        for p in view.players.iter().filter(|p| p.alive && p.local) {
            world::draw_player(p, &self.effects);
        }
        world::draw_hit_markers(&view.shots);
        if let Some(k) = &view.killcam {
            killcam::draw_world(k);
        }
        set_default_camera();

        let to_screen = |p: Vec2| camera.world_to_screen(p);
        for p in &view.players {
            hud::draw_label(p, &to_screen, ppu);
        }
        for (i, p) in self.effects.popups.iter().enumerate() {
            hud::draw_popup(p, i, &to_screen);
        }
        hud::draw_hurt(&self.effects, w, h);
        self.draw_hud(view, ui, w, h);
        if let Phase::Reconnecting { for_s } = view.phase {
            screens::draw_reconnecting(for_s, macroquad::time::get_time(), w, h);
        }
    }

    fn draw_hud(&self, view: &GameView, ui: &Overlays<'_>, w: f32, h: f32) {
        let map_name = view.map.as_ref().map_or("", |m| m.name.as_str());
        let title = format!("REWIND  {map_name}  {} players", view.players.len());
        super::text::panel(10.0, 10.0, super::text::width(&title, 18.0) + 20.0, 30.0);
        super::text::draw(&title, 20.0, 31.0, 18.0, palette::TEXT);
        hud::draw_link(ui.link, ui.link_keys, 10.0, 48.0);
        hud::draw_kill_feed(&view.kill_feed, w - 10.0, 10.0);
        if ui.net_graph {
            netgraph::draw(&view.net, w - netgraph::WIDTH - 10.0, h - netgraph::HEIGHT - 30.0);
        }
        if ui.debug_view {
            debug::draw_legend(&view.shots, 10.0, 110.0);
        }
        hud::draw_local_status(view, w, h);
        hud::draw_chat(&view.chat, ui.chat_entry, 14.0, h - 36.0);
        match (&view.killcam, view.respawn_in_s) {
            (Some(k), _) => killcam::draw_hud(k, w, h),
            (None, Some(s)) => hud::draw_respawn(s, w, h),
            (None, None) => {}
        }
        if let Some(m) = &view.match_over {
            hud::draw_match_over(m, view.local_id, w, h);
        } else if ui.scoreboard {
            hud::draw_scoreboard(&view.scoreboard, view.local_id, map_name, w, h);
        }
        if ui.help {
            hud::draw_help(w, h);
        }
        if let Some(at) = ui.crosshair {
            let hit = view
                .shots
                .iter()
                .filter(|s| s.age_s < 0.25 && (s.client_target.is_some() || s.server_target.is_some()))
                .min_by(|a, b| a.age_s.total_cmp(&b.age_s))
                .map(|s| Color {
                    a: 1.0,
                    ..world::marker_colour(s)
                });
            hud::draw_crosshair(at, hit);
        }
    }
}

/// Where the camera looks: at `wanted` (our player), but kept inside the map so no screen space is
/// wasted on the void beyond a wall; a map smaller than the view on an axis is centred on it.
pub fn follow(wanted: Vec2, map_size: Option<Vec2>, half_view: Vec2) -> Vec2 {
    let Some(size) = map_size else { return wanted };
    let axis = |want: f32, size: f32, half: f32| {
        if size <= 2.0 * half {
            size / 2.0
        } else {
            want.clamp(half, size - half)
        }
    };
    Vec2::new(
        axis(wanted.x, size.x, half_view.x),
        axis(wanted.y, size.y, half_view.y),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camera_stays_inside_the_map_or_centres_it() {
        let half = Vec2::new(100.0, 50.0);
        let map = Some(Vec2::new(150.0, 400.0));
        assert_eq!(follow(Vec2::new(10.0, 10.0), map, half), Vec2::new(75.0, 50.0));
        assert_eq!(follow(Vec2::new(10.0, 200.0), map, half), Vec2::new(75.0, 200.0));
        assert_eq!(follow(Vec2::new(10.0, 390.0), map, half), Vec2::new(75.0, 350.0));
        assert_eq!(follow(Vec2::new(7.0, 8.0), None, half), Vec2::new(7.0, 8.0));
    }
}
