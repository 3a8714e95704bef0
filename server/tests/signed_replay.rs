//! Signed recordings with the server's real key type (rcgen ECDSA P-256 through `IdentitySigner`):
//! a good file names its signer; a file edited and re-chained the way a forger with the library
//! (but not the key) would do it fails as a bad signature at the edited chunk, not as OK; a file
//! cut by a crash is attributable up to its last complete chunk; another server's key gives
//! another fingerprint.

use rewind_server::cert::Identity;
use rewind_server::signer::IdentitySigner;
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::replay::synth::{SynthParams, record_synthetic_signed};
use rewind_shared::replay::{
    CHUNK_HEADER_LEN, ChainSigner, PREAMBLE_LEN, Replay, ReplayError, ReplayWriter, SigAlg, SignError,
    Signer, TickRecord, fingerprint, verify,
};
use rewind_shared::sim::{SimConfig, World};
use rewind_shared::tick::Tick;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

fn signer(id: &Identity) -> Box<dyn ChainSigner> {
    Box::new(IdentitySigner::new(id).expect("the identity signs"))
}

fn record(id: &Identity, ticks: u32) -> Vec<u8> {
    let map = Map::builtin("arena").expect("arena");
    let params = SynthParams {
        seed: 16,
        ticks,
        players: 6,
        churn: 0.01,
        start_tick: Tick(0),
    };
    let (bytes, _) = record_synthetic_signed(
        Vec::new(),
        &map,
        SimConfig::new(60, true, 250),
        params,
        Some(signer(id)),
    )
    .expect("recording");
    bytes
}

/// (offset, total length, signature) of every chunk, read straight from the version-2 layout.
fn chunks(bytes: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = PREAMBLE_LEN;
    while pos + CHUNK_HEADER_LEN <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos + 5..pos + 9].try_into().expect("4 bytes")) as usize;
        let sig_len = usize::from(u16::from_le_bytes([bytes[pos + 9], bytes[pos + 10]]));
        let total = CHUNK_HEADER_LEN + len + sig_len;
        if pos + total > bytes.len() {
            break;
        }
        let sig = bytes[pos + CHUNK_HEADER_LEN + len..pos + total].to_vec();
        out.push((pos, total, sig));
        pos += total;
    }
    out
}

/// A forger's signer: it has the victim's certificate (it is public: it is in every file) and
/// the signatures of an honest file, but not the key, so it hands back those signatures in order.
struct Replayed {
    cert: Vec<u8>,
    sigs: Vec<Vec<u8>>,
    next: AtomicUsize,
}

impl ChainSigner for Replayed {
    fn certificate(&self) -> &[u8] {
        &self.cert
    }
    fn algorithm(&self) -> SigAlg {
        SigAlg::EcdsaP256Sha256
    }
    fn sign(&self, _message: &[u8]) -> Result<Vec<u8>, SignError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(self.sigs.get(i).cloned().unwrap_or_default())
    }
}

/// What a forger with the library does: take the records, `edit` them, re-simulate so every
/// per-tick hash and keyframe is right again, and write a fresh hash chain with `signer`,
/// keyframes at the same ticks (so the chunks line up with the original).
fn rewrite(bytes: &[u8], mut edit: impl FnMut(&mut TickRecord), signer: Box<dyn ChainSigner>) -> Vec<u8> {
    let replay = Replay::from_bytes(bytes).expect("the original parses");
    let header = replay.header().clone();
    let map = replay.map().clone();
    let at: BTreeSet<u32> = replay.keyframes().iter().skip(1).map(|k| k.tick.0).collect();
    let mut w = ReplayWriter::signed(Vec::new(), header.clone(), signer).expect("writer");
    let mut world = World::new(header.cfg, header.start_tick);
    let mut names: BTreeMap<PlayerId, String> = BTreeMap::new();
    for r in replay.records() {
        let mut r = r.clone();
        edit(&mut r);
        for id in &r.leaves {
            world.remove_player(*id);
            names.remove(id);
        }
        for (id, name) in &r.joins {
            world.add_player(&map, *id);
            names.insert(*id, name.clone());
        }
        world.step(&map, &r.inputs.iter().copied().collect());
        r.hash = world.hash();
        let tick = r.tick;
        w.push_tick(r).expect("push");
        if at.contains(&tick.0) {
            let roster: Vec<_> = names.iter().map(|(i, n)| (*i, n.clone())).collect();
            w.push_keyframe(&world, &roster).expect("keyframe");
        }
    }
    w.finish().expect("finish")
}

