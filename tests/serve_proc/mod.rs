//! Running `rewind serve` as a child process, the way users run it, for the CLI tests.

#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod recorded;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A fresh, empty scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rewind-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Starts `rewind serve ARGS --data-dir DIR/data`; returns the child and its stdout lines.
pub fn spawn_serve<S: AsRef<OsStr>>(args: &[S], dir: &Path) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .arg("serve")
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rewind serve starts");
    let stdout = child.stdout.take().expect("stdout");
    (child, BufReader::new(stdout).lines())
}
