//! Who is playing, as the tick thread last published it: read by other threads (Agones player
//! tracking) without ever making the tick thread wait for them for more than a copy.

use rewind_shared::player::PlayerId;
use std::sync::Mutex;

/// Publications per second (every 15 ticks at 60 Hz, 32 at 128 Hz): joins and leaves reach
/// Agones within about a second anyway, and the copy stays off most ticks.
pub const PUBLISH_PER_S: u32 = 4;

/// Ticks between two publications at `tick_rate`.
pub fn publish_every_ticks(tick_rate: u32) -> u64 {
    u64::from(tick_rate / PUBLISH_PER_S).max(1)
}

/// The human players (welcomed clients and players held for a resume), in id order.
#[derive(Debug, Default)]
pub struct Roster(Mutex<Vec<(PlayerId, String)>>);

impl Roster {
    /// Replaces the published list.
    pub fn set(&self, players: Vec<(PlayerId, String)>) {
        match self.0.lock() {
            Ok(mut g) => *g = players,
            Err(poisoned) => *poisoned.into_inner() = players,
        }
    }

    /// The list as last published.
    pub fn get(&self) -> Vec<(PlayerId, String)> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}
