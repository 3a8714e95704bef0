//! Snapshot quantization and delta encoding against an acknowledged baseline (Quake 3 style).
//!
//! An entity is a handful of integers. A delta lists, for each changed entity, a bitmask of the
//! fields that differ from the baseline and the differences (small numbers, which the codec's
//! variable-length integers make one or two bytes). An entity absent from the baseline is
//! delta-encoded against zero, so "full" is just "delta against nothing". When the whole set
//! does not fit the datagram budget, entities are taken in priority order while they fit and the
//! rest keep their baseline values until a later snapshot: the client never sees a fragment.

use crate::player::{PlayerId, PlayerState};
use crate::quant::pos2_to_q;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a client knows of one player.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityState {
    /// Whose.
    pub id: PlayerId,
    /// Position, quantized (see `quant`).
    pub pos: [i32; 2],
    /// Aim direction for drawing, length about `AIM_DRAW_LEN` (coarse on purpose: a remote aim is
    /// only drawn, never simulated, and small numbers make one-byte deltas).
    pub aim: [i16; 2],
    /// Health.
    pub health: u8,
    /// Alive or waiting to respawn.
    pub alive: bool,
    /// Kills.
    pub kills: u16,
    /// Deaths.
    pub deaths: u16,
    /// Hidden from this client by the fog of war: only the score is real (position, aim and
    /// health are zero, and it is neither drawn nor a target).
    pub hidden: bool,
    /// Shots this player has fired, wrapping: a client that sees it change between two snapshots
    /// plays the shot (sound and tracer) where it draws the player. Zero while hidden.
    pub shots: u8,
}

/// Number of integer fields in an entity.
pub(crate) const FIELDS: usize = 10;

/// Length of the replicated aim vector: about one degree of resolution, and a change between two
/// snapshots always fits a one-byte varint.
pub const AIM_DRAW_LEN: f32 = 60.0;

impl EntityState {
    /// The replicated view of a simulated player.
    pub fn from_player(p: &PlayerState) -> EntityState {
        EntityState {
            id: p.id,
            pos: pos2_to_q(p.body.pos),
            aim: coarse_aim(p.weapon.aim),
            health: p.life.health,
            alive: p.life.alive(),
            kills: p.score.kills,
            deaths: p.score.deaths,
            hidden: false,
            shots: 0,
        }
    }

    /// What a client that may not see this player is told: its score only.
    pub fn fogged(&self) -> EntityState {
        EntityState {
            id: self.id,
            kills: self.kills,
            deaths: self.deaths,
            hidden: true,
            ..EntityState::default()
        }
    }

    /// Whether a client draws it (and may hit it): alive and not hidden.
    pub fn in_view(&self) -> bool {
        self.alive && !self.hidden
    }

    fn fields(&self) -> [i64; FIELDS] {
        [
            self.pos[0].into(),
            self.pos[1].into(),
            self.aim[0].into(),
            self.aim[1].into(),
            self.shots.into(),
            self.health.into(),
            i64::from(self.alive),
            self.kills.into(),
            self.deaths.into(),
            i64::from(self.hidden),
        ]
    }

    fn from_fields(id: PlayerId, f: [i64; FIELDS]) -> Result<EntityState, SnapshotError> {
        let bad = |field: usize| SnapshotError::OutOfRange { id, field };
        Ok(EntityState {
            id,
            pos: [
                i32::try_from(f[0]).map_err(|_| bad(0))?,
                i32::try_from(f[1]).map_err(|_| bad(1))?,
            ],
            aim: [
                i16::try_from(f[2]).map_err(|_| bad(2))?,
                i16::try_from(f[3]).map_err(|_| bad(3))?,
            ],
            shots: u8::try_from(f[4]).map_err(|_| bad(4))?,
            health: u8::try_from(f[5]).map_err(|_| bad(5))?,
            alive: match f[6] {
                0 => false,
                1 => true,
                _ => return Err(bad(6)),
            },
            kills: u16::try_from(f[7]).map_err(|_| bad(7))?,
            deaths: u16::try_from(f[8]).map_err(|_| bad(8))?,
            hidden: match f[9] {
                0 => false,
                1 => true,
                _ => return Err(bad(9)),
            },
        })
    }
}

