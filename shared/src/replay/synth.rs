//! Seeded synthetic matches: players that wander, aim, shoot, join and leave, recorded with the
//! real writer. Used by the replay tests and benchmark, and handy for trying the viewer without
//! running a server.

use super::signature::ChainSigner;
use super::writer::{ReplayWriter, WriterError};
use super::{ReplayHeader, TickRecord};
use crate::input::{BUTTON_FIRE, Input, ShotView, aim_from_dir};
use crate::map::Map;
use crate::player::PlayerId;
use crate::sim::{SimConfig, World};
use crate::tick::Tick;
use glam::Vec2;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;
use std::io::Write;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SynthParams {
    /// Seed of every random choice.
    pub seed: u64,
    /// Ticks to record.
    pub ticks: u32,
    /// Players at the start (ids 0..players).
    pub players: u16,
    /// Per-tick probability that someone leaves or a new player joins.
    pub churn: f64,
    /// Tick of the initial world.
    pub start_tick: Tick,
}

/// A player's held controls: humans hold keys for a while, so inputs repeat.
#[derive(Clone, Copy)]
struct Hold {
    input: Input,
    left: u32,
}

/// New controls: usually aiming at a random other player (so fights happen), else anywhere.
fn next_hold(rng: &mut ChaCha8Rng, tick: Tick, me: Vec2, others: &[Vec2]) -> Hold {
    let view = rng.random_bool(0.8).then(|| ShotView {
        tick_a: tick.offset(-6),
        tick_b: tick.offset(-5),
        alpha: rng.random(),
    });
    Hold {
        input: Input {
            mv: [rng.random_range(-1..=1) * 127, rng.random_range(-1..=1) * 127],
            aim: match others.len() {
                n if n > 0 && rng.random_bool(0.8) => aim_from_dir(others[rng.random_range(0..n)] - me),
                _ => [rng.random_range(-32000..=32000), rng.random_range(-32000..=32000)],
            },
            buttons: if rng.random_bool(0.4) { BUTTON_FIRE } else { 0 },
            view,
        },
        left: rng.random_range(1..30),
    }
}

/// Records a synthetic match on `map` to `out` (keyframes when due, then the end marker) and
/// returns the writer's output and the final world the recorder simulated.
pub fn record_synthetic<W: Write>(
    out: W,
    map: &Map,
    cfg: SimConfig,
    params: SynthParams,
) -> Result<(W, World), WriterError> {
    record_synthetic_signed(out, map, cfg, params, None)
}

/// Like `record_synthetic`, signed by `signer` when given (how signature tests get a realistic
/// signed file without running a server).
pub fn record_synthetic_signed<W: Write>(
    out: W,
    map: &Map,
    cfg: SimConfig,
    params: SynthParams,
    signer: Option<Box<dyn ChainSigner>>,
) -> Result<(W, World), WriterError> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let mut header = ReplayHeader::new(&map.name, &map.source, cfg, params.seed, params.start_tick);
    header.config = format!("{{\"synthetic\":true,\"players\":{}}}", params.players);
    let mut writer = match signer {
        Some(s) => ReplayWriter::signed(out, header, s)?,
        None => ReplayWriter::new(out, header)?,
    };
    let mut world = World::new(cfg, params.start_tick);
    let mut roster: BTreeMap<PlayerId, String> = BTreeMap::new();
    let mut holds: BTreeMap<PlayerId, Hold> = BTreeMap::new();
    let mut next_id = params.players;
    for t in 0..params.ticks {
        let tick = world.tick.next();
        let mut record = TickRecord {
            tick,
            ..TickRecord::default()
        };
        if t == 0 {
            record.joins = (0..params.players)
                .map(|i| (PlayerId(i), format!("player{i}")))
                .collect();
        } else if rng.random_bool(params.churn) {
            if !roster.is_empty() && rng.random_bool(0.5) {
                let k = rng.random_range(0..roster.len());
                if let Some(&id) = roster.keys().nth(k) {
                    record.leaves.push(id);
                }
            } else {
                record.joins.push((PlayerId(next_id), format!("late{next_id}")));
                next_id = next_id.wrapping_add(1);
            }
        }
        for id in &record.leaves {
            world.remove_player(*id);
            roster.remove(id);
            holds.remove(id);
        }
        for (id, name) in &record.joins {
            world.add_player(map, *id);
            roster.insert(*id, name.clone());
        }
        for id in roster.keys() {
            let h = holds.entry(*id).or_insert(Hold {
                input: Input::default(),
                left: 0,
            });
            if h.left == 0 {
                let me = world
                    .players
                    .iter()
                    .find(|p| p.id == *id)
                    .map_or(Vec2::ZERO, |p| p.body.pos);
                let others: Vec<Vec2> = world
                    .players
                    .iter()
                    .filter(|p| p.id != *id && p.life.alive())
                    .map(|p| p.body.pos)
                    .collect();
                *h = next_hold(&mut rng, tick, me, &others);
            }
            h.left -= 1;
            // The view follows the clock (a client draws 5-6 ticks in the past).
            let mut input = h.input;
            input.view = input.view.map(|v| ShotView {
                tick_a: tick.offset(-6),
                tick_b: tick.offset(-5),
                alpha: v.alpha,
            });
            record.inputs.push((*id, input));
            if rng.random_bool(0.001) {
                record.chat.push((*id, "gg".to_string()));
            }
        }
        let inputs = record.inputs.iter().copied().collect();
        world.step(map, &inputs);
        record.hash = world.hash();
        writer.push_tick(record)?;
        if writer.keyframe_due() {
            let names: Vec<(PlayerId, String)> = roster.iter().map(|(i, n)| (*i, n.clone())).collect();
            writer.push_keyframe(&world, &names)?;
        }
    }
    Ok((writer.finish()?, world))
}
