//! A snapshot datagram as a client receives it: decoding never panics, whatever decodes encodes
//! again to the same packet, and applying it to a baseline never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind_shared::codec::{decode_snapshot, encode_snapshot};
use rewind_shared::protocol::MAX_DATAGRAM;
use rewind_shared::snapshot::{EntitySet, EntityState, apply_delta};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = decode_snapshot(data, MAX_DATAGRAM) else {
        return;
    };
    let bytes = encode_snapshot(&packet).expect("a decoded snapshot encodes");
    assert_eq!(decode_snapshot(&bytes, usize::MAX).as_ref(), Ok(&packet));
    let base: EntitySet = packet
        .removed
        .iter()
        .map(|id| (*id, EntityState { id: *id, ..EntityState::default() }))
        .collect();
    let _ = apply_delta(&base, &packet.removed, &packet.entities);
});
