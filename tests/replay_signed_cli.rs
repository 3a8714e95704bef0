//! `rewind replay verify|info` on signed recordings, as users run them: a recorded match names
//! its server's fingerprint (the one `serve` prints and clients pin) and whether it is a known
//! host; `--cert-hash` of another server, an unsigned file or a misplaced signature fail with a
//! clear message naming the cause.

mod serve_proc;

use rewind_server::{ServerConfig, start};
use rewind_shared::replay::{CHUNK_HEADER_LEN, PREAMBLE_LEN};
use serve_proc::scratch;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const OLD_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pre-upgrade.rwd");

/// Records a 2-second match with AI players; returns the file and the server's fingerprint.
fn record(dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(name);
    let srv = start(ServerConfig {
        ai: 2,
        record: Some(file.clone()),
        duration: Some(Duration::from_secs(2)),
        ..ServerConfig::default()
    })
    .expect("server");
    let hash = srv.cert_hash().to_string();
    let _ = srv.wait();
    (file, hash)
}

fn replay(args: &[&str], file: &Path, known_hosts: &Path) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .arg("replay")
        .args(args)
        .arg(file)
        .arg("--known-hosts")
        .arg(known_hosts)
        .output()
        .expect("rewind replay runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out, text)
}

#[test]
fn verify_names_the_signer_checks_cert_hash_and_known_hosts() {
    let dir = scratch("replay-signed-cli");
    let known = dir.join("known_hosts");
    let (a_file, a) = record(&dir, "a.rwd");
    let (b_file, b) = record(&dir, "b.rwd");
    assert_ne!(a, b, "two servers, two certificates");

    let (out, text) = replay(&["verify", "--cert-hash", &a], &a_file, &known);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("signer    signed by {a}, matches --cert-hash, not in")),
        "{text}"
    );
    assert!(text.trim_end().ends_with("OK"), "{text}");

    std::fs::write(&known, format!("example.org:4433 {a}\n")).expect("known hosts");
    let (out, text) = replay(&["info"], &a_file, &known);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("signed by {a}, known host example.org:4433 in")),
        "{text}"
    );

    // Another server's recording does not pass for the first one's.
    let (out, text) = replay(&["verify", "--cert-hash", &a], &b_file, &known);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!("signed by {b}, not by the server with --cert-hash {a}")),
        "{text}"
    );

    // An unsigned (version 1) file cannot pass a --cert-hash check.
    let (out, text) = replay(&["verify", "--cert-hash", &a], Path::new(OLD_FILE), &known);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("unsigned (format version 1"), "{text}");
    assert!(
        text.contains("unsigned, so it cannot be shown to come from"),
        "{text}"
    );

    // A genuine signature moved onto another chunk: the last chunk's signature is replaced by
    // the header's (valid, but for another digest; ECDSA signatures vary from 70 to 72 bytes, so
    // when the lengths differ a byte of it is flipped instead). Nothing follows the last chunk,
    // so only the signature check can tell.
    let bytes = std::fs::read(&a_file).expect("file");
    let mut list = Vec::new();
    let mut pos = PREAMBLE_LEN;
    while pos + CHUNK_HEADER_LEN <= bytes.len() {
        let len = u32::from_le_bytes(bytes[pos + 5..pos + 9].try_into().expect("4 bytes")) as usize;
        let sig = usize::from(u16::from_le_bytes([bytes[pos + 9], bytes[pos + 10]]));
        list.push((pos, CHUNK_HEADER_LEN + len, sig));
        pos += CHUNK_HEADER_LEN + len + sig;
    }
    let (first, last) = (list[0], list[list.len() - 1]);
    let mut forged = bytes.clone();
    if first.2 == last.2 {
        let sig0 = bytes[first.0 + first.1..first.0 + first.1 + first.2].to_vec();
        forged[last.0 + last.1..last.0 + last.1 + last.2].copy_from_slice(&sig0);
    } else {
        forged[last.0 + last.1] ^= 0x01;
    }
    let forged_file = dir.join("forged.rwd");
    std::fs::write(&forged_file, &forged).expect("write");
    let (out, text) = replay(&["verify"], &forged_file, &known);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "bad signature in chunk {} at offset {}",
            list.len() - 1,
            last.0
        )),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
