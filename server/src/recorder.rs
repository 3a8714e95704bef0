//! `--record FILE`: the tick loop hands each tick's record (and a keyframe every few seconds) to a
//! writer thread over an unbounded channel, so disk latency never stalls a tick. The writer
//! flushes a hash-chained chunk every second; a crash loses at most the chunk being filled. With a
//! signer (the server's certificate key) every chunk is signed as it is written.

use rewind_shared::replay::{ChainSigner, Keyframe, ReplayHeader, ReplayWriter, TickRecord};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

enum RecMsg {
    Tick(TickRecord),
    Keyframe(Keyframe),
}

/// Why recording could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be created or its header written.
    #[error("cannot record to {path}: {why}")]
    Create {
        /// File.
        path: PathBuf,
        /// Cause.
        why: String,
    },
}

/// The file of match `number` when `serve --record FILE` plays `several` matches: `FILE` itself
/// for a single match, else `-N` before the extension (`match.rwd` → `match-1.rwd`,
/// `match-2.rwd`, ...; `match` → `match-1`), so every match is a file that verifies on its own
/// and they sort in order of play within the same number of digits.
pub fn match_path(base: &Path, number: u32, several: bool) -> PathBuf {
    if !several {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{number}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{number}"),
    };
    base.with_file_name(name)
}

/// A running recording.
pub struct Recorder {
    tx: Option<Sender<RecMsg>>,
    header: ReplayHeader,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// Creates the file and writes the header now (so a bad path fails at startup), then hands
    /// the writer to its own thread. With `signer`, the recording is signed (see
    /// `rewind_shared::replay::ChainSigner`); without, it is unsigned.
    pub fn start(
        path: &Path,
        header: ReplayHeader,
        signer: Option<Box<dyn ChainSigner>>,
    ) -> Result<Recorder, RecordError> {
        let err = |why: String| RecordError::Create {
            path: path.to_path_buf(),
            why,
        };
        let file = File::create(path).map_err(|e| err(e.to_string()))?;
        let out = BufWriter::new(file);
        let mut writer = match signer {
            Some(s) => ReplayWriter::signed(out, header.clone(), s),
            None => ReplayWriter::new(out, header.clone()),
        }
        .map_err(|e| err(e.to_string()))?;
        // One record per tick (chat is rate-limited per player, players are capped), and the
        // writer thread drains it continuously.
        let (tx, rx) = channel::<RecMsg>(); // bounded: by the tick rate, see above
        let shown = path.display().to_string();
        let thread = std::thread::Builder::new()
            .name("rewind-record".into())
            .spawn(move || {
                for msg in rx {
                    let r = match msg {
                        RecMsg::Tick(rec) => writer.push_tick(rec),
                        RecMsg::Keyframe(kf) => writer.push_keyframe_state(kf),
                    };
                    if let Err(e) = r {
                        tracing::error!(file = %shown, "recording stopped: {e}");
                        return;
                    }
                }
                match writer.finish() {
                    Ok(_) => tracing::info!(file = %shown, "recording complete"),
                    Err(e) => tracing::error!(file = %shown, "cannot finish recording: {e}"),
                }
            })
            .map_err(|e| err(e.to_string()))?;
        Ok(Recorder {
            tx: Some(tx),
            header,
            thread: Some(thread),
        })
    }

    /// The header being recorded with.
    pub fn header(&self) -> &ReplayHeader {
        &self.header
    }

    /// Queues one tick.
    pub fn tick(&self, rec: TickRecord) {
        self.send(RecMsg::Tick(rec));
    }

    /// Queues a keyframe of the state after the last queued tick.
    pub fn keyframe(&self, kf: Keyframe) {
        self.send(RecMsg::Keyframe(kf));
    }

    fn send(&self, msg: RecMsg) {
        if let Some(tx) = &self.tx
            && tx.send(msg).is_err()
        {
            tracing::warn!("recording thread has stopped; record dropped");
        }
    }

    /// Closes the channel and waits for the writer to write the end marker.
    pub fn finish(mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::match_path;
    use std::path::{Path, PathBuf};

    #[test]
    fn match_files_are_numbered_only_when_several_matches_are_played() {
        let base = Path::new("/tmp/rec/match.rwd");
        assert_eq!(match_path(base, 1, false), PathBuf::from("/tmp/rec/match.rwd"));
        assert_eq!(match_path(base, 1, true), PathBuf::from("/tmp/rec/match-1.rwd"));
        assert_eq!(match_path(base, 12, true), PathBuf::from("/tmp/rec/match-12.rwd"));
        assert_eq!(match_path(Path::new("m"), 2, true), PathBuf::from("m-2"));
        assert_eq!(
            match_path(Path::new("a.b.rwd"), 3, true),
            PathBuf::from("a.b-3.rwd")
        );
    }
}
