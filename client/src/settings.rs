//! The player's settings, remembered between runs in `settings.json` in the config directory
//! (`$XDG_CONFIG_HOME/rewind`, else `~/.config/rewind`). The file is the player's own but still
//! input: it is size-limited, and a damaged one is reported and replaced by the defaults, never a
//! panic and never a refusal to start.

use crate::sound::settings::SoundSettings;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A settings file larger than this is not read (a real one is a few hundred bytes).
pub const MAX_SETTINGS_BYTES: u64 = 64 * 1024;
/// Recordings kept by the "record every match" setting: the newest this many.
pub const KEEP_RECORDINGS: usize = 20;
/// Longest player name kept (the server checks names again).
pub const MAX_NAME_CHARS: usize = 16;

/// Everything the menu lets the player choose, as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Name shown to the others.
    pub name: String,
    /// Network preset applied to our own link to practise lag (`None`: the perfect link); one of
    /// `rewind_shared::conditioner::PRESET_NAMES`.
    pub net_preset: Option<String>,
    /// Master volume, 0..=1.
    pub master_volume: f32,
    /// Effects volume, 0..=1.
    pub effects_volume: f32,
    /// Sound muted.
    pub muted: bool,
    /// Record every match played from the window into the data directory (newest 20 kept).
    pub record_matches: bool,
    /// Show the killcam after a death (Space skips one; `--no-killcam` on the command line).
    pub killcam: bool,
    /// AI players in a match against the AI (and the fill when hosting).
    pub ai: u16,
    /// Map of a local or hosted match.
    pub map: String,
}

impl Default for Settings {
    fn default() -> Self {
        let sound = SoundSettings::default();
        Settings {
            name: "player".to_string(),
            net_preset: None,
            master_volume: sound.master,
            effects_volume: sound.effects,
            muted: sound.muted,
            record_matches: true,
            killcam: true,
            ai: 7,
            map: "arena".to_string(),
        }
    }
}

/// Why the settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Too large to be a settings file.
    #[error("{path}: {size} bytes is too large for a settings file (limit {MAX_SETTINGS_BYTES})")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// Not valid settings JSON.
    #[error("{path}: not a settings file: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

impl Settings {
    /// The sound part.
    pub fn sound(&self) -> SoundSettings {
        SoundSettings {
            master: self.master_volume,
            effects: self.effects_volume,
            muted: self.muted,
        }
        .clamped()
    }

    /// Takes the sound part back (after M or the volume keys in a match).
    pub fn set_sound(&mut self, s: SoundSettings) {
        self.master_volume = s.master;
        self.effects_volume = s.effects;
        self.muted = s.muted;
    }

    /// Values a hand-edited file may have put out of range, brought back in.
    pub fn sanitized(mut self) -> Settings {
        let s = self.sound();
        self.set_sound(s);
        self.name = self
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_CHARS)
            .collect();
        if self.name.trim().is_empty() {
            self.name = Settings::default().name;
        }
        if let Some(p) = &self.net_preset
            && !rewind_shared::conditioner::PRESET_NAMES.contains(&p.as_str())
        {
            self.net_preset = None;
        }
        self.ai = self.ai.min(31);
        if self.map.is_empty() || self.map.len() > 64 {
            self.map = Settings::default().map;
        }
        self
    }

    /// Reads `path`: `Ok(None)` when there is no file yet.
    pub fn read(path: &Path) -> Result<Option<Settings>, SettingsError> {
        use std::io::Read;
        let io = |source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_SETTINGS_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_SETTINGS_BYTES {
            return Err(SettingsError::TooLarge {
                path: path.to_path_buf(),
                size: bytes.len() as u64,
            });
        }
        let s: Settings = serde_json::from_slice(&bytes).map_err(|source| SettingsError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Some(s.sanitized()))
    }

    /// Writes `path` (and its directory) through a temporary file, so a crash never leaves
    /// half a file.
    pub fn write(&self, path: &Path) -> Result<(), SettingsError> {
        let io = |source| SettingsError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let json = serde_json::to_vec_pretty(self).map_err(|e| io(std::io::Error::other(e)))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The settings in `path`, or the defaults (with `default_name`) when there is none. A damaged
    /// file is replaced by the defaults and the reason returned, for the player to see.
    pub fn load_or_default(path: &Path, default_name: &str) -> (Settings, Option<String>) {
        let fresh = || {
            Settings {
                name: default_name.to_string(),
                ..Settings::default()
            }
            .sanitized()
        };
        match Settings::read(path) {
            Ok(Some(s)) => (s, None),
            Ok(None) => (fresh(), None),
            Err(e) => {
                let s = fresh();
                let note = match s.write(path) {
                    Ok(()) => format!("settings reset to the defaults: {e}"),
                    Err(w) => format!("settings reset to the defaults: {e} (and cannot save: {w})"),
                };
                tracing::warn!("{note}");
                (s, Some(note))
            }
        }
    }
}

/// `$XDG_CONFIG_HOME/rewind`, else `~/.config/rewind`, else `./rewind-config`.
pub fn config_dir() -> PathBuf {
    xdg_dir("XDG_CONFIG_HOME", ".config", "rewind-config")
}

/// `$XDG_DATA_HOME/rewind`, else `~/.local/share/rewind` (where the server keeps its certificate
/// and the window its recordings).
pub fn data_dir() -> PathBuf {
    xdg_dir("XDG_DATA_HOME", ".local/share", "rewind-data")
}

