//! Short-lived visual effects derived by comparing consecutive `GameView`s: damage flashes on
//! players, floating damage numbers and the red screen edge when we are hurt. The view carries
//! only state, so the renderer (and a replay viewer feeding it views) infers the events itself.

use crate::view::GameView;
use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use std::collections::BTreeMap;

/// How long a player glows after taking damage.
pub const FLASH_S: f32 = 0.18;
/// How long a damage number floats.
pub const POPUP_S: f32 = 0.9;
/// How long the screen edge stays red after we are hit.
pub const HURT_S: f32 = 0.45;

/// A floating damage number.
#[derive(Clone, Debug, PartialEq)]
pub struct DamagePopup {
    /// World position where it appeared.
    pub pos: Vec2,
    /// Health lost.
    pub amount: u8,
    /// Seconds since it appeared.
    pub age_s: f32,
    /// It was our player that was hurt.
    pub local: bool,
}

/// Effects state carried from frame to frame.
#[derive(Clone, Debug, Default)]
pub struct Effects {
    last_health: BTreeMap<PlayerId, (u8, bool)>,
    flashes: BTreeMap<PlayerId, f32>,
    /// Live damage numbers.
    pub popups: Vec<DamagePopup>,
    /// Seconds of red screen edge left.
    pub hurt_s: f32,
}

impl Effects {
    /// Advances timers by `dt` and starts effects for every player whose health dropped since the
    /// previous view (a respawn, which raises health, starts nothing).
    pub fn update(&mut self, view: &GameView, dt: f32) {
        for t in self.flashes.values_mut() {
            *t -= dt;
        }
        self.flashes.retain(|_, t| *t > 0.0);
        for p in &mut self.popups {
            p.age_s += dt;
        }
        self.popups.retain(|p| p.age_s < POPUP_S);
        self.hurt_s = (self.hurt_s - dt).max(0.0);

        let mut seen = BTreeMap::new();
        for p in &view.players {
            let health = if p.alive { p.health } else { 0 };
            if let Some(&(before, was_alive)) = self.last_health.get(&p.id)
                && was_alive
                && health < before
            {
                self.flashes.insert(p.id, FLASH_S);
                self.popups.push(DamagePopup {
                    pos: p.pos,
                    amount: before - health,
                    age_s: 0.0,
                    local: p.local,
                });
                if p.local {
                    self.hurt_s = HURT_S;
                }
            }
            seen.insert(p.id, (health, p.alive));
        }
        self.last_health = seen;
    }

    /// Strength of a player's damage flash, 0..=1.
    pub fn flash(&self, id: PlayerId) -> f32 {
        self.flashes
            .get(&id)
            .map_or(0.0, |t| (t / FLASH_S).clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{DrawnPlayer, NetStats, Phase};

    fn view(health: u8, alive: bool) -> GameView {
        GameView {
            phase: Phase::Playing,
            map: None,
            local_id: Some(PlayerId(1)),
            players: vec![DrawnPlayer {
                id: PlayerId(1),
                name: "me".into(),
                pos: Vec2::new(10.0, 20.0),
                aim: Vec2::X,
                health,
                alive,
                local: true,
            }],
            tracers: vec![],
            shots: vec![],
            kill_feed: vec![],
            chat: vec![],
            scoreboard: vec![],
            respawn_in_s: None,
            match_over: None,
            net: NetStats::default(),
            killcam: None,
        }
    }

    #[test]
    fn damage_starts_flash_popup_and_hurt_then_expires() {
        let mut fx = Effects::default();
        fx.update(&view(100, true), 0.016);
        assert!(fx.popups.is_empty());
        fx.update(&view(75, true), 0.016);
        assert_eq!(fx.popups.len(), 1);
        assert_eq!(fx.popups[0].amount, 25);
        assert!(fx.popups[0].local);
        assert!(fx.flash(PlayerId(1)) > 0.9);
        assert!(fx.hurt_s > 0.0);
        fx.update(&view(75, true), 1.0);
        assert!(fx.popups.is_empty());
        assert_eq!(fx.flash(PlayerId(1)), 0.0);
        assert_eq!(fx.hurt_s, 0.0);
    }

    #[test]
    fn death_counts_as_damage_but_respawn_does_not() {
        let mut fx = Effects::default();
        fx.update(&view(25, true), 0.016);
        fx.update(&view(0, false), 0.016);
        assert_eq!(fx.popups.len(), 1);
        assert_eq!(fx.popups[0].amount, 25);
        fx.update(&view(100, true), 0.016);
        fx.update(&view(100, true), 0.016);
        assert_eq!(fx.popups.len(), 1);
    }
}