/// An aim vector scaled to `AIM_DRAW_LEN` and rounded.
fn coarse_aim(aim: [i16; 2]) -> [i16; 2] {
    match crate::input::aim_dir(aim) {
        Some(d) => [
            (d.x * AIM_DRAW_LEN).round() as i16,
            (d.y * AIM_DRAW_LEN).round() as i16,
        ],
        None => [0, 0],
    }
}

/// One entity's changes: which fields changed (bit i = field i, in the order position x and y,
/// aim x and y, shots, health, alive, kills, deaths, hidden: the ones that change every tick fit
/// the mask's first byte) and by how much, in field order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityDelta {
    /// Whose.
    pub id: PlayerId,
    /// Changed-field mask.
    pub mask: u16,
    /// One difference per set bit.
    pub diffs: Diffs,
}

impl EntityDelta {
    /// Bytes this delta takes on the wire, computed without encoding it (the snapshot budget asks
    /// this for every entity of every client every tick).
    pub fn encoded_len(&self) -> usize {
        use crate::leb128::{varint_len, zigzag_len};
        varint_len(self.id.0.into())
            + varint_len(self.mask.into())
            + self.diffs.iter().map(|d| zigzag_len(*d)).sum::<usize>()
    }
}

pub use crate::entity_set::EntitySet;
pub use crate::field_diffs::Diffs;

/// Why a delta could not be applied.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum SnapshotError {
    /// The mask and the number of differences disagree.
    #[error("entity {id}: mask announces {expected} fields but {found} values came")]
    FieldCount {
        /// Entity.
        id: PlayerId,
        /// Bits set.
        expected: usize,
        /// Values present.
        found: usize,
    },
    /// A decoded value does not fit its field.
    #[error("entity {id}: field {field} out of range")]
    OutOfRange {
        /// Entity.
        id: PlayerId,
        /// Field index.
        field: usize,
    },
    /// Bits beyond the known fields.
    #[error("entity {0}: unknown fields in mask")]
    UnknownFields(PlayerId),
}

/// The delta turning `base` (or nothing) into `cur`; `None` when nothing changed.
pub fn delta(base: Option<&EntityState>, cur: &EntityState) -> Option<EntityDelta> {
    if base == Some(cur) {
        // Most players of a big server's snapshot: hidden or standing, unchanged.
        return None;
    }
    let b = base.map(EntityState::fields).unwrap_or([0; FIELDS]);
    let c = cur.fields();
    // One branch-free pass (this runs for every changed player of every client's snapshot): each
    // difference is written at the next free slot, which moves on only when it is not zero, so
    // the slots past the last difference hold zeros, as `Diffs` requires.
    let mut vals = [0i64; FIELDS];
    let mut n = 0;
    let mut mask = 0u16;
    for i in 0..FIELDS {
        let d = c[i] - b[i];
        vals[n] = d;
        let changed = d != 0;
        n += usize::from(changed);
        mask |= u16::from(changed) << i;
    }
    if mask == 0 && base.is_some() {
        return None;
    }
    Some(EntityDelta {
        id: cur.id,
        mask,
        diffs: Diffs::from_parts(vals, n),
    })
}

/// Applies one delta to `base` (or to zero).
pub fn apply(base: Option<&EntityState>, d: &EntityDelta) -> Result<EntityState, SnapshotError> {
    if d.mask >> FIELDS != 0 {
        return Err(SnapshotError::UnknownFields(d.id));
    }
    let expected = d.mask.count_ones() as usize;
    if expected != d.diffs.len() {
        return Err(SnapshotError::FieldCount {
            id: d.id,
            expected,
            found: d.diffs.len(),
        });
    }
    let mut f = base.map(EntityState::fields).unwrap_or([0; FIELDS]);
    let mut it = d.diffs.iter();
    for (i, field) in f.iter_mut().enumerate() {
        if d.mask & (1 << i) != 0
            && let Some(v) = it.next()
        {
            *field = field
                .checked_add(*v)
                .ok_or(SnapshotError::OutOfRange { id: d.id, field: i })?;
        }
    }
    EntityState::from_fields(d.id, f)
}

