//! ECS components and resources. Player data are thin wrappers around the plain structs of
//! `rewind_shared::player`, so systems hand them straight to the shared `sim` functions.

use bevy_ecs::prelude::*;
use rewind_shared::input::Input;
use rewind_shared::lagcomp::History;
use rewind_shared::map::Map;
use rewind_shared::player::{Body, Life, PlayerId, Score, Weapon};
use rewind_shared::sim::{SimConfig, SimEvent};
use rewind_shared::tick::Tick;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which player an entity is.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayerTag(pub PlayerId);

/// Position and velocity.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct BodyC(pub Body);

/// Health and respawn timer.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct LifeC(pub Life);

/// Aim and fire timing.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct WeaponC(pub Weapon);

/// Kills and deaths.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct ScoreC(pub Score);

/// The input this player acts on during the current tick.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct CurrentInput(pub Input);

/// Who drives the player: a connected client (by connection key) or the server's AI.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// A remote client.
    Client(u64),
    /// An AI player (its brain lives in `AiBrains`).
    Ai,
}

/// The tick being simulated and the shared settings.
#[derive(Resource, Clone, Copy, Debug)]
pub struct SimClock {
    /// Tick being simulated during a run; the last completed tick between runs.
    pub tick: Tick,
    /// Shared simulation settings.
    pub cfg: SimConfig,
}

/// The map.
#[derive(Resource, Clone, Debug)]
pub struct MapRes(pub Arc<Map>);

/// Lag-compensation history.
#[derive(Resource, Clone, Debug)]
pub struct HistoryRes(pub History);

/// Inputs for the tick being simulated, by player (filled before the simulation systems run).
#[derive(Resource, Clone, Debug, Default)]
pub struct FrameInputs(pub BTreeMap<PlayerId, Input>);

/// Targets some shooters had in view this tick (see `rewind_shared::sim::TickContext::seen`).
#[derive(Resource, Debug, Default)]
pub struct FrameSeen(pub rewind_shared::sim::SeenTargets);

/// What happened during the tick being simulated.
#[derive(Resource, Clone, Debug, Default)]
pub struct FrameEvents(pub Vec<SimEvent>);
