//! AI players: they wander unpredictably, strafe when they see an enemy, aim with some error and
//! shoot. They run inside the tick loop as input sources, so to the simulation (and to a replay)
//! they are players like any other.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_shared::Vec2;
use rewind_shared::input::{BUTTON_FIRE, Input, aim_from_dir};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerState;
use rewind_shared::sim::WEAPON_RANGE;
use rewind_shared::tick::Tick;

/// Names AI players get, in order.
pub const AI_NAMES: &[&str] = &[
    "Ada", "Bix", "Cyd", "Dex", "Eon", "Fay", "Gus", "Hal", "Ivo", "Jun", "Kai", "Lux", "Mo", "Nix", "Oz",
    "Pim",
];

/// One AI player's state of mind.
#[derive(Debug)]
pub struct AiBrain {
    rng: ChaCha8Rng,
    wander: Vec2,
    change_at: Tick,
    strafe: f32,
    aim_error: f32,
}

impl AiBrain {
    /// A brain seeded from the match seed and the player's index.
    pub fn new(seed: u64, index: u64) -> AiBrain {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let wander = random_dir(&mut rng);
        AiBrain {
            rng,
            wander,
            change_at: Tick(0),
            strafe: 1.0,
            aim_error: 0.0,
        }
    }

    /// The input for this tick, given this player's state and everyone else's.
    pub fn think(
        &mut self,
        me: &PlayerState,
        others: &[PlayerState],
        map: &Map,
        tick: Tick,
        tick_rate: u32,
    ) -> Input {
        if !me.life.alive() {
            return Input::default();
        }
        let stuck = me.body.vel.length_squared() < 100.0;
        if tick.is_after(self.change_at) || stuck && self.rng.random_bool(0.1) {
            self.wander = random_dir(&mut self.rng);
            self.strafe = if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let secs = self.rng.random_range(0.4..1.8);
            self.change_at = tick.offset((secs * tick_rate as f32) as i32);
        }
        // Aim error drifts so shots sometimes graze and sometimes miss.
        self.aim_error = (self.aim_error + self.rng.random_range(-0.03..0.03)).clamp(-0.12, 0.12);
        let target = others
            .iter()
            .filter(|o| o.id != me.id && o.life.alive())
            .filter(|o| o.body.pos.distance(me.body.pos) < WEAPON_RANGE * 0.6)
            .filter(|o| map.line_of_sight(me.body.pos, o.body.pos))
            .min_by(|a, b| {
                a.body
                    .pos
                    .distance_squared(me.body.pos)
                    .total_cmp(&b.body.pos.distance_squared(me.body.pos))
            });
        let (mv, aim, fire) = match target {
            Some(t) => {
                let to = (t.body.pos - me.body.pos).normalize_or_zero();
                let side = Vec2::new(-to.y, to.x) * self.strafe;
                let mv = (side + self.wander * 0.5).normalize_or_zero();
                let aim = Vec2::from_angle(self.aim_error).rotate(to);
                (mv, aim, self.rng.random_bool(0.6))
            }
            None => (self.wander, self.wander, false),
        };
        Input {
            mv: [(mv.x * 127.0) as i8, (mv.y * 127.0) as i8],
            aim: aim_from_dir(aim),
            buttons: if fire { BUTTON_FIRE } else { 0 },
            view: None,
        }
    }
}

fn random_dir(rng: &mut ChaCha8Rng) -> Vec2 {
    Vec2::from_angle(rng.random_range(0.0..std::f32::consts::TAU))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::player::{Body, PlayerId};

    #[test]
    fn ai_moves_and_shoots_at_a_visible_enemy() {
        let map = Map::builtin("arena").unwrap();
        let me = PlayerState {
            id: PlayerId(1),
            body: Body {
                pos: Vec2::new(100.0, 100.0),
                ..Body::default()
            },
            ..Default::default()
        };
        let enemy = PlayerState {
            id: PlayerId(2),
            body: Body {
                pos: Vec2::new(300.0, 100.0),
                ..Body::default()
            },
            ..Default::default()
        };
        let mut brain = AiBrain::new(1, 1);
        let mut fired = 0;
        for t in 0..100 {
            let input = brain.think(&me, &[me, enemy], &map, Tick(t), 60);
            assert_ne!(input.mv, [0, 0]);
            let aim = rewind_shared::input::aim_dir(input.aim).unwrap();
            assert!(aim.dot(Vec2::X) > 0.95, "aims roughly at the enemy");
            fired += usize::from(input.fire());
        }
        assert!(fired > 30);
    }
}
