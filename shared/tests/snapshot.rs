//! Delta snapshots decode to the same state as full ones, and respect the size budget.

use proptest::prelude::*;
use rewind_shared::Vec2;
use rewind_shared::codec::{decode_snapshot, encode_snapshot};
use rewind_shared::player::{Body, Life, PlayerId, PlayerState, Score, Weapon};
use rewind_shared::protocol::MAX_DATAGRAM;
use rewind_shared::protocol::SnapshotPacket;
use rewind_shared::quant::{q_to_pos, q_to_vel};
use rewind_shared::snapshot::*;
use rewind_shared::tick::{Seq, Tick};

fn arb_entity(id: u16) -> impl Strategy<Value = EntityState> {
    (
        any::<[i32; 2]>(),
        any::<[i16; 2]>(),
        any::<u8>(),
        any::<bool>(),
        any::<u16>(),
        any::<u16>(),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(
            move |(pos, aim, health, alive, kills, deaths, hidden, shots)| EntityState {
                id: PlayerId(id),
                pos,
                aim,
                health,
                alive,
                kills,
                deaths,
                hidden,
                shots,
            },
        )
}

fn arb_set() -> impl Strategy<Value = EntitySet> {
    proptest::collection::btree_set(0u16..40, 0..20).prop_flat_map(|ids| {
        ids.into_iter()
            .map(arb_entity)
            .collect::<Vec<_>>()
            .prop_map(|v| v.into_iter().map(|e| (e.id, e)).collect())
    })
}

fn cost(d: &EntityDelta) -> usize {
    d.encoded_len()
}

proptest! {
    /// Working memory kept from one build to the next (as a server keeps it across its clients)
    /// changes nothing: each build equals one made with fresh memory, under any budget.
    #[test]
    fn a_kept_scratch_builds_what_fresh_memory_builds(
        steps in proptest::collection::vec((arb_set(), arb_set(), 0usize..200), 1..8),
    ) {
        let mut scratch = DeltaScratch::default();
        let by_id = |d: &[EntityDelta]| (0..d.len()).rev().collect::<Vec<usize>>();
        for (base, cur, budget) in steps {
            let kept = build_delta_in(&mut scratch, &base, &cur, by_id, budget, cost);
            let fresh = build_delta(&base, &cur, by_id, budget, cost);
            prop_assert_eq!(&kept, &fresh);
            scratch.recycle(kept.entities);
        }
    }

    #[test]
    fn delta_decodes_to_same_state_as_full(base in arb_set(), cur in arb_set()) {
        let full = build_delta(&EntitySet::new(), &cur, |_| Vec::new(), usize::MAX, cost);
        let delta = build_delta(&base, &cur, |_| Vec::new(), usize::MAX, cost);
        prop_assert_eq!(apply_delta(&EntitySet::new(), &full.removed, &full.entities).unwrap(), cur.clone());
        prop_assert_eq!(apply_delta(&base, &delta.removed, &delta.entities).unwrap(), cur.clone());
        prop_assert_eq!(delta.client_set(&cur), cur);
    }

    /// The walk over deltas put in id order gives what applying them one by one gives, in any
    /// order, removals of players that also have a delta included.
    #[test]
    fn deltas_apply_in_one_walk_as_one_by_one(
        base in arb_set(),
        cur in arb_set(),
        removed in proptest::collection::btree_set(0u16..12, 0..6),
        shuffle in any::<u64>(),
    ) {
        let built = build_delta(&base, &cur, |_| Vec::new(), usize::MAX, cost);
        let removed: Vec<PlayerId> = removed.into_iter().map(PlayerId).collect();
        let mut shuffled = built.entities.clone();
        shuffled.sort_by_key(|d| (u64::from(d.id.0) ^ shuffle).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // The reference: remove, then apply each delta in turn on what the previous left.
        let kept: EntitySet = base.iter().filter(|(id, _)| !removed.contains(id)).map(|(id, e)| (*id, *e)).collect();
        let one_by_one = shuffled.iter().try_fold(kept, |mut set, d| {
            let e = apply(set.get(&d.id), d).ok()?;
            set.insert(d.id, e);
            Some(set)
        });
        prop_assert_eq!(apply_delta(&base, &removed, &shuffled).ok(), one_by_one);
    }

    #[test]
    fn budget_defers_rather_than_fragments(cur in arb_set(), budget in 0usize..400) {
        let built = build_delta(&EntitySet::new(), &cur, |_| Vec::new(), budget, cost);
        let used: usize = built.entities.iter().map(cost).sum();
        prop_assert!(used <= budget);
        prop_assert_eq!(built.entities.len() + built.deferred, cur.len());
        prop_assert_eq!(apply_delta(&EntitySet::new(), &built.removed, &built.entities).unwrap(), built.client_set(&cur));
    }
}

#[test]
fn unchanged_entities_cost_nothing_and_priority_comes_first() {
    let e = |id, x| EntityState {
        id: PlayerId(id),
        pos: [x, 0],
        ..EntityState::default()
    };
    let base: EntitySet = [(PlayerId(1), e(1, 5)), (PlayerId(2), e(2, 5))].into();
    let cur: EntitySet = [
        (PlayerId(1), e(1, 5)),
        (PlayerId(2), e(2, 6)),
        (PlayerId(3), e(3, 1)),
    ]
    .into();
    // Everything fits: only the two changed entities are sent, in id order, no priority asked.
    let built = build_delta(
        &base,
        &cur,
        |_| unreachable!("priority is only computed when over budget"),
        usize::MAX,
        cost,
    );
    assert_eq!(built.entities.len(), 2);
    assert_eq!(built.entities[0].id, PlayerId(2));
    assert_eq!(built.result, None);
    // Room for one: the priority decides who goes first.
    let three = built
        .entities
        .iter()
        .find(|d| d.id == PlayerId(3))
        .map(cost)
        .unwrap();
    let one = build_delta(&base, &cur, |_| vec![1], three, cost);
    assert_eq!(one.entities.len(), 1);
    assert_eq!(one.entities[0].id, PlayerId(3));
    assert_eq!(one.deferred, 1);
    let held = one.client_set(&cur);
    assert_eq!(
        held.get(&PlayerId(2)).map(|e| e.pos),
        Some([5, 0]),
        "deferred entity keeps its baseline"
    );
    assert_eq!(held.get(&PlayerId(3)).map(|e| e.pos), Some([1, 0]));
}

#[test]
fn hostile_deltas_are_errors() {
    let d = EntityDelta {
        id: PlayerId(1),
        mask: 0b11,
        diffs: [1].into(),
    };
    assert!(matches!(apply(None, &d), Err(SnapshotError::FieldCount { .. })));
    let d = EntityDelta {
        id: PlayerId(1),
        mask: 1 << 12,
        diffs: [1].into(),
    };
    assert!(matches!(apply(None, &d), Err(SnapshotError::UnknownFields(_))));
    let d = EntityDelta {
        id: PlayerId(1),
        mask: 1,
        diffs: [i64::MAX].into(),
    };
    assert!(matches!(apply(None, &d), Err(SnapshotError::OutOfRange { .. })));
}

proptest! {
    /// The size budget's arithmetic must match what the snapshot coding really writes.
    #[test]
    fn encoded_len_matches_the_codec(id in any::<u16>(), mask in 0u16..1024, diffs in proptest::collection::vec(any::<i64>(), 10)) {
        let diffs = Diffs::try_from(&diffs[..mask.count_ones() as usize]).unwrap();
        let d = EntityDelta { id: PlayerId(id), mask, diffs };
        let packet = |entities: Vec<EntityDelta>| SnapshotPacket {
            seq: Seq(1),
            tick: Tick(1),
            baseline: None,
            last_input: None,
            input_lead: 0,
            you: None,
            removed: Vec::new(),
            entities,
        };
        let one = encode_snapshot(&packet(vec![d.clone()])).unwrap().len();
        let none = encode_snapshot(&packet(Vec::new())).unwrap().len();
        prop_assert_eq!(d.encoded_len(), one - none);
    }

    /// Any snapshot the server can build comes back from the hand-packed coding as it went in.
    #[test]
    fn hand_packed_packets_round_trip(
        base in arb_set(),
        cur in arb_set(),
        q in any::<[i16; 4]>(),
        respawn in proptest::option::of(any::<u32>()),
        next_fire in any::<u32>(),
        has_you in any::<bool>(),
        tick in any::<u32>(),
    ) {
        let built = build_delta(&base, &cur, |_| Vec::new(), usize::MAX, EntityDelta::encoded_len);
        let you = PlayerState {
            id: PlayerId(3),
            body: Body {
                pos: Vec2::new(q_to_pos(q[0].into()), q_to_pos(q[1].into())),
                vel: Vec2::new(q_to_vel(q[2].into()), q_to_vel(q[3].into())),
            },
            life: Life { health: 70, respawn_at: respawn.map(Tick) },
            weapon: Weapon { aim: [q[1], q[2]], next_fire: Tick(next_fire) },
            score: Score { kills: 1, deaths: 0 },
        };
        let p = SnapshotPacket {
            seq: Seq(tick as u16),
            tick: Tick(tick),
            baseline: (!base.is_empty()).then_some(Tick(tick.wrapping_sub(6))),
            last_input: Some(Seq(7)),
            input_lead: -3,
            you: has_you.then_some(you),
            removed: built.removed,
            entities: built.entities,
        };
        let bytes = encode_snapshot(&p).unwrap();
        let sizes: usize = p.entities.iter().map(EntityDelta::encoded_len).sum();
        prop_assert!(bytes.len() >= sizes);
        prop_assert_eq!(decode_snapshot(&bytes, MAX_DATAGRAM).unwrap(), p);
    }
}
