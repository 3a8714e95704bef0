//! `rewind` with no arguments (and `rewind menu`): the menu in the window. The binary's part is
//! the [`Launcher`]: starting a local server (against the AI, or hosted on the LAN) for the
//! client crate's menu, which does not know the server.

use crate::cli_util::{default_name, load_map};
use clap::Args;
use rewind_client::game::menu::{HostInfo, Launcher, LocalRequest, MenuOptions, Started, run_menu};
use rewind_client::game::{ViewSource, WindowOptions};
use rewind_client::lan::{DiscoverConfig, default_targets};
use rewind_client::net::{ConnectConfig, SessionHandle, spawn_session};
use rewind_client::view::{ControlInput, GameView};
use rewind_server::ServerConfig;
use rewind_shared::conditioner::LinkConfig;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Flags of `rewind menu` (`rewind` alone uses the defaults). The sound, the name and the
/// network preset come from the settings the menu edits, not from flags.
#[derive(Debug, Args)]
pub struct MenuArgs {
    /// Where Join sends its LAN queries (repeatable; replaces the default 255.255.255.255 and
    /// 127.0.0.1). Tests pass 127.0.0.1 so nothing leaves the machine.
    #[arg(long, value_name = "ADDR")]
    pub broadcast: Vec<IpAddr>,
    /// UDP port of the LAN responders Join asks, and of ours when hosting.
    #[arg(long, default_value_t = rewind_shared::lan::LAN_PORT)]
    pub lan_port: u16,
    /// The game's UDP port when hosting.
    #[arg(long, default_value_t = 4433)]
    pub port: u16,
    /// Settings file (default: $XDG_CONFIG_HOME/rewind/settings.json).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Where matches are recorded and Replays looks (default: $XDG_DATA_HOME/rewind/recordings).
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// Where F12 saves screenshots (default: $XDG_DATA_HOME/rewind/screenshots).
    #[arg(long, value_name = "DIR")]
    pub screenshot_dir: Option<PathBuf>,
    /// Save what the window shows as PNG, then exit (docs and tests under Xvfb).
    #[arg(long, value_name = "FILE.png")]
    pub screenshot: Option<PathBuf>,
    /// When to take the screenshot.
    #[arg(long, default_value = "3s", value_parser = crate::cli_util::parse_duration_arg)]
    pub screenshot_after: std::time::Duration,
}

/// Runs the menu.
pub fn run(args: MenuArgs) -> anyhow::Result<()> {
    let opts = MenuOptions {
        window: WindowOptions {
            title: "Rewind".to_string(),
            screenshot: args.screenshot,
            screenshot_after: args.screenshot_after,
            ..WindowOptions::default()
        },
        settings_path: args
            .settings
            .unwrap_or_else(rewind_client::settings::settings_path),
        recordings: args
            .recordings
            .unwrap_or_else(rewind_client::settings::recordings_dir),
        screenshots: args
            .screenshot_dir
            .unwrap_or_else(|| rewind_client::settings::data_dir().join("screenshots")),
        search: DiscoverConfig {
            targets: if args.broadcast.is_empty() {
                default_targets()
            } else {
                args.broadcast
            },
            port: args.lan_port,
            timeout: rewind_client::game::menu::lists::SEARCH_ROUND,
        },
        maps: rewind_shared::map::BUILTIN_MAPS
            .iter()
            .map(|(n, _)| (*n).to_string())
            .collect(),
        default_name: default_name(),
    };
    run_menu(
        opts,
        ServerLauncher {
            port: args.port,
            lan_port: args.lan_port,
        },
    )?;
    Ok(())
}

/// Starts `rewind-server` in this process for the menu.
struct ServerLauncher {
    port: u16,
    lan_port: u16,
}

impl Launcher for ServerLauncher {
    fn start_local(&mut self, req: LocalRequest) -> Result<Started, String> {
        let map = load_map(&req.map).map_err(|e| format!("{e:#}"))?;
        let all = IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        let (addr, lan) = match &req.host {
            Some(name) => (
                SocketAddr::new(all, self.port),
                Some(rewind_server::lan::LanConfig {
                    addr: SocketAddr::new(crate::lan_cmd::responder_ip(all), self.lan_port),
                    name: name.clone(),
                }),
            ),
            None => (SocketAddr::from(([127, 0, 0, 1], 0)), None),
        };
        let server = rewind_server::start(ServerConfig {
            addr,
            lan,
            ai: req.ai,
            map,
            record: req.record.clone(),
            ..ServerConfig::default()
        })
        .map_err(|e| format!("cannot start the local server: {e}"))?;
        if let Some(path) = &req.record {
            tracing::info!(file = %path.display(), "recording the match");
        }
        let port = server.local_addr().port();
        let host = req.host.as_ref().map(|_| {
            let address = crate::play_cmd::print_host_banner(&server);
            HostInfo {
                address,
                cert_hash: server.cert_hash().to_string(),
            }
        });
        let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        let mut cfg = ConnectConfig::new(
            local.to_string(),
            req.player,
            Some(server.cert_hash().to_string()),
        );
        cfg.link = req.link;
        Ok(Started {
            source: Box::new(LocalMatch {
                session: spawn_session(cfg),
                server: Some(server),
            }),
            host,
        })
    }
}

/// Our session on a server of our own: leaving the match stops the server.
struct LocalMatch {
    session: SessionHandle,
    server: Option<rewind_server::ServerHandle>,
}

impl ViewSource for LocalMatch {
    fn frame(&mut self, input: ControlInput) -> GameView {
        self.session.frame(input)
    }

    fn link(&self) -> Option<LinkConfig> {
        self.session.link()
    }

    fn set_link(&mut self, cfg: LinkConfig) {
        self.session.set_link(cfg);
    }
}

impl Drop for LocalMatch {
    fn drop(&mut self) {
        // Leave first (a clean goodbye), then stop the server, which finishes the recording.
        self.session.close();
        if let Some(server) = self.server.take() {
            server.stop();
            let _ = server.wait();
        }
    }
}
