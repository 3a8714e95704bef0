//! Flags shared by the subcommands that open the game window.

use crate::cli_util::parse_duration_arg;
use clap::Args;
use rewind_client::game::WindowOptions;
use rewind_client::sound::settings::SoundSettings;
use std::path::PathBuf;
use std::time::Duration;

/// Window flags.
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Save what the window shows as PNG, then exit (docs and tests under Xvfb).
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// When to take the screenshot.
    #[arg(long, default_value = "3s", value_parser = parse_duration_arg)]
    pub screenshot_after: Duration,
    /// Start with the net graph (F3) open.
    #[arg(long)]
    pub net_graph: bool,
    /// Start with the lag-compensation debug view (F4) open.
    #[arg(long)]
    pub debug_view: bool,
    /// Start with the sound muted (M toggles it in the window).
    #[arg(long)]
    pub mute: bool,
    /// Master volume in percent (`[` and `]` change it in the window).
    #[arg(long, value_name = "PERCENT", default_value_t = 80, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub volume: u8,
    /// Effects volume in percent (`,` and `.` change it in the window).
    #[arg(long, value_name = "PERCENT", default_value_t = 100, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub effects_volume: u8,
    /// Pull the trigger once at each of these times after the match starts, e.g. `2s,3.5s`
    /// (scripted shots for the listening test and demos; the mouse still works).
    #[arg(long, value_name = "T1,T2,...", value_delimiter = ',', value_parser = parse_duration_arg)]
    pub fire_at: Vec<Duration>,
    /// Do not show the killcam after a death (Space skips one in the window).
    #[arg(long)]
    pub no_killcam: bool,
    /// Take the screenshot when a killcam shows the server's view of the kill (docs and the
    /// killcam test under Xvfb); `--screenshot-after` is then the deadline (an error after it).
    #[arg(long, requires = "screenshot", conflicts_with = "no_killcam")]
    pub screenshot_killcam: bool,
}

impl WindowArgs {
    /// The window options these flags ask for.
    pub fn options(&self, title: &str) -> WindowOptions {
        WindowOptions {
            title: title.to_string(),
            screenshot: self.screenshot.clone(),
            screenshot_after: self.screenshot_after,
            net_graph: self.net_graph,
            debug_view: self.debug_view,
            sound: SoundSettings {
                master: f32::from(self.volume) / 100.0,
                effects: f32::from(self.effects_volume) / 100.0,
                muted: self.mute,
            },
            fire_at: self.fire_at.clone(),
            killcam: !self.no_killcam,
            screenshot_killcam: self.screenshot_killcam,
            ..WindowOptions::default()
        }
    }
}
