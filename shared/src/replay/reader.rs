//! The reading side: parse and validate a whole recording, then seek and play it.
//!
//! Parsing checks every chunk (framing, checksums, chain, order) but does not simulate; `verify`
//! does that. Seeking starts from the nearest keyframe at or before the target and re-simulates,
//! so its cost is bounded by the keyframe interval, not by the match length.

use super::chunk::{ChunkKind, ChunkStream, FORMAT_VERSION_V1, MAX_CHUNK_PAYLOAD, Next, RawChunk};
use super::error::{ReplayError, Truncation};
use super::records::decode_ticks;
use super::sanity::{Occupancy, check_keyframe, check_max_players};
use super::signature::{SignedChunk, Signer, StoredSigner, attribute};
use super::{Keyframe, MAX_PLAYERS_CEILING, ReplayHeader, TickRecord};
use crate::codec;
use crate::lagcomp::History;
use crate::map::Map;
use crate::player::PlayerId;
use crate::sim::{MAX_SPEED, SimEvent, World};
use crate::tick::Tick;
use std::collections::BTreeMap;

/// Largest tick rate a header may claim (keeps durations and history sizes sane).
const MAX_TICK_RATE: u32 = 1000;
/// Largest lag-compensation window a header may claim, in ticks.
const MAX_REWIND_TICKS: u32 = 100_000;

/// A parsed, framing-checked recording held in memory.
#[derive(Clone, Debug)]
pub struct Replay {
    header: ReplayHeader,
    map: Map,
    records: Vec<TickRecord>,
    keyframes: Vec<Keyframe>,
    truncation: Option<Truncation>,
    file_size: u64,
    chunks: u32,
    version: u32,
    signer: Signer,
}

