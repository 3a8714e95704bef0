//! Rewind's pure core: everything the server, the client and the replay tools must agree on.
//!
//! No IO, no async, no clocks: time comes in as `Tick`s (or `Duration`s for the link
//! conditioner), bytes come in as slices. That is what makes the netcode testable on a simulated
//! clock and the simulation bit-identical on every side.

pub mod ack;
pub mod codec;
pub mod conditioner;
pub mod entity_set;
pub mod field_diffs;
pub mod fog;
pub mod frame;
pub mod geom;
pub mod input;
pub mod input_run;
pub mod interp;
pub mod killcam;
pub mod killcam_frames;
pub mod lagcomp;
pub mod lan;
pub mod leb128;
pub mod map;
pub mod player;
pub mod protocol;
pub mod quant;
pub mod rate;
pub mod replay;
pub mod sight_memo;
pub mod sim;
pub mod snapshot;
pub mod snapshot_wire;
pub mod tick;
pub mod tile_sight;

pub use glam::Vec2;
