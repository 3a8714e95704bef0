//! The replay viewer's kill list (K: next kill) and shooter's eye (E): any kill of the recording
//! as the shooter drew it, beside the server's present. The killcam is cut from the recording by
//! `rewind_shared::killcam::from_replay`, the same ring the live server cuts a victim's killcam
//! from, and played by the same `KillcamPlayback` and renderer as the live killcam.

use crate::game::palette::{self, fade};
use crate::game::text;
use crate::killcam::{HOLD_S, KillcamPlayback, KillcamScene, SERVER_S, SPEED};
use macroquad::shapes::draw_rectangle;
use rewind_shared::killcam::{KillMoment, from_replay};
use rewind_shared::player::PlayerId;
use rewind_shared::replay::Replay;
use rewind_shared::tick::Tick;
use std::time::Duration;

/// Rows of the kill list shown around the current kill.
const LIST_ROWS: usize = 8;

/// The shooter's eye of one kill, looping.
struct Eye {
    playback: KillcamPlayback,
}

/// The kills of the recording, the selected one, and its shooter's eye when open.
#[derive(Default)]
pub struct Kills {
    list: Vec<KillMoment>,
    current: Option<usize>,
    eye: Option<Eye>,
}

impl Kills {
    /// Sets the list (from the background scan, or at once for `--kill N`).
    pub fn set_list(&mut self, list: Vec<KillMoment>) {
        self.list = list;
        self.current = self.current.filter(|i| *i < self.list.len());
    }

    /// The kills known so far.
    pub fn list(&self) -> &[KillMoment] {
        &self.list
    }

    /// The index of the first kill after `tick`, wrapping to the first.
    pub fn next_after(&self, tick: Tick) -> Option<usize> {
        if self.list.is_empty() {
            return None;
        }
        Some(self.list.iter().position(|k| k.tick.is_after(tick)).unwrap_or(0))
    }

    /// Selects kill `i` (closing the shooter's eye of another).
    pub fn select(&mut self, i: usize) -> Option<KillMoment> {
        let k = *self.list.get(i)?;
        if self.current != Some(i) {
            self.eye = None;
        }
        self.current = Some(i);
        Some(k)
    }

    /// The selected kill.
    pub fn current(&self) -> Option<(usize, KillMoment)> {
        let i = self.current?;
        Some((i, *self.list.get(i)?))
    }

    /// Whether the shooter's eye is open.
    pub fn eye_open(&self) -> bool {
        self.eye.is_some()
    }

    /// Closes the shooter's eye.
    pub fn close_eye(&mut self) {
        self.eye = None;
    }

    /// Opens the shooter's eye of the selected kill at `now` (the window's clock).
    pub fn open_eye(
        &mut self,
        replay: &Replay,
        names: impl Fn(PlayerId) -> String,
        now: Duration,
    ) -> Result<(), String> {
        let (_, kill) = self
            .current()
            .ok_or("no kill selected (K selects the next one)")?;
        let cam = from_replay(replay, kill)
            .map_err(|e| format!("cannot rebuild the kill: {e}"))?
            .ok_or("the recording has no shot for this kill")?;
        let rate = replay.header().cfg.tick_rate;
        // The whole window at the killcam's speed, then the kill held and the server's view.
        let window_s = (cam.frames.len().saturating_sub(1)) as f32 / rate.max(1) as f32;
        let available = window_s / SPEED + HOLD_S + SERVER_S;
        let names = cam.players.iter().map(|id| (*id, names(*id))).collect();
        let playback = KillcamPlayback::new(cam, replay.map(), names, rate, now, available);
        self.eye = Some(Eye { playback });
        Ok(())
    }

    /// The shooter's eye at `now`, starting over when it ends.
    pub fn eye_scene(&mut self, now: Duration) -> Option<KillcamScene> {
        let eye = self.eye.as_mut()?;
        if let Some(s) = eye.playback.scene(now) {
            return Some(s);
        }
        eye.playback.restart(now);
        eye.playback.scene(now)
    }

    /// The list on the right: the kills around the selected one, time, killer and victim.
    pub fn draw_list(
        &self,
        names: impl Fn(PlayerId) -> String,
        first: Tick,
        rate: u32,
        right: f32,
        top: f32,
    ) {
        if self.list.is_empty() {
            return;
        }
        let cur = self.current.unwrap_or(0);
        let start = cur
            .saturating_sub(LIST_ROWS / 2)
            .min(self.list.len().saturating_sub(LIST_ROWS));
        let rows: Vec<(usize, String)> = self
            .list
            .iter()
            .enumerate()
            .skip(start)
            .take(LIST_ROWS)
            .map(|(i, k)| {
                let s = f64::from(k.tick.diff(first).max(0)) / f64::from(rate.max(1));
                let t = super::timeline::clock(s);
                (
                    i,
                    format!("{:>3}  {t}  {} > {}", i + 1, names(k.killer), names(k.victim)),
                )
            })
            .collect();
        let title = format!("kills ({})   K next   E shooter's eye   G gif", self.list.len());
        let width = rows
            .iter()
            .map(|(_, r)| text::width(r, 15.0))
            .fold(text::width(&title, 15.0), f32::max)
            + 24.0;
        let (x, row_h) = (right - width, 19.0);
        text::panel(x, top, width, 28.0 + row_h * rows.len() as f32);
        text::draw(&title, x + 12.0, top + 18.0, 15.0, palette::TEXT_DIM);
        for (n, (i, row)) in rows.iter().enumerate() {
            let y = top + 24.0 + row_h * n as f32;
            let selected = self.current == Some(*i);
            if selected {
                draw_rectangle(x + 4.0, y, width - 8.0, row_h, fade(palette::NETSIM, 0.2));
            }
            let c = if selected { palette::NETSIM } else { palette::TEXT };
            text::draw(row, x + 12.0, y + 14.0, 15.0, c);
        }
    }
}
