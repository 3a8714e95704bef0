//! The menu's live lists, filled off the window thread: the LAN games (a search repeated while
//! the Join screen is open) and the recordings (each file read for its length and players).

use super::state::ReplayEntry;
use crate::lan::{DiscoverConfig, FoundGame, discover};
use crate::settings::{format_date, list_recordings};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::Duration;

/// One search lasts this long; the list is refreshed after each.
pub const SEARCH_ROUND: Duration = Duration::from_millis(700);

/// A LAN search repeated until dropped.
pub struct LanWatcher {
    stop: Arc<AtomicBool>,
    rx: Receiver<Vec<FoundGame>>,
}

impl LanWatcher {
    /// Starts searching with `cfg` (its timeout is replaced by `SEARCH_ROUND`). `None` if no
    /// thread could be started (the Join screen then says it found nothing).
    pub fn start(cfg: &DiscoverConfig) -> Option<LanWatcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let cfg = DiscoverConfig {
            timeout: SEARCH_ROUND,
            ..cfg.clone()
        };
        let flag = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("menu-lan-search".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    let games = match discover(&cfg) {
                        Ok(g) => g,
                        Err(e) => {
                            tracing::debug!("LAN search failed: {e}");
                            std::thread::sleep(SEARCH_ROUND);
                            Vec::new()
                        }
                    };
                    if tx.send(games).is_err() {
                        break;
                    }
                }
            });
        match spawned {
            Ok(_) => Some(LanWatcher { stop, rx }),
            Err(e) => {
                tracing::warn!("cannot search the LAN: {e}");
                None
            }
        }
    }

    /// The newest complete result, if a search finished since the last call.
    pub fn poll(&self) -> Option<Vec<FoundGame>> {
        let mut latest = None;
        loop {
            match self.rx.try_recv() {
                Ok(g) => latest = Some(g),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return latest,
            }
        }
    }
}

impl Drop for LanWatcher {
    fn drop(&mut self) {
        // The thread ends after its current round; nobody waits for it.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Reads the recordings in `dir` on a thread; the list arrives on the receiver.
pub fn scan_recordings(dir: PathBuf) -> Option<Receiver<Vec<ReplayEntry>>> {
    let (tx, rx) = channel();
    let spawned = std::thread::Builder::new()
        .name("menu-replays".into())
        .spawn(move || {
            let _ = tx.send(read_recordings(&dir));
        });
    spawned.ok().map(|_| rx)
}

/// The recordings in `dir`, newest first, each with its date, length and number of players (or
/// why it could not be read).
pub fn read_recordings(dir: &std::path::Path) -> Vec<ReplayEntry> {
    list_recordings(dir)
        .into_iter()
        .map(|(path, modified)| {
            let shown = path.display().to_string();
            let summary = crate::replay_view::load(&path)
                .map_err(|e| e.to_string().replace(&shown, "the file"))
                .and_then(|r| r.info().map_err(|e| e.to_string()))
                .map(|i| (i.duration_s, i.players.len()));
            ReplayEntry {
                path,
                date: format_date(modified),
                summary,
            }
        })
        .collect()
}
