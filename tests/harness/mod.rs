//! The Pair harness: the real server core (`rewind_server::core::ServerCore`) and real client
//! sessions (`Handshake`, `Session`, the bots' `BotBrain`) on a simulated clock, every datagram
//! through the seeded `rewind_shared::conditioner`, the control streams through a reliable,
//! ordered model of the same link. No sockets and no sleeping: `run_until` jumps the clock to the
//! next thing that happens, so minutes of play at 200 ms and 5 % loss take seconds and repeat
//! exactly for the same seed.
//!
//! Modelled after quinn-proto's test `Pair`: both sides are the production state machines, and
//! the harness only moves bytes and time.

#![allow(dead_code)] // each test binary uses its own part of the harness

use rewind_client::bots::BotBrain;
use rewind_client::end::EndReason;
use rewind_client::handshake::{Handshake, HandshakeError};
use rewind_client::net::Brain;
use rewind_client::session::Session;
use rewind_client::shots::ShotStats;
use rewind_server::ServerConfig;
use rewind_server::core::{ClientKey, CloseReason, LinkClosed, ServerCore, Transmit};
use rewind_shared::conditioner::{Conditioner, LinkConfig, derive_seed};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::Duration;

/// What `quinn` offers as datagram room before path MTU discovery.
pub const MAX_DATAGRAM: usize = 1200;

/// A reliable, ordered byte stream over a lossy link, the way QUIC's streams behave: each chunk
/// takes the link's one-way latency and jitter, a lost transmission is repeated after a probe
/// timeout (another round trip), and nothing is delivered before what was sent earlier.
pub struct Stream {
    cfg: LinkConfig,
    seed: u64,
    draws: u64,
    in_flight: VecDeque<(Duration, Vec<u8>)>,
    last: Duration,
}

impl Stream {
    fn new(cfg: LinkConfig, seed: u64) -> Stream {
        Stream {
            cfg,
            seed,
            draws: 0,
            in_flight: VecDeque::new(),
            last: Duration::ZERO,
        }
    }

