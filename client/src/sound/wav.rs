//! A minimal WAV (RIFF, 16-bit PCM) writer and reader. The synthesized effects are handed to
//! macroquad as WAV bytes (its loader detects the format), and the reader lets tests check what
//! was written without a decoder dependency.

/// Sample rate of every effect: quad-snd mixes at 44.1 kHz and resamples anything else with a
/// nearest-neighbour step, so the effects are made at its rate.
pub const RATE: u32 = 44_100;

/// Why bytes are not a WAV this module wrote.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    /// Shorter than a header, or the data chunk runs past the end.
    #[error("truncated WAV ({0} bytes)")]
    Truncated(usize),
    /// Not RIFF/WAVE, or not 16-bit PCM.
    #[error("not a 16-bit PCM WAV: {0}")]
    Format(&'static str),
}

/// Encodes interleaved stereo frames (each sample -1..=1, clipped) as a 16-bit PCM WAV.
pub fn encode_stereo(frames: &[[f32; 2]]) -> Vec<u8> {
    let data_len = (frames.len() * 4) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&2u16.to_le_bytes()); // channels
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 4).to_le_bytes()); // bytes per second
    out.extend_from_slice(&4u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for frame in frames {
        for s in frame {
            let v = (s.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Decodes a WAV written by [`encode_stereo`] back to frames (tests and sanity checks).
pub fn decode_stereo(bytes: &[u8]) -> Result<Vec<[f32; 2]>, WavError> {
    if bytes.len() < 44 {
        return Err(WavError::Truncated(bytes.len()));
    }
    if &bytes[0..4] != b"RIFF" || &bytes[8..16] != b"WAVEfmt " || &bytes[36..40] != b"data" {
        return Err(WavError::Format("missing RIFF/WAVE/fmt/data tags"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
    if u16_at(20) != 1 || u16_at(22) != 2 || u16_at(34) != 16 {
        return Err(WavError::Format("only stereo 16-bit PCM is read"));
    }
    let len = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]) as usize;
    let data = bytes.get(44..44 + len).ok_or(WavError::Truncated(bytes.len()))?;
    let scale = f32::from(i16::MAX);
    Ok(data
        .chunks_exact(4)
        .map(|c| {
            [
                f32::from(i16::from_le_bytes([c[0], c[1]])) / scale,
                f32::from(i16::from_le_bytes([c[2], c[3]])) / scale,
            ]
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_clips_and_rejects_foreign_bytes() {
        let frames = [[0.0, 0.5], [-0.25, 1.0], [2.0, -3.0]];
        let wav = encode_stereo(&frames);
        assert_eq!(wav.len(), 44 + 12);
        let back = decode_stereo(&wav).expect("our own WAV");
        assert_eq!(back.len(), 3);
        assert!((back[0][1] - 0.5).abs() < 1e-4);
        assert!((back[1][0] + 0.25).abs() < 1e-4);
        assert_eq!(back[2], [1.0, -1.0], "out-of-range samples are clipped");
        assert_eq!(decode_stereo(&wav[..20]), Err(WavError::Truncated(20)));
        assert_eq!(decode_stereo(&wav[..50]), Err(WavError::Truncated(50)));
        let mut ogg = wav.clone();
        ogg[0..4].copy_from_slice(b"OggS");
        assert!(matches!(decode_stereo(&ogg), Err(WavError::Format(_))));
    }
}
