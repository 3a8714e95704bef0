//! A control-stream message as a client receives it (killcams included): decoding never panics,
//! a decoded killcam validates or is refused without panicking, and whatever decodes encodes
//! again to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rewind_shared::codec::{decode, encode};
use rewind_shared::protocol::{MAX_CONTROL_FRAME, ServerMsg};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = decode::<ServerMsg>(data, MAX_CONTROL_FRAME) else {
        return;
    };
    if let ServerMsg::Killcam(cam) = &msg
        && cam.validate().is_ok()
    {
        let _ = cam.rewound_view();
        let _ = cam.killer_eye(cam.frames.len() as f64 / 2.0);
    }
    // Compared as bytes, which also holds for floats that are NaN.
    let bytes = encode(&msg).expect("a decoded message encodes");
    let again = decode::<ServerMsg>(&bytes, usize::MAX).expect("an encoded message decodes");
    assert_eq!(encode(&again).ok(), Some(bytes));
});
