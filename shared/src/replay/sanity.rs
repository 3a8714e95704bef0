//! Range checks on what a file claims, done while parsing and before anything is simulated.
//!
//! The simulation's cost grows faster than linearly with the number of players (every shot is
//! traced against every player), so a hand-made file with tens of thousands of joins in one tick
//! once took `verify` seconds. A server never holds more than `max_players` (its `--max-clients`
//! plus AI, written in the header; at most `MAX_PLAYERS_CEILING`), never records a name or chat
//! line longer than the protocol allows, and lists inputs once per player in id order. Anything
//! else is refused here, so a forged file costs no more to check than an honest one of its size.

use super::{Keyframe, MAX_PLAYERS_CEILING, TickRecord};
use crate::player::PlayerId;
use crate::protocol::{MAX_CHAT_CHARS, MAX_NAME_CHARS};
use std::collections::BTreeSet;

/// Checks the header's player ceiling.
pub(crate) fn check_max_players(max_players: u16) -> Result<(), String> {
    if max_players > MAX_PLAYERS_CEILING {
        return Err(format!(
            "the header claims room for {max_players} players; no server holds more than {MAX_PLAYERS_CEILING}"
        ));
    }
    Ok(())
}

fn check_name(id: PlayerId, name: &str) -> Result<(), String> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the name of {id} is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    Ok(())
}

/// The players present as the records go, to refuse a tick holding more than the match could.
#[derive(Debug, Default)]
pub(crate) struct Occupancy {
    present: BTreeSet<PlayerId>,
}

impl Occupancy {
    /// Applies one record's leaves and joins and checks its content against `max` players. The
    /// list lengths are checked first, so a record with 60,000 joins costs one comparison.
    pub fn apply(&mut self, r: &TickRecord, max: u16) -> Result<(), String> {
        let max_len = usize::from(max);
        let too_many = |what: &str, n: usize| {
            Err(format!(
                "{n} {what} at {}, more than the {max} players this match could hold",
                r.tick
            ))
        };
        if r.leaves.len() > max_len {
            return too_many("leaves", r.leaves.len());
        }
        if r.joins.len() > max_len {
            return too_many("joins", r.joins.len());
        }
        if r.inputs.len() > max_len {
            return too_many("inputs", r.inputs.len());
        }
        if r.seen.len() > max_len {
            return too_many("shooters with their own targets", r.seen.len());
        }
        if let Some((_, boxes)) = r.seen.iter().find(|(_, b)| b.len() > max_len) {
            return too_many("targets of one shot", boxes.len());
        }
        if let Some(w) = r.seen.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(format!(
                "shooters' targets at {} are not in strictly increasing id order ({} then {})",
                r.tick, w[0].0, w[1].0
            ));
        }
        for id in &r.leaves {
            self.present.remove(id);
        }
        for (id, name) in &r.joins {
            check_name(*id, name)?;
            self.present.insert(*id);
        }
        if self.present.len() > max_len {
            return too_many("players present", self.present.len());
        }
        if let Some(w) = r.inputs.windows(2).find(|w| w[0].0 >= w[1].0) {
            return Err(format!(
                "inputs at {} are not in strictly increasing id order ({} then {})",
                r.tick, w[0].0, w[1].0
            ));
        }
        for (id, text) in &r.chat {
            if text.chars().count() > MAX_CHAT_CHARS {
                return Err(format!(
                    "a chat line of {id} at {} is longer than {MAX_CHAT_CHARS} characters",
                    r.tick
                ));
            }
        }
        Ok(())
    }
}

/// Checks a keyframe's size against `max` players (its states are checked by the reader).
pub(crate) fn check_keyframe(kf: &Keyframe, max: u16) -> Result<(), String> {
    let n = kf.players.len().max(kf.roster.len());
    if n > usize::from(max) {
        return Err(format!("{n} players, more than the {max} this match could hold"));
    }
    for (id, name) in &kf.roster {
        check_name(*id, name)?;
    }
    Ok(())
}
