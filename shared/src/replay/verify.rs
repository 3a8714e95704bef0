//! Verification (re-simulate everything, compare every hash and keyframe) and the summary
//! `replay info` prints.

use super::error::{ReplayError, Truncation};
use super::reader::Replay;
use super::signature::Signer;
use super::{Keyframe, ReplayHeader};
use crate::player::PlayerId;
use crate::player::score_rank;
use crate::sim::{SimEvent, World};
use crate::tick::Tick;
use std::collections::{BTreeMap, BTreeSet};

/// What a successful verification found.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifySummary {
    /// Ticks re-simulated (all records of the complete chunks).
    pub ticks: u64,
    /// Tick of the initial world.
    pub first_tick: Tick,
    /// Last verified tick.
    pub last_tick: Tick,
    /// Match time covered, seconds.
    pub duration_s: f64,
    /// Distinct player ids that joined.
    pub players: usize,
    /// Kills during the match.
    pub kills: u64,
    /// Shots fired during the match.
    pub shots: u64,
    /// Keyframes checked against the re-simulation.
    pub keyframes: usize,
    /// Complete chunks read.
    pub chunks: u32,
    /// `World::hash` after the last tick.
    pub final_hash: u64,
    /// Whether the file lacks its end marker (a crash); everything before was verified.
    pub truncated: bool,
    /// Where and why it stops, when truncated.
    pub truncation: Option<Truncation>,
    /// Bytes in the file.
    pub file_size: u64,
    /// Who vouches for the file (signatures were checked while parsing, before simulating).
    pub signer: Signer,
    /// Format version of the file (1: recorded before signatures existed).
    pub format_version: u32,
}

/// One line of the final scoreboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayerScore {
    /// Player id.
    pub id: PlayerId,
    /// Display name.
    pub name: String,
    /// Kills.
    pub kills: u16,
    /// Deaths.
    pub deaths: u16,
}

/// What `replay info` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayInfo {
    /// The recorded header.
    pub header: ReplayHeader,
    /// Bytes in the file.
    pub file_size: u64,
    /// Recorded ticks.
    pub ticks: u64,
    /// Match time, seconds.
    pub duration_s: f64,
    /// Everyone who joined, by id (the first name used).
    pub players: Vec<(PlayerId, String)>,
    /// Scores of the players present at the end, best first.
    pub final_scores: Vec<PlayerScore>,
    /// Complete chunks.
    pub chunks: u32,
    /// Keyframes.
    pub keyframes: usize,
    /// Set when the file lacks its end marker.
    pub truncation: Option<Truncation>,
    /// Who vouches for the file.
    pub signer: Signer,
    /// Format version of the file.
    pub format_version: u32,
}

/// Parses and verifies a recording held in memory.
pub fn verify(bytes: &[u8]) -> Result<VerifySummary, ReplayError> {
    Replay::from_bytes(bytes)?.verify()
}

fn check_keyframe(
    kf: &Keyframe,
    world: &World,
    roster: &BTreeMap<PlayerId, String>,
) -> Result<(), ReplayError> {
    let what = if kf.players != world.players {
        "player states"
    } else if kf.history != world.history {
        "lag-compensation history"
    } else if !kf.roster.iter().map(|(i, n)| (i, n)).eq(roster.iter()) {
        "roster of names"
    } else {
        return Ok(());
    };
    Err(ReplayError::KeyframeMismatch {
        tick: kf.tick,
        what: what.to_string(),
    })
}

impl Replay {
    /// Re-simulates the whole recording from the empty world, checking every tick's hash and
    /// every keyframe. Truncation is not an error here (see `VerifySummary::truncated`).
    pub fn verify(&self) -> Result<VerifySummary, ReplayError> {
        let mut cursor = self.cursor_at_start();
        let mut keyframes = self.keyframes().iter().peekable();
        let (mut kills, mut shots) = (0u64, 0u64);
        let mut players = BTreeSet::new();
        let mut checked = 0;
        loop {
            while let Some(kf) = keyframes.next_if(|kf| kf.tick == cursor.tick()) {
                check_keyframe(kf, cursor.world(), cursor.roster())?;
                checked += 1;
            }
            let Some(out) = cursor.step() else { break };
            players.extend(out.record.joins.iter().map(|(id, _)| *id));
            for e in &out.events {
                match e {
                    SimEvent::Kill { .. } => kills += 1,
                    SimEvent::Shot(_) => shots += 1,
                    SimEvent::Respawn(_) => {}
                }
            }
            if !out.hash_ok {
                return Err(ReplayError::Divergence {
                    tick: out.record.tick,
                    recorded: out.record.hash,
                    simulated: cursor.world().hash(),
                });
            }
        }
        if let Some(kf) = keyframes.next() {
            return Err(ReplayError::KeyframeMismatch {
                tick: kf.tick,
                what: "keyframe for a tick the re-simulation never reached".into(),
            });
        }
        Ok(VerifySummary {
            ticks: self.records().len() as u64,
            first_tick: self.first_tick(),
            last_tick: cursor.tick(),
            duration_s: self.duration_s(),
            players: players.len(),
            kills,
            shots,
            keyframes: checked,
            chunks: self.chunks(),
            final_hash: cursor.world().hash(),
            truncated: self.truncation().is_some(),
            truncation: self.truncation().cloned(),
            file_size: self.file_size(),
            signer: self.signer().clone(),
            format_version: self.format_version(),
        })
    }

    /// Header, duration, players and the final scoreboard (from the last keyframe plus
    /// re-simulation, so it is fast even for long matches).
    pub fn info(&self) -> Result<ReplayInfo, ReplayError> {
        let mut seen: BTreeMap<PlayerId, String> = BTreeMap::new();
        for r in self.records() {
            for (id, name) in &r.joins {
                seen.entry(*id).or_insert_with(|| name.clone());
            }
        }
        let end = self.cursor_at(self.last_tick())?;
        let mut final_scores: Vec<PlayerScore> = end
            .world()
            .players
            .iter()
            .map(|p| PlayerScore {
                id: p.id,
                name: end.name(p.id).unwrap_or("?").to_string(),
                kills: p.score.kills,
                deaths: p.score.deaths,
            })
            .collect();
        final_scores.sort_by_key(|r| score_rank(r.id, r.kills, r.deaths));
        Ok(ReplayInfo {
            header: self.header().clone(),
            file_size: self.file_size(),
            ticks: self.records().len() as u64,
            duration_s: self.duration_s(),
            players: seen.into_iter().collect(),
            final_scores,
            chunks: self.chunks(),
            keyframes: self.keyframes().len(),
            truncation: self.truncation().cloned(),
            signer: self.signer().clone(),
            format_version: self.format_version(),
        })
    }
}
