//! A stand-in for the Agones SDK sidecar, for tests: a real gRPC server (tonic) implementing the
//! `SDK` service of Agones' own `sdk.proto` and the beta `SDK` service (Counters and Lists) of
//! `beta.proto`, the files the `agones` crate builds its client from. It keeps the GameServer's
//! state as the sidecar would (Ready, Allocated, Shutdown, labels, annotations, lists) and records
//! every call with the time it arrived, so a test can check what a game server did and when.
//!
//! Only built with the `server` feature (it needs protoc); without it this crate is empty.

#![cfg(feature = "server")]

/// Generated from `proto/sdk/sdk.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs, reason = "generated code")]
pub mod sdk {
    tonic::include_proto!("agones.dev.sdk");
}

/// Generated from `proto/sdk/beta/beta.proto`.
#[allow(clippy::all, clippy::pedantic, missing_docs, reason = "generated code")]
pub mod beta {
    tonic::include_proto!("agones.dev.sdk.beta");
}

use sdk::game_server::{ObjectMeta, Status as GsStatus};
use sdk::{Empty, GameServer, KeyValue};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

/// One SDK call as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `Ready`.
    Ready,
    /// `Allocate`.
    Allocate,
    /// `Shutdown`.
    Shutdown,
    /// One message on the `Health` stream.
    Health,
    /// `GetGameServer`.
    GetGameServer,
    /// `WatchGameServer` opened.
    Watch,
    /// `SetLabel`.
    SetLabel(String, String),
    /// `SetAnnotation`.
    SetAnnotation(String, String),
    /// `Reserve`.
    Reserve,
    /// Beta `UpdateList` (capacity).
    SetListCapacity(String, i64),
    /// Beta `AddListValue` that was accepted.
    ListAdd(String, String),
    /// Beta `RemoveListValue` that was accepted.
    ListRemove(String, String),
    /// Any other beta call.
    OtherBeta(&'static str),
}

/// A recorded call.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// When it arrived.
    pub at: Instant,
    /// What it was.
    pub call: Call,
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<Recorded>,
    gs_state: String,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    lists: BTreeMap<String, (i64, Vec<String>)>,
}