#[test]
fn a_signed_recording_verifies_and_names_its_servers_fingerprint() {
    let id = Identity::generate().expect("identity");
    let bytes = record(&id, 900);
    let s = verify(&bytes).expect("verifies");
    assert_eq!(s.format_version, 2);
    let n = chunks(&bytes).len() as u32;
    match &s.signer {
        Signer::Signed {
            fingerprint: fp,
            certificate,
            algorithm,
            chunks,
        } => {
            assert_eq!(fp, &id.hash_hex(), "the fingerprint clients pin");
            assert_eq!(certificate.as_slice(), id.cert.as_ref());
            assert_eq!(*algorithm, SigAlg::EcdsaP256Sha256);
            assert_eq!(*chunks, n, "every chunk is covered");
        }
        Signer::Unsigned => panic!("expected a signed file"),
    }
    assert!(
        chunks(&bytes)
            .iter()
            .all(|(_, _, sig)| (64..=72).contains(&sig.len())),
        "every chunk carries an ECDSA signature"
    );
}

#[test]
fn an_input_edited_and_re_chained_fails_as_a_bad_signature_at_the_edited_chunk() {
    let id = Identity::generate().expect("identity");
    let bytes = record(&id, 900);
    let list = chunks(&bytes);
    let sigs: Vec<Vec<u8>> = list.iter().map(|(_, _, s)| s.clone()).collect();
    let forger = |sigs: &Vec<Vec<u8>>| -> Box<dyn ChainSigner> {
        Box::new(Replayed {
            cert: id.cert.as_ref().to_vec(),
            sigs: sigs.clone(),
            next: AtomicUsize::new(0),
        })
    };
    // The forger's tooling is faithful: with no edit it reproduces the file byte for byte.
    assert_eq!(rewrite(&bytes, |_| {}, forger(&sigs)), bytes);
    // Chunks: 0 header, 1 first keyframe, 2 ticks 1..=60, 3 ticks 61..=120. Edit tick 90.
    let edited = rewrite(
        &bytes,
        |r| {
            if r.tick == Tick(90)
                && let Some((_, input)) = r.inputs.first_mut()
            {
                input.mv = if input.mv == [127, 0] { [-127, 0] } else { [127, 0] };
            }
        },
        forger(&sigs),
    );
    assert_ne!(edited, bytes);
    assert_eq!(edited[..list[3].0], bytes[..list[3].0], "the prefix is untouched");
    let replay_err = Replay::from_bytes(&edited).expect_err("must not parse as genuine");
    assert_eq!(
        replay_err,
        ReplayError::BadSignature {
            chunk: 3,
            offset: list[3].0 as u64,
            reason: match &replay_err {
                ReplayError::BadSignature { reason, .. } => reason.clone(),
                _ => String::new(),
            },
        }
    );
    let msg = verify(&edited).expect_err("not OK").to_string();
    assert!(
        msg.starts_with(&format!("bad signature in chunk 3 at offset {}", list[3].0)),
        "{msg}"
    );
    // The edit is real (re-simulation is consistent): only the signature gives it away.
    let other = Identity::generate().expect("identity");
    let self_signed = rewrite(
        &bytes,
        |r| {
            if r.tick == Tick(90)
                && let Some((_, input)) = r.inputs.first_mut()
            {
                input.mv = if input.mv == [127, 0] { [-127, 0] } else { [127, 0] };
            }
        },
        signer(&other),
    );
    let s = verify(&self_signed).expect("a forger's own signature is valid");
    assert_eq!(s.signer.fingerprint(), Some(other.hash_hex().as_str()));
    assert_ne!(s.signer.fingerprint(), Some(id.hash_hex().as_str()));
}