/// The settings file.
pub fn settings_path() -> PathBuf {
    config_dir().join("settings.json")
}

/// Where the matches played from the window are recorded.
pub fn recordings_dir() -> PathBuf {
    data_dir().join("recordings")
}

fn xdg_dir(var: &str, home_rel: &str, fallback: &str) -> PathBuf {
    if let Some(d) = std::env::var_os(var).filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("rewind");
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h).join(home_rel).join("rewind"),
        None => PathBuf::from(fallback),
    }
}

/// The recordings in `dir` (`*.rwd`), newest first by modification time (then by name).
pub fn list_recordings(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(PathBuf, std::time::SystemTime)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rwd"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file()
                .then(|| (e.path(), meta.modified().unwrap_or(std::time::UNIX_EPOCH)))
        })
        .collect();
    files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    files
}

/// Makes room for one more recording: deletes the oldest so that at most `keep - 1` remain.
/// Returns how many were deleted.
pub fn prune_recordings(dir: &Path, keep: usize) -> usize {
    let files = list_recordings(dir);
    let mut deleted = 0;
    for (path, _) in files.iter().skip(keep.saturating_sub(1)) {
        match std::fs::remove_file(path) {
            Ok(()) => deleted += 1,
            Err(e) => tracing::warn!(file = %path.display(), "cannot delete an old recording: {e}"),
        }
    }
    deleted
}

/// A new recording's file name, from the time (UTC) so they sort by date: `match-YYYYmmdd-HHMMSS.rwd`.
pub fn recording_name(now: std::time::SystemTime) -> String {
    let secs = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("match-{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}.rwd")
}

/// "YYYY-mm-dd HH:MM" (UTC) for the Replays list.
pub fn format_date(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, mo, d, h, mi, _) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}")
}

/// Seconds since 1970 (UTC) to the civil date and time (Howard Hinnant's days-to-civil).
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rewind-settings-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn settings_round_trip_through_the_file() {
        let dir = temp_dir("rt");
        let path = dir.join("sub/settings.json");
        let s = Settings {
            name: "Ada".into(),
            net_preset: Some("dsl".into()),
            master_volume: 0.3,
            muted: true,
            record_matches: false,
            ai: 3,
            ..Settings::default()
        };
        s.write(&path).unwrap();
        assert_eq!(Settings::read(&path).unwrap(), Some(s.clone()));
        assert_eq!(Settings::load_or_default(&path, "x"), (s, None));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_file_gives_the_defaults_with_the_login_name() {
        let dir = temp_dir("missing");
        let (s, note) = Settings::load_or_default(&dir.join("settings.json"), "grace");
        assert_eq!(s.name, "grace");
        assert!(s.record_matches);
        assert!(note.is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_corrupt_file_is_reported_and_replaced_by_the_defaults() {
        let dir = temp_dir("corrupt");
        let path = dir.join("settings.json");
        std::fs::write(&path, b"{\"name\": \"Ada\", \"master_volume\": tru").unwrap();
        let (s, note) = Settings::load_or_default(&path, "grace");
        assert_eq!(s.name, "grace");
        assert!(note.unwrap().contains("not a settings file"));
        // The file now holds the defaults and reads back cleanly.
        assert_eq!(Settings::read(&path).unwrap(), Some(s));
        std::fs::write(&path, vec![b' '; MAX_SETTINGS_BYTES as usize + 10]).unwrap();
        assert!(matches!(
            Settings::read(&path),
            Err(SettingsError::TooLarge { .. })
        ));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn hand_edited_values_are_brought_into_range() {
        let s: Settings = serde_json::from_str(
            r#"{"master_volume": 7.5, "effects_volume": -1, "net_preset": "moon", "ai": 900, "name": ""}"#,
        )
        .unwrap();
        let s = s.sanitized();
        assert_eq!((s.master_volume, s.effects_volume), (1.0, 0.0));
        assert_eq!(s.net_preset, None);
        assert_eq!(s.ai, 31);
        assert_eq!(s.name, "player");
        assert_eq!(s.map, "arena", "missing fields take the defaults");
    }

    #[test]
    fn pruning_keeps_room_for_the_next_recording() {
        let dir = temp_dir("prune");
        for i in 0..23u64 {
            let p = dir.join(format!("match-{i:02}.rwd"));
            std::fs::write(&p, b"x").unwrap();
            let t = UNIX_EPOCH + Duration::from_secs(1_000_000 + i);
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
        std::fs::write(dir.join("notes.txt"), b"kept").unwrap();
        assert_eq!(prune_recordings(&dir, KEEP_RECORDINGS), 4);
        let left = list_recordings(&dir);
        assert_eq!(left.len(), KEEP_RECORDINGS - 1);
        assert!(left[0].0.ends_with("match-22.rwd"), "newest first");
        assert!(left.last().unwrap().0.ends_with("match-04.rwd"));
        assert!(dir.join("notes.txt").exists(), "only recordings are deleted");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn dates_are_civil_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_651_200 + 3_723); // 2026-11-26 01:02:03
        assert_eq!(recording_name(t), "match-20261126-010203.rwd");
        assert_eq!(format_date(t), "2026-11-26 01:02");
        assert_eq!(format_date(UNIX_EPOCH), "1970-01-01 00:00");
    }
}
