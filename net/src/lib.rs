//! QUIC glue shared by server and client (see docs/ARCHITECTURE.md).
//!
//! The artificial-latency feature (DESIGN.md §6) lives here: [`conditioned_endpoint`] puts a
//! [`rewind_shared::conditioner::Conditioner`] under quinn's UDP socket so QUIC itself sees the
//! bad network, [`ConditionerControl`] changes it live, [`NetArgs`] is the shared CLI surface
//! (`--lag 80ms --loss 3% --net wifi` ...), and [`run_netsim`] is the standalone UDP proxy.

mod args;
pub mod bind;
mod endpoint;
mod error;
mod netsim;
mod socket;

pub use args::NetArgs;
pub use endpoint::{SERVER_CID_LEN, conditioned_endpoint, endpoint_config, plain_endpoint, sparse_acks};
pub use error::NetError;
pub use netsim::{Netsim, NetsimArgs, NetsimStats, netsim_main, run_netsim};
pub use socket::{ConditionedSocket, ConditionerControl, LinkStats};