#[test]
fn the_victims_certificate_with_the_forgers_key_fails_at_the_header() {
    let victim = Identity::generate().expect("identity");
    let forger_id = Identity::generate().expect("identity");
    let bytes = record(&victim, 300);
    struct Claiming(Vec<u8>, IdentitySigner);
    impl ChainSigner for Claiming {
        fn certificate(&self) -> &[u8] {
            &self.0
        }
        fn algorithm(&self) -> SigAlg {
            self.1.algorithm()
        }
        fn sign(&self, m: &[u8]) -> Result<Vec<u8>, SignError> {
            self.1.sign(m)
        }
    }
    let claiming = Claiming(
        victim.cert.as_ref().to_vec(),
        IdentitySigner::new(&forger_id).expect("signer"),
    );
    let forged = rewrite(&bytes, |_| {}, Box::new(claiming));
    match verify(&forged) {
        Err(ReplayError::BadSignature { chunk, offset, .. }) => {
            assert_eq!((chunk, offset), (0, PREAMBLE_LEN as u64))
        }
        other => panic!("expected a bad signature at the header, got {other:?}"),
    }
}

#[test]
fn a_recording_cut_by_a_crash_is_attributable_up_to_its_last_complete_chunk() {
    let id = Identity::generate().expect("identity");
    let bytes = record(&id, 700);
    let list = chunks(&bytes);
    for (i, &(off, len, _)) in list.iter().enumerate().skip(1) {
        for cut in [off, off + 1, off + CHUNK_HEADER_LEN + 3, off + len - 1] {
            let s = verify(&bytes[..cut]).expect("a cut file verifies up to the cut");
            assert!(s.truncated, "cut at {cut}");
            match &s.signer {
                Signer::Signed {
                    fingerprint: fp,
                    chunks,
                    ..
                } => {
                    assert_eq!(fp, &id.hash_hex());
                    assert_eq!(*chunks, i as u32, "cut at {cut}: chunks 0..{i} are signed");
                }
                Signer::Unsigned => panic!("cut at {cut}: the prefix is still signed"),
            }
        }
    }
    assert_eq!(fingerprint(id.cert.as_ref()), id.hash_hex());
}

#[test]
fn a_flipped_signature_byte_is_an_error_wherever_it_is() {
    let id = Identity::generate().expect("identity");
    let bytes = record(&id, 400);
    let list = chunks(&bytes);
    for (i, &(off, len, ref sig)) in list.iter().enumerate() {
        let mut bad = bytes.clone();
        bad[off + len - sig.len() / 2] ^= 0x10;
        let err = verify(&bad).expect_err("a damaged signature is noticed");
        if i + 1 == list.len() {
            // Nothing follows the last chunk: only the signature check can see it.
            assert!(
                matches!(err, ReplayError::BadSignature { chunk, .. } if chunk as usize == i),
                "{err}"
            );
        } else {
            // The next chunk's digest covers this signature.
            assert!(
                matches!(err, ReplayError::BrokenChain { chunk, .. } if chunk as usize == i + 1),
                "{err}"
            );
        }
    }
}

#[test]
fn a_recording_signed_by_another_server_names_that_server() {
    let a = Identity::generate().expect("identity");
    let b = Identity::generate().expect("identity");
    let by_b = verify(&record(&b, 200)).expect("verifies");
    assert_eq!(by_b.signer.fingerprint(), Some(b.hash_hex().as_str()));
    assert_ne!(by_b.signer.fingerprint(), Some(a.hash_hex().as_str()));
}
