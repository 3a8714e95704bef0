//! The menu in the window (issue 17): Play vs AI, Host, Join, Replays, Settings, and the pause
//! menu on Esc in a match. `state` is the pure state machine (unit-tested), `draw` draws it and
//! lays out the rows the mouse hits, `lists` fills the live lists (LAN games, recordings) from
//! background threads, and `app` runs it all in the window with the matches it starts.

pub mod app;
pub mod draw;
pub mod lists;
pub mod state;

pub use app::{Launcher, LocalRequest, MenuOptions, Started, run_menu};
pub use state::HostInfo;