impl Replay {
    /// Parses a recording. A file cut short or missing its end marker is accepted and playable
    /// up to its last complete chunk (see `truncation`); anything damaged is an error.
    /// Every chunk's signature is checked too (see `signer`); a bad one is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Replay, ReplayError> {
        let mut stream = ChunkStream::new(bytes)?;
        let version = stream.version();
        let mut signed: Vec<SignedChunk> = Vec::new();
        let (header, map, stored_signer) = match stream.next_chunk()? {
            Next::Chunk(c) if c.kind == ChunkKind::Header => {
                let parsed = parse_header(&c, version)?;
                note_signature(&mut signed, &c, parsed.2.is_some())?;
                parsed
            }
            Next::Chunk(c) => {
                return Err(ReplayError::Inconsistent {
                    offset: c.offset,
                    reason: "the first chunk is not the header".into(),
                });
            }
            Next::Eof | Next::Cut { .. } => {
                return Err(ReplayError::Truncated(Truncation {
                    offset: stream.offset(),
                    after_tick: None,
                    reason: "the header chunk is missing or incomplete".into(),
                }));
            }
        };
        let mut replay = Replay {
            header,
            map,
            records: Vec::new(),
            keyframes: Vec::new(),
            truncation: None,
            file_size: bytes.len() as u64,
            chunks: 1,
            version,
            signer: Signer::Unsigned,
        };
        let max_players = replay.header.max_players;
        let mut occupancy = Occupancy::default();
        loop {
            let chunk = match stream.next_chunk()? {
                Next::Chunk(c) => c,
                Next::Eof => {
                    replay.truncate(stream.offset(), "no end marker (the recorder stopped abruptly)");
                    break;
                }
                Next::Cut { offset, reason } => {
                    replay.truncate(offset, &reason);
                    break;
                }
            };
            replay.chunks += 1;
            note_signature(&mut signed, &chunk, stored_signer.is_some())?;
            let offset = chunk.offset;
            let inconsistent = |reason: String| ReplayError::Inconsistent { offset, reason };
            let implausible = |reason: String| ReplayError::Implausible { offset, reason };
            match chunk.kind {
                ChunkKind::Header => return Err(inconsistent("a second header chunk".into())),
                ChunkKind::Keyframe => {
                    let kf: Keyframe = decode(&chunk, "keyframe")?;
                    check_keyframe(&kf, max_players).map_err(|r| implausible(format!("keyframe: {r}")))?;
                    let kf = sanitize_keyframe(kf, &replay.map, &replay.header)
                        .map_err(|reason| inconsistent(format!("keyframe: {reason}")))?;
                    if kf.tick != replay.last_tick() {
                        return Err(inconsistent(format!(
                            "keyframe at {} where {} was expected",
                            kf.tick,
                            replay.last_tick()
                        )));
                    }
                    replay.keyframes.push(kf);
                }
                ChunkKind::Ticks => {
                    let recs =
                        decode_ticks(chunk.payload, version).map_err(|reason| ReplayError::Corrupt {
                            chunk: chunk.index,
                            offset,
                            reason: format!("malformed tick records: {reason}"),
                        })?;
                    let expected = replay.last_tick().next();
                    match recs.first() {
                        None => return Err(inconsistent("an empty tick chunk".into())),
                        Some(r) if r.tick != expected => {
                            return Err(inconsistent(format!(
                                "records start at {} where {expected} was expected",
                                r.tick
                            )));
                        }
                        Some(_) => {
                            for r in &recs {
                                occupancy.apply(r, max_players).map_err(implausible)?;
                            }
                            replay.records.extend(recs);
                        }
                    }
                }
                ChunkKind::End => {
                    let (last, count): (u32, u64) = decode(&chunk, "end marker")?;
                    if Tick(last) != replay.last_tick() || count != replay.records.len() as u64 {
                        return Err(inconsistent(format!(
                            "end marker claims {count} records up to tick {last}, the file has {} up to {}",
                            replay.records.len(),
                            replay.last_tick()
                        )));
                    }
                    if stream.offset() != bytes.len() as u64 {
                        return Err(ReplayError::Inconsistent {
                            offset: stream.offset(),
                            reason: format!(
                                "{} bytes after the end marker",
                                bytes.len() as u64 - stream.offset()
                            ),
                        });
                    }
                    break;
                }
            }
        }
        if let Some(stored) = &stored_signer {
            replay.signer = attribute(stored, &signed)?;
        }
        Ok(replay)
    }

    /// Like `from_bytes`, but a truncated file is an error.
    pub fn from_bytes_strict(bytes: &[u8]) -> Result<Replay, ReplayError> {
        let replay = Replay::from_bytes(bytes)?;
        match replay.truncation {
            Some(t) => Err(ReplayError::Truncated(t)),
            None => Ok(replay),
        }
    }

    fn truncate(&mut self, offset: u64, reason: &str) {
        self.truncation = Some(Truncation {
            offset,
            after_tick: (!self.records.is_empty()).then(|| self.last_tick()),
            reason: reason.to_string(),
        });
    }

    /// The recorded header.
    pub fn header(&self) -> &ReplayHeader {
        &self.header
    }

    /// The map parsed from the header.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// Every tick record, in tick order.
    pub fn records(&self) -> &[TickRecord] {
        &self.records
    }

    /// Every keyframe, in tick order (the first is the start).
    pub fn keyframes(&self) -> &[Keyframe] {
        &self.keyframes
    }

    /// Where the file stops, when it lacks its end marker.
    pub fn truncation(&self) -> Option<&Truncation> {
        self.truncation.as_ref()
    }

    /// Size of the parsed bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Complete chunks read (header included).
    pub fn chunks(&self) -> u32 {
        self.chunks
    }

    /// The format version of the file (1: before signatures).
    pub fn format_version(&self) -> u32 {
        self.version
    }

    /// Who vouches for the file: `Signed` means every complete chunk verified against the key of
    /// the certificate stored in it (whether that certificate is one you trust is the caller's
    /// question: compare `fingerprint` with a pin or known-hosts).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The tick of the initial (empty) world.
    pub fn first_tick(&self) -> Tick {
        self.header.start_tick
    }

    /// The last recorded tick (the start tick when nothing was recorded).
    pub fn last_tick(&self) -> Tick {
        self.header.start_tick.offset(self.records.len() as i32)
    }

    /// Recorded match time in seconds.
    pub fn duration_s(&self) -> f64 {
        self.records.len() as f64 / f64::from(self.header.cfg.tick_rate)
    }

    /// A cursor whose world is the state after `tick`: the nearest keyframe at or before it,
    /// re-simulated forward.
    pub fn cursor_at(&self, tick: Tick) -> Result<ReplayCursor<'_>, ReplayError> {
        let off = tick.diff(self.first_tick());
        if off < 0 || off as usize > self.records.len() {
            return Err(ReplayError::OutOfRange {
                tick,
                first: self.first_tick(),
                last: self.last_tick(),
            });
        }
        let start = self.first_tick();
        let k = self.keyframes.partition_point(|k| k.tick.diff(start) <= off);
        let mut cursor = match k.checked_sub(1).and_then(|i| self.keyframes.get(i)) {
            Some(kf) => ReplayCursor {
                replay: self,
                world: World {
                    tick: kf.tick,
                    players: kf.players.clone(),
                    history: kf.history.clone(),
                    cfg: self.header.cfg,
                },
                roster: kf.roster.iter().cloned().collect(),
                next: kf.tick.diff(start).max(0) as usize,
            },
            None => self.cursor_at_start(),
        };
        while cursor.world.tick != tick {
            if cursor.step().is_none() {
                break;
            }
        }
        Ok(cursor)
    }

    /// A cursor at the empty world before the first record, ignoring keyframes (what `verify`
    /// re-simulates from).
    pub fn cursor_at_start(&self) -> ReplayCursor<'_> {
        ReplayCursor {
            replay: self,
            world: World::new(self.header.cfg, self.first_tick()),
            roster: BTreeMap::new(),
            next: 0,
        }
    }

    /// The world after `tick`.
    pub fn seek(&self, tick: Tick) -> Result<World, ReplayError> {
        Ok(self.cursor_at(tick)?.world)
    }

    /// Everything that happened in ticks `from + 1 ..= to` (kills, shots, respawns), for a kill
    /// feed or tracers "as they were" at `to`.
    pub fn events_between(&self, from: Tick, to: Tick) -> Result<Vec<(Tick, SimEvent)>, ReplayError> {
        let mut cursor = self.cursor_at(from)?;
        let mut out = Vec::new();
        while cursor.world.tick.diff(to) < 0 {
            let Some(step) = cursor.step() else { break };
            let tick = step.record.tick;
            out.extend(step.events.into_iter().map(|e| (tick, e)));
        }
        Ok(out)
    }
}