/// The result of building a delta under a size budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltDelta {
    /// Players gone since the baseline.
    pub removed: Vec<PlayerId>,
    /// Changed players sent, in id order (when something was deferred, the ones the priority
    /// fitted in).
    pub entities: Vec<EntityDelta>,
    /// What the client will hold after applying it when something was deferred (baseline plus
    /// what fit); `None` when everything fit, i.e. the client then holds exactly `cur`.
    pub result: Option<EntitySet>,
    /// Changed players left out for lack of room.
    pub deferred: usize,
}

impl BuiltDelta {
    /// What the client will hold after applying this delta.
    pub fn client_set(&self, cur: &EntitySet) -> EntitySet {
        self.result.clone().unwrap_or_else(|| cur.clone())
    }
}

/// Working memory for `build_delta_in`, kept by a caller that builds many deltas (a server
/// builds one per client per snapshot, and at 256 players allocating these lists afresh each
/// time was a tenth of its tick in the allocator). Holds no state between calls.
#[derive(Debug, Default)]
pub struct DeltaScratch {
    entities: Vec<EntityDelta>,
    sizes: Vec<usize>,
    taken: Vec<bool>,
    visited: Vec<bool>,
}

impl DeltaScratch {
    /// Gives back a delta list `build_delta_in` returned, once it is encoded, for the next call.
    pub fn recycle(&mut self, mut entities: Vec<EntityDelta>) {
        if entities.capacity() > self.entities.capacity() {
            entities.clear();
            self.entities = entities;
        }
    }
}

/// `build_delta_in` with fresh working memory.
pub fn build_delta(
    base: &EntitySet,
    cur: &EntitySet,
    priority: impl FnOnce(&[EntityDelta]) -> Vec<usize>,
    budget: usize,
    cost: impl Fn(&EntityDelta) -> usize,
) -> BuiltDelta {
    build_delta_in(&mut DeltaScratch::default(), base, cur, priority, budget, cost)
}

/// Builds the delta from `base` to `cur` within `budget` bytes (`cost` gives the encoded size of
/// one delta). When every change fits, which is the usual case, that is all: no priority is
/// computed and no set is copied. Otherwise `priority(changed)` lists positions in `changed`
/// (the changed entities, in id order) most important first (positions not in it come last, in
/// id order), entities are taken in that order while they fit, and the ones taken are sent in id
/// order (the order a client applies them in).
pub fn build_delta_in(
    scratch: &mut DeltaScratch,
    base: &EntitySet,
    cur: &EntitySet,
    priority: impl FnOnce(&[EntityDelta]) -> Vec<usize>,
    budget: usize,
    cost: impl Fn(&EntityDelta) -> usize,
) -> BuiltDelta {
    // One walk over both sets in id order, not a lookup per player (with hundreds of players
    // per client and a set per client per snapshot, the lookups were a hot spot).
    let mut removed: Vec<PlayerId> = Vec::new();
    let mut entities = std::mem::take(&mut scratch.entities);
    entities.clear();
    entities.reserve(cur.len());
    // Each size once, while the delta is at hand: the over-budget path needs them again.
    let sizes = &mut scratch.sizes;
    sizes.clear();
    let mut old = base.iter().peekable();
    for (id, c) in cur {
        while let Some((gone, _)) = old.next_if(|(b, _)| *b < id) {
            removed.push(*gone);
        }
        let prev = old.next_if(|(b, _)| *b == id).map(|(_, e)| e);
        if let Some(d) = delta(prev, c) {
            sizes.push(cost(&d));
            entities.push(d);
        }
    }
    removed.extend(old.map(|(id, _)| *id));
    let used = removed.len() * 3 + sizes.iter().sum::<usize>();
    if used <= budget {
        return BuiltDelta {
            removed,
            entities,
            result: None,
            deferred: 0,
        };
    }
    // Over budget (every snapshot of a client that is shown most of a big server): the priority
    // names positions, so choosing is a walk over flags, and the client's set is built in one
    // ordered pass (a bulk build), not an insertion per player.
    let (taken, visited) = (&mut scratch.taken, &mut scratch.visited);
    taken.clear();
    taken.resize(entities.len(), false);
    visited.clear();
    visited.resize(entities.len(), false);
    let mut used = removed.len() * 3;
    let mut deferred = 0;
    let listed = priority(&entities);
    for k in listed.into_iter().chain(0..entities.len()) {
        if k >= entities.len() || std::mem::replace(&mut visited[k], true) {
            continue;
        }
        let size = sizes[k];
        if used + size > budget {
            deferred += 1;
            continue;
        }
        used += size;
        taken[k] = true;
    }
    let mut old = base.iter().peekable();
    let mut k = 0;
    let mut result_entries: Vec<(PlayerId, EntityState)> = Vec::with_capacity(cur.len());
    for (id, c) in cur {
        while old.next_if(|(b, _)| *b < id).is_some() {}
        let prev = old.next_if(|(b, _)| *b == id).map(|(_, e)| *e);
        while k < entities.len() && entities[k].id < *id {
            k += 1;
        }
        let changed = k < entities.len() && entities[k].id == *id;
        let held = if changed && taken[k] { Some(*c) } else { prev };
        if let Some(e) = held {
            result_entries.push((*id, e));
        }
    }
    // Drop the deferred in place: the taken keep their id order.
    let mut next = taken.iter();
    entities.retain(|_| next.next().copied().unwrap_or(false));
    BuiltDelta {
        removed,
        entities,
        result: Some(result_entries.into_iter().collect()),
        deferred,
    }
}

