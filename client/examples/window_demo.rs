//! Dev tool: opens the game window on a local `shared::sim::World` with a few wandering AI players
//! and no network, to check the renderer by eye or by screenshot. Not the product (that is
//! `rewind play`).
//!
//! cargo run -p rewind-client --example window_demo -- [--screenshot FILE.png] [--screenshot-after 2s]
//!     [--net-graph] [--debug] [--scoreboard] [--phase playing|connecting|ended] [--manual] [--map arena|warehouse]
//!     [--connect ADDR --cert-hash HEX [--lag 50]]   (a real session against `rewind serve` instead)

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use rewind_client::game::{ViewSource, WindowOptions, run_window};
use rewind_client::view::{
    ControlInput, DrawnPlayer, FeedLine, GameView, NetStats, Phase, ScoreRow, ShotReview, Tracer,
};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::input::{BUTTON_FIRE, Input, aim_from_dir};
use rewind_shared::map::Map;
use rewind_shared::player::PlayerId;
use rewind_shared::sim::{SimConfig, SimEvent, World};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const NAMES: [&str; 6] = ["you", "Ada", "Grace", "Linus", "Barbara", "Ken"];
const LOCAL: PlayerId = PlayerId(1);

struct Demo {
    map: Arc<Map>,
    world: World,
    rng: ChaCha8Rng,
    wander: BTreeMap<PlayerId, Vec2>,
    phase: Phase,
    manual: bool,
    started: Instant,
    stepped: u64,
    tracers: Vec<Tracer>,
    shots: Vec<ShotReview>,
    feed: Vec<FeedLine>,
    chat: Vec<FeedLine>,
    rtt: Vec<f32>,
    link: LinkConfig,
    last: Instant,
}

impl Demo {
    fn new(phase: Phase, manual: bool, map: Map) -> Demo {
        let map = Arc::new(map);
        let mut world = World::new(SimConfig::new(60, true, 250), Tick(0));
        for i in 1..=NAMES.len() as u16 {
            world.add_player(&map, PlayerId(i));
        }
        let chat = vec![
            FeedLine {
                text: "Ada: gl hf".into(),
                age_s: 0.0,
            },
            FeedLine {
                text: "Linus: who turned the lag up?".into(),
                age_s: 0.0,
            },
        ];
        Demo {
            map,
            world,
            rng: ChaCha8Rng::seed_from_u64(7),
            wander: BTreeMap::new(),
            phase,
            manual,
            started: Instant::now(),
            stepped: 0,
            tracers: vec![],
            shots: vec![],
            feed: vec![],
            chat,
            rtt: vec![],
            link: LinkConfig {
                latency: Duration::from_millis(40),
                jitter: Duration::from_millis(5),
                loss: 0.01,
                ..LinkConfig::perfect()
            },
            last: Instant::now(),
        }
    }

    /// A simple bot: wander, aim at the nearest visible player with some error, fire when seen.
    fn bot_input(&mut self, id: PlayerId) -> Input {
        let Some(me) = self.world.players.iter().find(|p| p.id == id) else {
            return Input::default();
        };
        let pos = me.body.pos;
        let target = self
            .world
            .players
            .iter()
            .filter(|p| p.id != id && p.life.alive() && self.map.line_of_sight(pos, p.body.pos))
            .min_by(|a, b| a.body.pos.distance(pos).total_cmp(&b.body.pos.distance(pos)))
            .map(|p| p.body.pos);
        if self.rng.random_range(0..40) == 0 || !self.wander.contains_key(&id) {
            let a = self.rng.random_range(0.0..std::f32::consts::TAU);
            self.wander.insert(id, Vec2::new(a.cos(), a.sin()));
        }
        let w = self.wander[&id];
        let mut input = Input {
            mv: [(w.x * 127.0) as i8, (w.y * 127.0) as i8],
            ..Input::default()
        };
        if let Some(t) = target {
            let err = self.rng.random_range(-0.08..0.08f32);
            let d = (t - pos).normalize_or_zero();
            let d = Vec2::new(
                d.x * err.cos() - d.y * err.sin(),
                d.x * err.sin() + d.y * err.cos(),
            );
            input.aim = aim_from_dir(d);
            input.buttons = BUTTON_FIRE;
        }
        input
    }