fn decode<T: serde::de::DeserializeOwned>(chunk: &RawChunk<'_>, what: &str) -> Result<T, ReplayError> {
    codec::decode_large(chunk.payload, MAX_CHUNK_PAYLOAD).map_err(|e| ReplayError::Corrupt {
        chunk: chunk.index,
        offset: chunk.offset,
        reason: format!("malformed {what}: {e}"),
    })
}

/// Refuses keyframe states the simulation was never meant to step (players outside the map,
/// non-finite numbers: a forged file could make collision loops run for ages) and rebuilds the
/// history with the capacity the header's config implies, so seeking never trusts a stored one.
fn sanitize_keyframe(kf: Keyframe, map: &Map, header: &ReplayHeader) -> Result<Keyframe, String> {
    let size = map.size();
    let mut prev: Option<PlayerId> = None;
    for p in &kf.players {
        if prev.is_some_and(|q| q >= p.id) {
            return Err(format!("players not in strictly increasing id order at {}", p.id));
        }
        prev = Some(p.id);
        let (pos, vel) = (p.body.pos, p.body.vel);
        let inside = pos.is_finite() && pos.x >= 0.0 && pos.y >= 0.0 && pos.x <= size.x && pos.y <= size.y;
        if !inside || !vel.is_finite() || vel.length() > 2.0 * MAX_SPEED {
            return Err(format!("player {} is outside the map or moving impossibly", p.id));
        }
    }
    let cap = header.cfg.history_len();
    let mut history = History::new(cap);
    if let Some(newest) = kf.history.newest() {
        for back in (0..cap).rev() {
            let t = newest.offset(-(back as i32));
            if let Some(samples) = kf.history.at(t) {
                if samples.len() > usize::from(header.max_players) {
                    return Err(format!(
                        "{} hitboxes at {t}, more than the {} players the match could hold",
                        samples.len(),
                        header.max_players
                    ));
                }
                history.record(t, samples.to_vec());
            }
        }
    }
    Ok(Keyframe { history, ..kf })
}

/// Keeps what signature checking needs of a complete chunk. A file whose header names no signer
/// must carry no signatures (a stray one would be unexplained bytes).
fn note_signature(
    signed: &mut Vec<SignedChunk>,
    c: &RawChunk<'_>,
    has_signer: bool,
) -> Result<(), ReplayError> {
    if !has_signer {
        if !c.signature.is_empty() {
            return Err(ReplayError::Inconsistent {
                offset: c.offset,
                reason: "a signature in a file whose header names no signer".into(),
            });
        }
        return Ok(());
    }
    signed.push(SignedChunk {
        index: c.index,
        offset: c.offset,
        digest: c.digest,
        signature: c.signature.to_vec(),
    });
    Ok(())
}

/// The header as format version 1 wrote it (no player ceiling, no signer).
#[derive(serde::Deserialize)]
struct HeaderV1 {
    sim_version: u32,
    map_name: String,
    map_text: String,
    cfg: crate::sim::SimConfig,
    seed: u64,
    start_tick: Tick,
    keyframe_interval: u32,
    chunk_ticks: u32,
    config: String,
}

