//! An input datagram as the server receives it: decoding never panics, and whatever decodes
//! encodes again to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind_shared::codec::{decode, encode};
use rewind_shared::protocol::{ClientDatagram, MAX_DATAGRAM};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode::<ClientDatagram>(data, MAX_DATAGRAM) else {
        return;
    };
    // Compared as bytes, which also holds for floats that are NaN.
    let bytes = encode(&msg).expect("a decoded message encodes");
    let again = decode::<ClientDatagram>(&bytes, usize::MAX).expect("an encoded message decodes");
    assert_eq!(encode(&again).ok(), Some(bytes));
});