/// Applies a whole snapshot delta to `base`.
pub fn apply_delta(
    base: &EntitySet,
    removed: &[PlayerId],
    entities: &[EntityDelta],
) -> Result<EntitySet, SnapshotError> {
    // The reference server sends deltas in id order; another server may not, and in id order
    // they apply in one walk (without even a list of references to sort, in the usual case: a
    // bot process applies thousands a second).
    if removed.is_sorted() {
        if entities.windows(2).all(|w| w[0].id < w[1].id) {
            return Ok(apply_in_order(base, removed, entities.iter())?
                .into_iter()
                .collect());
        }
        let mut order: Vec<&EntityDelta> = entities.iter().collect();
        order.sort_by_key(|d| d.id);
        if order.windows(2).all(|w| w[0].id < w[1].id) {
            return Ok(apply_in_order(base, removed, order.into_iter())?
                .into_iter()
                .collect());
        }
    }
    // The same player twice (never from a server): one by one, each on the previous result.
    let mut out = base.clone();
    for id in removed {
        out.remove(id);
    }
    for d in entities {
        let e = apply(out.get(&d.id), d)?;
        out.insert(d.id, e);
    }
    Ok(out)
}

/// `apply_delta` for `removed` and `entities` in id order, each player once: one walk over the
/// three lists, giving the entries in id order (a client applies one per snapshot, and a bot
/// process hundreds, where a search and an insertion per delta was a large share of its core).
fn apply_in_order<'a>(
    base: &EntitySet,
    removed: &[PlayerId],
    entities: impl ExactSizeIterator<Item = &'a EntityDelta>,
) -> Result<Vec<(PlayerId, EntityState)>, SnapshotError> {
    let mut out = Vec::with_capacity(base.len() + entities.len());
    let mut gone = removed.iter().peekable();
    let mut deltas = entities.peekable();
    for (id, e) in base {
        while let Some(d) = deltas.next_if(|d| d.id < *id) {
            out.push((d.id, apply(None, d)?));
        }
        while gone.next_if(|r| *r < id).is_some() {}
        let kept = if gone.peek() == Some(&id) { None } else { Some(e) };
        match deltas.next_if(|d| d.id == *id) {
            Some(d) => out.push((*id, apply(kept, d)?)),
            None => out.extend(kept.map(|e| (*id, *e))),
        }
    }
    for d in deltas {
        out.push((d.id, apply(None, d)?));
    }
    Ok(out)
}

impl EntityState {
    /// The hitbox this entity has in lag-compensation terms.
    pub fn hitbox(&self) -> crate::lagcomp::HitboxSample {
        crate::lagcomp::HitboxSample {
            id: self.id,
            pos: self.pos,
            alive: self.alive,
        }
    }
}