    fn step(&mut self, local: &ControlInput) {
        let mut inputs = BTreeMap::new();
        let ids: Vec<PlayerId> = self.world.players.iter().map(|p| p.id).collect();
        for id in ids {
            let input = if id == LOCAL && self.manual {
                Input {
                    mv: [(local.mv.x * 127.0) as i8, (local.mv.y * 127.0) as i8],
                    aim: aim_from_dir(local.aim),
                    buttons: if local.fire { BUTTON_FIRE } else { 0 },
                    view: None,
                }
            } else {
                self.bot_input(id)
            };
            inputs.insert(id, input);
        }
        let before: Vec<(PlayerId, Vec2)> = self
            .world
            .players
            .iter()
            .filter(|p| p.life.alive())
            .map(|p| (p.id, p.body.pos))
            .collect();
        for ev in self.world.step(&self.map, &inputs) {
            match ev {
                SimEvent::Shot(s) => {
                    let local = s.shooter == LOCAL;
                    self.tracers.push(Tracer {
                        from: s.origin,
                        to: s.origin + s.dir * s.dist,
                        local,
                        age_s: 0.0,
                    });
                    if local {
                        // Pretend the server rewound to positions one tick older than we drew,
                        // so the debug view has something to show.
                        self.shots.push(ShotReview {
                            client_target: s.target,
                            server_target: None,
                            confirmed: false,
                            client_hitboxes: before.clone(),
                            server_hitboxes: vec![],
                            age_s: 0.0,
                        });
                    }
                }
                SimEvent::Kill { killer, victim } => self.feed.push(FeedLine {
                    text: format!("{} killed {}", name(killer), name(victim)),
                    age_s: 0.0,
                }),
                SimEvent::Respawn(_) => {}
            }
        }
        let now: Vec<(PlayerId, Vec2)> = self
            .world
            .players
            .iter()
            .filter(|p| p.life.alive())
            .map(|p| (p.id, p.body.pos))
            .collect();
        for s in &mut self.shots {
            if !s.confirmed && s.age_s > 0.1 {
                s.confirmed = true;
                s.server_target = s.client_target;
                s.server_hitboxes = now.clone();
            }
        }
    }

    fn age(&mut self, dt: f32) {
        for t in &mut self.tracers {
            t.age_s += dt;
        }
        self.tracers.retain(|t| t.age_s < 1.0);
        for s in &mut self.shots {
            s.age_s += dt;
        }
        self.shots.retain(|s| s.age_s < 5.0);
        for l in self.feed.iter_mut().chain(self.chat.iter_mut()) {
            l.age_s += dt;
        }
    }
}

fn name(id: PlayerId) -> &'static str {
    NAMES
        .get(usize::from(id.0).saturating_sub(1))
        .copied()
        .unwrap_or("?")
}

