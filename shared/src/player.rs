//! The pieces of a player's simulated state. They are plain data so the server can hold them as
//! ECS components and the client and replay as a struct, and both run the same `sim` functions.

use crate::tick::Tick;
use glam::Vec2;
use serde::{Deserialize, Serialize};

/// A player's id, unique for the life of a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PlayerId(pub u16);

impl std::fmt::Display for PlayerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a player is and how fast it moves (both on the quantization grid after every tick).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Body {
    /// Centre, world units.
    pub pos: Vec2,
    /// Units per second.
    pub vel: Vec2,
}

/// Health and, while dead, when the player comes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Life {
    /// 0 when dead.
    pub health: u8,
    /// Set while dead: the tick of the respawn.
    pub respawn_at: Option<Tick>,
}

impl Default for Life {
    fn default() -> Self {
        Life {
            health: crate::sim::MAX_HEALTH,
            respawn_at: None,
        }
    }
}

impl Life {
    /// Alive players move, shoot and can be hit.
    pub fn alive(&self) -> bool {
        self.respawn_at.is_none()
    }
}

/// Aim and trigger timing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weapon {
    /// Current aim vector (integers, as sent by the client).
    pub aim: [i16; 2],
    /// First tick at which the weapon may fire again.
    pub next_fire: Tick,
}

/// Kills and deaths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Players this one killed.
    pub kills: u16,
    /// Times this one died.
    pub deaths: u16,
}

/// Where a player stands on a scoreboard: sort by this key (most kills, then fewest deaths, then
/// id, so equal scores never swap places between frames). The one scoreboard order, used by the
/// game, the replay viewer and `replay info`.
pub fn score_rank(id: PlayerId, kills: u16, deaths: u16) -> (std::cmp::Reverse<u16>, u16, PlayerId) {
    (std::cmp::Reverse(kills), deaths, id)
}

/// A whole player, as the client, the replay and the determinism tests hold it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerState {
    /// Whose state.
    pub id: PlayerId,
    /// Position and velocity.
    pub body: Body,
    /// Health and respawn.
    pub life: Life,
    /// Aim and fire timing.
    pub weapon: Weapon,
    /// Kills and deaths.
    pub score: Score,
}
