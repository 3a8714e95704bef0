//! Flags shared by the subcommands that open the game window.

use crate::cli_util::parse_duration_arg;
use clap::Args;
use rewind_client::game::WindowOptions;
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
            ..WindowOptions::default()
        }
    }
}