fn decode_header(
    chunk: &RawChunk<'_>,
    version: u32,
) -> Result<(ReplayHeader, Option<StoredSigner>), ReplayError> {
    if version != FORMAT_VERSION_V1 {
        return decode(chunk, "header");
    }
    let h: HeaderV1 = decode(chunk, "header")?;
    let header = ReplayHeader {
        sim_version: h.sim_version,
        map_name: h.map_name,
        map_text: h.map_text,
        cfg: h.cfg,
        seed: h.seed,
        start_tick: h.start_tick,
        keyframe_interval: h.keyframe_interval,
        chunk_ticks: h.chunk_ticks,
        config: h.config,
        max_players: MAX_PLAYERS_CEILING,
    };
    Ok((header, None))
}

fn parse_header(
    chunk: &RawChunk<'_>,
    version: u32,
) -> Result<(ReplayHeader, Map, Option<StoredSigner>), ReplayError> {
    let (mut header, signer) = decode_header(chunk, version)?;
    if !(crate::sim::OLDEST_SIM_VERSION..=crate::sim::SIM_VERSION).contains(&header.sim_version) {
        return Err(ReplayError::SimVersion {
            found: header.sim_version,
            oldest: crate::sim::OLDEST_SIM_VERSION,
            supported: crate::sim::SIM_VERSION,
        });
    }
    // Re-simulated under the rules it was recorded with.
    header.cfg.rules = header.sim_version;
    check_max_players(header.max_players).map_err(|reason| ReplayError::Implausible {
        offset: chunk.offset,
        reason,
    })?;
    let cfg = header.cfg;
    let bad = |reason: String| ReplayError::Inconsistent {
        offset: chunk.offset,
        reason,
    };
    if cfg.tick_rate == 0 || cfg.tick_rate > MAX_TICK_RATE {
        return Err(bad(format!("tick rate {} out of range", cfg.tick_rate)));
    }
    if cfg.max_rewind_ticks > MAX_REWIND_TICKS {
        return Err(bad(format!(
            "rewind window {} ticks out of range",
            cfg.max_rewind_ticks
        )));
    }
    if header.keyframe_interval == 0 || header.chunk_ticks == 0 {
        return Err(bad("keyframe interval and chunk size must be at least 1".into()));
    }
    let map =
        Map::parse(&header.map_name, &header.map_text).map_err(|e| ReplayError::BadMap(e.to_string()))?;
    Ok((header, map, signer))
}

/// One re-simulated tick.
#[derive(Debug)]
pub struct TickOutput<'a> {
    /// What was applied.
    pub record: &'a TickRecord,
    /// What the step produced (shots, kills, respawns).
    pub events: Vec<SimEvent>,
    /// Whether the re-simulated hash equals the recorded one.
    pub hash_ok: bool,
}

/// Plays a recording forward one tick at a time, keeping the world and the players' names.
#[derive(Clone, Debug)]
pub struct ReplayCursor<'a> {
    replay: &'a Replay,
    world: World,
    roster: BTreeMap<PlayerId, String>,
    next: usize,
}

impl<'a> ReplayCursor<'a> {
    /// The current state.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Takes the current state.
    pub fn into_world(self) -> World {
        self.world
    }

    /// The current tick.
    pub fn tick(&self) -> Tick {
        self.world.tick
    }

    /// Names of the players present, by id.
    pub fn roster(&self) -> &BTreeMap<PlayerId, String> {
        &self.roster
    }

    /// A present player's name.
    pub fn name(&self, id: PlayerId) -> Option<&str> {
        self.roster.get(&id).map(String::as_str)
    }

    /// Applies the next record (leaves, joins, step); `None` at the end of the recording.
    pub fn step(&mut self) -> Option<TickOutput<'a>> {
        let record = self.replay.records.get(self.next)?;
        self.next += 1;
        let map = &self.replay.map;
        for id in &record.leaves {
            self.world.remove_player(*id);
            self.roster.remove(id);
        }
        for (id, name) in &record.joins {
            self.world.add_player(map, *id);
            self.roster.insert(*id, name.clone());
        }
        let inputs = record.inputs.iter().copied().collect();
        let events = self.world.step_seen(map, &inputs, &record.seen_targets());
        Some(TickOutput {
            record,
            events,
            hash_ok: self.world.hash() == record.hash,
        })
    }
}