    /// A uniform draw in [0, 1), seeded.
    fn draw(&mut self) -> f64 {
        self.draws += 1;
        (derive_seed(self.seed, self.draws) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn one_way(&mut self) -> Duration {
        let j = self.cfg.jitter.as_secs_f64() * (2.0 * self.draw() - 1.0);
        Duration::from_secs_f64((self.cfg.latency.as_secs_f64() + j).max(0.0))
    }

    /// Sends a chunk at `now`.
    pub fn send(&mut self, now: Duration, bytes: Vec<u8>) {
        let pto = self.cfg.latency * 2 + self.cfg.jitter * 4 + Duration::from_millis(25);
        let mut at = now;
        while self.draw() < self.cfg.loss {
            at += pto;
        }
        at += self.one_way();
        let at = at.max(self.last);
        self.last = at;
        self.in_flight.push_back((at, bytes));
    }

    /// The next chunk due by `now`.
    pub fn poll(&mut self, now: Duration) -> Option<Vec<u8>> {
        if self.in_flight.front().is_some_and(|(at, _)| *at <= now) {
            return self.in_flight.pop_front().map(|(_, b)| b);
        }
        None
    }

    fn next_deadline(&self) -> Option<Duration> {
        self.in_flight.front().map(|(at, _)| *at)
    }
}

/// One direction pair of a client's connection.
pub struct Path {
    /// Client to server datagrams.
    pub up: Conditioner<Vec<u8>>,
    /// Server to client datagrams.
    pub down: Conditioner<Vec<u8>>,
    /// Client to server control stream.
    pub up_ctrl: Stream,
    /// Server to client control stream.
    pub down_ctrl: Stream,
}

impl Path {
    fn new(link: LinkConfig, seed: u64) -> Path {
        let cond = |s| Conditioner::new(link, derive_seed(seed, s)).expect("valid link config");
        Path {
            up: cond(1),
            down: cond(2),
            up_ctrl: Stream::new(link, derive_seed(seed, 3)),
            down_ctrl: Stream::new(link, derive_seed(seed, 4)),
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        [
            self.up.next_deadline(),
            self.down.next_deadline(),
            self.up_ctrl.next_deadline(),
            self.down_ctrl.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Where a simulated client is.
pub enum Stage {
    /// Hello sent, waiting for the welcome.
    Handshaking(Handshake),
    /// Welcomed and playing.
    Playing(Box<Session>),
    /// Over, and why.
    Ended(Ended),
}

/// How a simulated client ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The handshake failed.
    Handshake(HandshakeError),
    /// The session ended.
    Session(EndReason),
    /// The server closed the connection with no message the client could read.
    Closed(CloseReason),
}

/// A client: its state machine, its brain and its path to the server.
pub struct Client {
    /// The server's name for its connection.
    pub key: ClientKey,
    /// Where it is.
    pub stage: Stage,
    /// What decides its inputs.
    pub brain: Box<dyn Brain>,
    /// Its link.
    pub path: Path,
    /// Nominal round trip (what the transport would measure).
    pub rtt: Duration,
    next_tick: Duration,
    /// The close the server sent, once it did (arrives after the control bytes before it).
    closed: Option<(Duration, CloseReason)>,
    /// The client closed the transport (it left, or it gave up).
    gone: bool,
    /// The client stops sending datagrams (a frozen or hostile client): it still reads.
    pub mute: bool,
}

impl Client {
    /// The session, once welcomed (also after it ended).
    pub fn session(&self) -> Option<&Session> {
        match &self.stage {
            Stage::Playing(s) => Some(s),
            _ => None,
        }
    }

    /// The session, once welcomed, to look at its view.
    pub fn session_mut(&mut self) -> Option<&mut Session> {
        match &mut self.stage {
            Stage::Playing(s) => Some(s),
            _ => None,
        }
    }

    /// How it ended, if it did.
    pub fn ended(&self) -> Option<Ended> {
        match &self.stage {
            Stage::Ended(e) => Some(e.clone()),
            Stage::Playing(s) => s.ended().cloned().map(Ended::Session),
            Stage::Handshaking(_) => None,
        }
    }
}

/// Server and clients on one simulated clock.
pub struct Pair {
    /// Simulated time.
    pub now: Duration,
    /// The real server core.
    pub server: ServerCore,
    /// The clients, in connection order.
    pub clients: Vec<Client>,
    tick_rate: u32,
    server_ticks: u64,
    next_key: u64,
    seed: u64,
    /// The IP address the next clients connect from.
    pub from: IpAddr,
    /// When set, the wall time of every `ServerCore::tick` is appended (the core-tick bench).
    pub tick_times: Option<Vec<Duration>>,
}

impl Pair {
    /// A server with `cfg` (validated here) and no clients yet.
    pub fn new(cfg: ServerConfig, seed: u64) -> Pair {
        cfg.validate().expect("valid server config");
        Pair {
            now: Duration::ZERO,
            tick_rate: cfg.tick_rate,
            server: ServerCore::new(cfg, None),
            clients: Vec::new(),
            server_ticks: 0,
            next_key: 1,
            seed,
            from: IpAddr::from([127, 0, 0, 1]),
            tick_times: None,
        }
    }

    /// Server ticks run so far.
    pub fn server_ticks(&self) -> u64 {
        self.server_ticks
    }

    fn next_server_tick(&self) -> Duration {
        Duration::from_secs(1) * (self.server_ticks + 1) as u32 / self.tick_rate
    }

    /// Connects a client named `name` over `link` (each direction), playing with a seeded bot
    /// brain; returns its index.
    pub fn connect_bot(&mut self, name: &str, link: LinkConfig) -> usize {
        let seed = derive_seed(self.seed, self.next_key);
        let brain = BotBrain::new(seed, 1.0, Duration::MAX);
        self.connect(name, link, Box::new(brain))
    }

    /// Connects a client with its own brain; returns its index.
    pub fn connect(&mut self, name: &str, link: LinkConfig, brain: Box<dyn Brain>) -> usize {
        let (hs, hello) = Handshake::start(name).expect("hello encodes");
        let i = self.connect_raw(link, brain, Stage::Handshaking(hs));
        let now = self.now;
        self.clients[i].path.up_ctrl.send(now, hello);
        i
    }

    /// A connection that has not said anything yet (the caller sends what it likes with
    /// `send_control`); its stage is `Handshaking`.
    pub fn connect_silent(&mut self, link: LinkConfig) -> usize {
        let (hs, _) = Handshake::start("silent").expect("hello encodes");
        self.connect_raw(
            link,
            Box::new(BotBrain::new(0, 1.0, Duration::ZERO)),
            Stage::Handshaking(hs),
        )
    }

    fn connect_raw(&mut self, link: LinkConfig, brain: Box<dyn Brain>, stage: Stage) -> usize {
        let key = ClientKey(self.next_key);
        let seed = derive_seed(self.seed, self.next_key);
        self.next_key += 1;
        self.server.handle_connect(key, self.from, MAX_DATAGRAM, self.now);
        self.clients.push(Client {
            key,
            stage,
            brain,
            path: Path::new(link, seed),
            rtt: link.latency * 2,
            next_tick: self.now,
            closed: None,
            gone: false,
            mute: false,
        });
        self.route();
        self.clients.len() - 1
    }

    /// Sends raw control-stream bytes from client `i` (hostile tests).
    pub fn send_control(&mut self, i: usize, bytes: Vec<u8>) {
        let now = self.now;
        self.clients[i].path.up_ctrl.send(now, bytes);
    }

    /// Sends a raw datagram from client `i` (hostile tests).
    pub fn send_datagram(&mut self, i: usize, bytes: Vec<u8>) {
        let now = self.now;
        self.clients[i].path.up.push(now, bytes);
    }

    /// Client `i` disconnects without a word (its transport reports it to the server).
    pub fn drop_client(&mut self, i: usize, why: LinkClosed) {
        let c = &mut self.clients[i];
        c.gone = true;
        c.stage = Stage::Ended(Ended::Session(EndReason::ConnectionLost(why.to_string())));
        let key = c.key;
        self.server.handle_closed(key, why);
        self.route();
    }

    /// Runs until `ticks` server ticks have been simulated in all.
    pub fn run_ticks(&mut self, ticks: u64) {
        let until = self.server_ticks + ticks;
        while self.server_ticks < until {
            self.step();
        }
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        while self.now < until {
            if !self.step_until(until) {
                self.now = until;
            }
        }
    }

    fn step(&mut self) {
        let t = self.next_event();
        self.advance(t);
    }

    /// Does the next event if it is before `limit`; false if none is.
    fn step_until(&mut self, limit: Duration) -> bool {
        let t = self.next_event();
        if t > limit {
            return false;
        }
        self.advance(t);
        true
    }

    fn next_event(&self) -> Duration {
        let mut t = self.next_server_tick();
        for c in &self.clients {
            if c.gone {
                continue;
            }
            if matches!(c.stage, Stage::Playing(_)) && !c.mute {
                t = t.min(c.next_tick);
            }
            if let Some(d) = c.path.next_deadline() {
                t = t.min(d);
            }
            if let Some((at, _)) = &c.closed {
                t = t.min(*at);
            }
        }
        t.max(self.now)
    }

    fn advance(&mut self, t: Duration) {
        self.now = t;
        let now = t;
        self.deliver(now);
        if now >= self.next_server_tick() {
            let started = std::time::Instant::now();
            self.server.tick(now);
            if let Some(times) = &mut self.tick_times {
                times.push(started.elapsed());
            }
            self.server_ticks += 1;
            self.route();
        }
        for c in &mut self.clients {
            if c.gone || c.mute || now < c.next_tick {
                continue;
            }
            let Stage::Playing(s) = &mut c.stage else { continue };
            if s.ended().is_some() {
                continue;
            }
            s.set_rtt(c.rtt);
            let control = c.brain.control(s, now);
            let bytes = s.tick(&control, now).expect("input datagram encodes");
            if bytes.len() <= MAX_DATAGRAM {
                c.path.up.push(now, bytes);
            }
            c.next_tick += s.tick_period();
        }
    }

    /// Everything due by `now`, to whichever side it goes.
    fn deliver(&mut self, now: Duration) {
        for i in 0..self.clients.len() {
            let key = self.clients[i].key;
            if self.clients[i].gone {
                continue;
            }
            while let Some(bytes) = self.clients[i].path.up_ctrl.poll(now) {
                self.server.handle_control(key, &bytes, now);
            }
            while let Some(bytes) = self.clients[i].path.up.poll(now) {
                self.server.handle_datagram(key, &bytes, now);
            }
            self.route();
            let c = &mut self.clients[i];
            while let Some(bytes) = c.path.down.poll(now) {
                if let Stage::Playing(s) = &mut c.stage {
                    s.on_datagram(&bytes, now);
                }
            }
            while let Some(bytes) = c.path.down_ctrl.poll(now) {
                c.on_control(&bytes, now);
            }
            if let Some((at, reason)) = c.closed.clone()
                && at <= now
            {
                c.gone = true;
                c.closed = None;
                match &mut c.stage {
                    Stage::Playing(s) => s.end(EndReason::ConnectionLost(reason.to_string())),
                    Stage::Handshaking(_) => c.stage = Stage::Ended(Ended::Closed(reason)),
                    Stage::Ended(_) => {}
                }
            }
        }
    }

    /// Routes the server's output into the clients' paths.
    fn route(&mut self) {
        let now = self.now;
        while let Some(t) = self.server.poll_transmit() {
            match t {
                Transmit::Datagram { key, bytes } => {
                    if let Some(c) = self.client_by_key(key) {
                        c.path.down.push(now, bytes);
                    }
                }
                Transmit::Control { key, bytes } => {
                    if let Some(c) = self.client_by_key(key) {
                        c.path.down_ctrl.send(now, bytes);
                    }
                }
                Transmit::Close { key, reason } => {
                    if let Some(c) = self.client_by_key(key) {
                        // The close follows the last control bytes (QUIC closes after the
                        // stream's data is delivered or the grace period ends).
                        let at = c.path.down_ctrl.last.max(now) + c.path.down_ctrl.cfg.latency;
                        c.closed = Some((at, reason));
                    }
                }
            }
        }
    }

    fn client_by_key(&mut self, key: ClientKey) -> Option<&mut Client> {
        self.clients.iter_mut().find(|c| c.key == key && !c.gone)
    }

    /// Shot counters over every client.
    pub fn shot_stats(&self) -> ShotStats {
        let mut total = ShotStats::default();
        for s in self.clients.iter().filter_map(Client::session) {
            total += s.stats().shots;
        }
        total
    }

    /// Prediction corrections over every client.
    pub fn corrections(&self) -> u64 {
        self.clients
            .iter()
            .filter_map(Client::session)
            .map(|s| s.stats().corrections)
            .sum()
    }
}

impl Client {
    fn on_control(&mut self, bytes: &[u8], now: Duration) {
        let stage = std::mem::replace(&mut self.stage, Stage::Ended(Ended::Session(EndReason::Left)));
        self.stage = match stage {
            Stage::Handshaking(hs) => match hs.on_control_bytes(bytes) {
                Ok(Ok(welcomed)) => match Session::start(welcomed, now, self.rtt) {
                    Ok(s) => {
                        self.next_tick = now;
                        Stage::Playing(Box::new(s))
                    }
                    Err(e) => Stage::Ended(Ended::Session(EndReason::BadWelcome(e.to_string()))),
                },
                Ok(Err(hs)) => Stage::Handshaking(hs),
                Err(e) => Stage::Ended(Ended::Handshake(e)),
            },
            Stage::Playing(mut s) => {
                s.on_control_bytes(bytes, now);
                Stage::Playing(s)
            }
            ended => ended,
        };
    }
}