impl ViewSource for Demo {
    fn frame(&mut self, input: ControlInput) -> GameView {
        let dt = self.last.elapsed().as_secs_f32();
        self.last = Instant::now();
        if let Some(line) = &input.chat {
            self.chat.push(FeedLine {
                text: format!("you: {line}"),
                age_s: 0.0,
            });
        }
        let due = (self.started.elapsed().as_secs_f64() * 60.0) as u64;
        while self.stepped < due {
            self.step(&input);
            self.stepped += 1;
        }
        self.age(dt);
        let t = self.started.elapsed().as_secs_f32();
        let base = 2.0 * self.link.latency.as_secs_f32() * 1000.0 + 2.0;
        self.rtt.push(
            base + (t * 3.0).sin() * self.link.jitter.as_secs_f32() * 1000.0 + (t * 0.7).sin().abs() * 6.0,
        );
        if self.rtt.len() > 120 {
            self.rtt.remove(0);
        }
        let me = self.world.players.iter().find(|p| p.id == LOCAL);
        let respawn_in_s = me
            .and_then(|p| p.life.respawn_at)
            .map(|at| at.diff(self.world.tick) as f32 / self.world.cfg.tick_rate as f32);
        let mut scoreboard: Vec<ScoreRow> = self
            .world
            .players
            .iter()
            .map(|p| ScoreRow {
                id: p.id,
                name: name(p.id).into(),
                kills: p.score.kills,
                deaths: p.score.deaths,
                ping_ms: (p.id == LOCAL).then(|| *self.rtt.last().unwrap_or(&0.0)),
            })
            .collect();
        scoreboard.sort_by(|a, b| b.kills.cmp(&a.kills).then(a.deaths.cmp(&b.deaths)));
        GameView {
            phase: self.phase.clone(),
            map: Some(Arc::clone(&self.map)),
            local_id: Some(LOCAL),
            players: self
                .world
                .players
                .iter()
                .map(|p| DrawnPlayer {
                    id: p.id,
                    name: name(p.id).into(),
                    pos: p.body.pos,
                    aim: rewind_shared::input::aim_dir(p.weapon.aim).unwrap_or(Vec2::X),
                    health: p.life.health,
                    alive: p.life.alive(),
                    local: p.id == LOCAL,
                })
                .collect(),
            tracers: self.tracers.clone(),
            shots: self.shots.clone(),
            kill_feed: self.feed.clone(),
            chat: self.chat.clone(),
            scoreboard,
            respawn_in_s,
            match_over: None,
            net: NetStats {
                rtt_ms: *self.rtt.last().unwrap_or(&0.0),
                jitter_ms: self.link.jitter.as_secs_f32() * 1000.0,
                loss: self.link.loss as f32,
                snapshot_rate: 60.0,
                down_bytes_per_s: 9_400.0,
                up_bytes_per_s: 2_100.0,
                interp_delay_ms: 33.3 + self.link.jitter.as_secs_f32() * 2000.0,
                corrections: 0,
                server_tick: self.world.tick,
                rtt_history_ms: self.rtt.clone(),
            },
            killcam: None,
        }
    }

    fn link(&self) -> Option<LinkConfig> {
        Some(self.link)
    }

    fn set_link(&mut self, cfg: LinkConfig) {
        self.link = cfg;
    }
}

fn main() -> anyhow::Result<()> {
    let mut opts = WindowOptions {
        title: "Rewind (window demo)".into(),
        ..WindowOptions::default()
    };
    let mut phase = Phase::Playing;
    let mut manual = false;
    let mut map = "arena".to_string();
    let mut connect: Option<String> = None;
    let mut cert_hash: Option<String> = None;
    let mut lag_ms: u64 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--screenshot" => opts.screenshot = args.next().map(Into::into),
            "--screenshot-after" => {
                let v = args.next().unwrap_or_default();
                let secs: f64 = v.trim_end_matches('s').parse()?;
                opts.screenshot_after = Duration::from_secs_f64(secs);
            }
            "--net-graph" => opts.net_graph = true,
            "--debug" => opts.debug_view = true,
            "--scoreboard" => opts.scoreboard = true,
            "--manual" => manual = true,
            "--map" => map = args.next().unwrap_or_default(),
            "--connect" => connect = args.next(),
            "--cert-hash" => cert_hash = args.next(),
            "--lag" => lag_ms = args.next().unwrap_or_default().parse()?,
            "--no-msaa" => opts.msaa = false,
            "--phase" => {
                phase = match args.next().as_deref() {
                    Some("connecting") => Phase::Connecting,
                    Some("ended") => Phase::Ended {
                        reason: "could not reach 203.0.113.7:4433: no answer within 5 s (is the server \
                                 running, and is UDP port 4433 open?)"
                            .into(),
                    },
                    _ => Phase::Playing,
                }
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    if let Some(addr) = connect {
        let mut cfg = rewind_client::net::ConnectConfig::new(addr, "demo", cert_hash);
        cfg.link.latency = Duration::from_millis(lag_ms);
        run_window(opts, rewind_client::net::spawn_session(cfg))?;
        return Ok(());
    }
    run_window(
        opts,
        Demo::new(
            phase,
            manual,
            Map::builtin(&map).ok_or_else(|| anyhow::anyhow!("unknown map {map}"))?,
        ),
    )?;
    Ok(())
}