/// The shared state of a running fake sidecar.
#[derive(Clone, Debug)]
pub struct Sidecar {
    state: Arc<Mutex<State>>,
    changed: tokio::sync::watch::Sender<GameServer>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Sidecar {
    fn new(lists: &[(&str, i64)]) -> Sidecar {
        let state = State {
            gs_state: "Scheduled".into(),
            lists: lists
                .iter()
                .map(|(name, capacity)| (name.to_string(), (*capacity, Vec::new())))
                .collect(),
            ..State::default()
        };
        let (changed, _) = tokio::sync::watch::channel(GameServer::default());
        let s = Sidecar {
            state: Arc::new(Mutex::new(state)),
            changed,
        };
        s.publish();
        s
    }

    fn record(&self, call: Call) {
        lock(&self.state).calls.push(Recorded {
            at: Instant::now(),
            call,
        });
    }

    fn game_server(&self) -> GameServer {
        let st = lock(&self.state);
        GameServer {
            object_meta: Some(ObjectMeta {
                name: "rewind-test".into(),
                namespace: "default".into(),
                labels: st.labels.clone().into_iter().collect(),
                annotations: st.annotations.clone().into_iter().collect(),
                ..ObjectMeta::default()
            }),
            spec: None,
            status: Some(GsStatus {
                state: st.gs_state.clone(),
                address: "127.0.0.1".into(),
                ..GsStatus::default()
            }),
        }
    }

    fn publish(&self) {
        let gs = self.game_server();
        self.changed.send_replace(gs);
    }

    fn set_state(&self, s: &str) {
        lock(&self.state).gs_state = s.to_string();
        self.publish();
    }

    /// Every call so far, in order of arrival.
    pub fn calls(&self) -> Vec<Recorded> {
        lock(&self.state).calls.clone()
    }

    /// The GameServer's state ("Scheduled", "Ready", "Allocated", "Shutdown").
    pub fn state(&self) -> String {
        lock(&self.state).gs_state.clone()
    }

    /// The labels set so far (without Agones' `agones.dev/sdk-` prefix).
    pub fn labels(&self) -> BTreeMap<String, String> {
        lock(&self.state).labels.clone()
    }

    /// The annotations set so far (without the prefix).
    pub fn annotations(&self) -> BTreeMap<String, String> {
        lock(&self.state).annotations.clone()
    }

    /// A list's values now (empty if it does not exist).
    pub fn list(&self, name: &str) -> Vec<String> {
        lock(&self.state)
            .lists
            .get(name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Allocates the GameServer, as a matchmaker would through the Kubernetes API.
    pub fn allocate(&self) {
        self.set_state("Allocated");
    }
}

#[tonic::async_trait]
impl sdk::sdk_server::Sdk for Sidecar {
    async fn ready(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.record(Call::Ready);
        self.set_state("Ready");
        Ok(Response::new(Empty {}))
    }

    async fn allocate(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.record(Call::Allocate);
        self.set_state("Allocated");
        Ok(Response::new(Empty {}))
    }

    async fn shutdown(&self, _: Request<Empty>) -> Result<Response<Empty>, Status> {
        self.record(Call::Shutdown);
        self.set_state("Shutdown");
        Ok(Response::new(Empty {}))
    }

    async fn health(&self, req: Request<Streaming<Empty>>) -> Result<Response<Empty>, Status> {
        let mut stream = req.into_inner();
        while stream.message().await?.is_some() {
            self.record(Call::Health);
        }
        Ok(Response::new(Empty {}))
    }

    async fn get_game_server(&self, _: Request<Empty>) -> Result<Response<GameServer>, Status> {
        self.record(Call::GetGameServer);
        Ok(Response::new(self.game_server()))
    }

    type WatchGameServerStream = Pin<Box<dyn Stream<Item = Result<GameServer, Status>> + Send + 'static>>;

    async fn watch_game_server(
        &self,
        _: Request<Empty>,
    ) -> Result<Response<Self::WatchGameServerStream>, Status> {
        self.record(Call::Watch);
        let updates = tokio_stream::wrappers::WatchStream::new(self.changed.subscribe());
        let stream = tokio_stream::StreamExt::map(updates, Ok);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn set_label(&self, req: Request<KeyValue>) -> Result<Response<Empty>, Status> {
        let kv = req.into_inner();
        self.record(Call::SetLabel(kv.key.clone(), kv.value.clone()));
        lock(&self.state).labels.insert(kv.key, kv.value);
        self.publish();
        Ok(Response::new(Empty {}))
    }

    async fn set_annotation(&self, req: Request<KeyValue>) -> Result<Response<Empty>, Status> {
        let kv = req.into_inner();
        self.record(Call::SetAnnotation(kv.key.clone(), kv.value.clone()));
        lock(&self.state).annotations.insert(kv.key, kv.value);
        self.publish();
        Ok(Response::new(Empty {}))
    }

    async fn reserve(&self, _: Request<sdk::Duration>) -> Result<Response<Empty>, Status> {
        self.record(Call::Reserve);
        self.set_state("Reserved");
        Ok(Response::new(Empty {}))
    }
}

fn list_of(name: &str, st: &State) -> beta::List {
    let (capacity, values) = st.lists.get(name).cloned().unwrap_or_default();
    beta::List {
        name: name.to_string(),
        capacity,
        values,
    }
}

#[tonic::async_trait]
impl beta::sdk_server::Sdk for Sidecar {
    async fn get_counter(
        &self,
        _: Request<beta::GetCounterRequest>,
    ) -> Result<Response<beta::Counter>, Status> {
        self.record(Call::OtherBeta("GetCounter"));
        Err(Status::not_found("no counters in this GameServer"))
    }

    async fn update_counter(
        &self,
        _: Request<beta::UpdateCounterRequest>,
    ) -> Result<Response<beta::Counter>, Status> {
        self.record(Call::OtherBeta("UpdateCounter"));
        Err(Status::not_found("no counters in this GameServer"))
    }

    async fn get_list(&self, req: Request<beta::GetListRequest>) -> Result<Response<beta::List>, Status> {
        self.record(Call::OtherBeta("GetList"));
        let name = req.into_inner().name;
        let st = lock(&self.state);
        if !st.lists.contains_key(&name) {
            return Err(Status::not_found(format!("no list {name}")));
        }
        Ok(Response::new(list_of(&name, &st)))
    }

    async fn update_list(
        &self,
        req: Request<beta::UpdateListRequest>,
    ) -> Result<Response<beta::List>, Status> {
        let req = req.into_inner();
        let Some(list) = req.list else {
            return Err(Status::invalid_argument("no list"));
        };
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut st = lock(&self.state);
        // As the sidecar: only the lists the GameServer spec declares exist.
        let Some(entry) = st.lists.get_mut(&list.name) else {
            return Err(Status::not_found(format!("no list {}", list.name)));
        };
        if paths.iter().any(|p| p == "capacity") {
            entry.0 = list.capacity;
            drop(st);
            self.record(Call::SetListCapacity(list.name.clone(), list.capacity));
            st = lock(&self.state);
        }
        if paths.iter().any(|p| p == "values")
            && let Some(e) = st.lists.get_mut(&list.name)
        {
            e.1 = list.values.clone();
        }
        Ok(Response::new(list_of(&list.name, &st)))
    }

    async fn add_list_value(
        &self,
        req: Request<beta::AddListValueRequest>,
    ) -> Result<Response<beta::List>, Status> {
        let req = req.into_inner();
        let mut st = lock(&self.state);
        let Some((capacity, values)) = st.lists.get_mut(&req.name) else {
            return Err(Status::not_found(format!("no list {}", req.name)));
        };
        if values.contains(&req.value) {
            return Err(Status::already_exists(req.value));
        }
        if values.len() as i64 >= *capacity {
            return Err(Status::out_of_range("list at capacity"));
        }
        values.push(req.value.clone());
        let out = list_of(&req.name, &st);
        drop(st);
        self.record(Call::ListAdd(req.name, req.value));
        Ok(Response::new(out))
    }

    async fn remove_list_value(
        &self,
        req: Request<beta::RemoveListValueRequest>,
    ) -> Result<Response<beta::List>, Status> {
        let req = req.into_inner();
        let mut st = lock(&self.state);
        let Some((_, values)) = st.lists.get_mut(&req.name) else {
            return Err(Status::not_found(format!("no list {}", req.name)));
        };
        let Some(at) = values.iter().position(|v| *v == req.value) else {
            return Err(Status::not_found(req.value));
        };
        values.remove(at);
        let out = list_of(&req.name, &st);
        drop(st);
        self.record(Call::ListRemove(req.name, req.value));
        Ok(Response::new(out))
    }
}

/// A fake sidecar serving on a loopback port from a thread of its own; stops when dropped.
pub struct FakeSdk {
    /// Where it listens (give `port()` to the game server as `AGONES_SDK_GRPC_PORT`).
    pub addr: SocketAddr,
    /// Its state and recorded calls.
    pub sidecar: Sidecar,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeSdk {
    /// Starts serving on 127.0.0.1 at a free port, for a GameServer whose spec declares `lists`
    /// (name, capacity), as `spec.lists` does.
    pub fn start(lists: &[(&str, i64)]) -> std::io::Result<FakeSdk> {
        let sidecar = Sidecar::new(lists);
        let served = sidecar.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel::<std::io::Result<SocketAddr>>();
        // Everything runs on the thread's own runtime, so a test may start it from a sync or an
        // async context alike.
        let thread = std::thread::Builder::new()
            .name("fake-agones-sdk".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = bound.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = bound.send(Err(e));
                            return;
                        }
                    };
                    let _ = bound.send(listener.local_addr());
                    let result = tonic::transport::Server::builder()
                        .add_service(sdk::sdk_server::SdkServer::new(served.clone()))
                        .add_service(beta::sdk_server::SdkServer::new(served))
                        .serve_with_incoming_shutdown(
                            tokio_stream::wrappers::TcpListenerStream::new(listener),
                            async {
                                let _ = stopped.await;
                            },
                        )
                        .await;
                    if let Err(e) = result {
                        eprintln!("fake Agones SDK server failed: {e}");
                    }
                });
            })?;
        let addr = addr
            .recv()
            .map_err(|_| std::io::Error::other("the fake SDK thread ended"))??;
        Ok(FakeSdk {
            addr,
            sidecar,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The port to pass as `AGONES_SDK_GRPC_PORT`.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for FakeSdk {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
