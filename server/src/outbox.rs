//! The tick's snapshots on their way to QUIC. The tick thread queues every datagram of a tick
//! here and wakes one network task, once, which hands each to its connection. A queue and a wake
//! per connection cost the tick thread a futex call per snapshot (at 256 players, about 0.3 ms at
//! the end of every tick, a twentieth of it) and woke every connection's task.

use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Datagrams queued at most between two runs of the network task: about sixteen ticks of a full
/// server's snapshots. Beyond it the network thread has stalled and a datagram is dropped like a
/// lost one (the next snapshot is a delta against an acknowledged baseline).
pub const MAX_QUEUED_DATAGRAMS: usize = 4096;

/// One datagram for one connection.
struct Queued {
    conn: quinn::Connection,
    bytes: Bytes,
    /// The link's copy of the connection's datagram size, refreshed after each send.
    max_datagram: Arc<AtomicUsize>,
}

/// Datagrams from the tick thread to the network task (see the module).
#[derive(Default)]
pub struct DatagramBatch {
    queued: Mutex<Vec<Queued>>,
    ready: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DatagramBatch {
    /// Queues `bytes` for `conn`; false if the queue is full (the datagram is dropped). Wakes the
    /// network task only when the queue was empty: once per tick while it keeps up.
    pub fn push(&self, conn: &quinn::Connection, bytes: Bytes, max_datagram: &Arc<AtomicUsize>) -> bool {
        let was_empty = {
            let mut q = lock(&self.queued);
            if q.len() >= MAX_QUEUED_DATAGRAMS {
                return false;
            }
            q.push(Queued {
                conn: conn.clone(),
                bytes,
                max_datagram: max_datagram.clone(),
            });
            q.len() == 1
        };
        if was_empty {
            self.ready.notify_one();
        }
        true
    }

    /// The network task: hands every queued datagram to its connection (a full send buffer or a
    /// closed connection drops it, as a lost datagram), then waits for the next tick's. Runs
    /// until aborted.
    pub async fn run(self: Arc<Self>) {
        let mut batch = Vec::new();
        loop {
            self.ready.notified().await;
            std::mem::swap(&mut batch, &mut *lock(&self.queued));
            for q in batch.drain(..) {
                let _ = q.conn.send_datagram(q.bytes);
                q.max_datagram
                    .store(crate::endpoint::datagram_size(&q.conn), Ordering::Relaxed);
            }
        }
    }
}
