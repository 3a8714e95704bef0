//! The network threads yield the core to the tick thread.
//!
//! The tick is the only work with a deadline: a late tick delays every player's snapshot and
//! input, while the network threads work off queues (the socket's buffer, quinn's) that only
//! need the core between ticks. When they share one core (a server pinned to a core, or a
//! small cloud instance) and both are runnable, the scheduler otherwise splits it evenly, and
//! the tick, preempted mid-way by quinn's threads, ran late. Measured at 256 players on one core
//! (`scripts/measure-256.sh`): ticks on time went from 0.53 to 0.99 with the network threads
//! ten nice levels down. Raising the tick thread instead would need privileges; lowering a
//! thread of one's own does not.

/// How many nice levels the network threads sit below the rest of the server (about a tenth
/// of the core each when the tick is runnable too; all of it when the tick sleeps).
pub const NET_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority by `NET_NICENESS` (used as the network
/// runtime's thread-start hook). Best effort: where it is refused or unsupported the server
/// runs as before, so a failure is only logged.
pub fn yield_to_the_tick() {
    #[cfg(unix)]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        // On Linux the nice value belongs to the thread, and `None` means the calling one.
        let lowered =
            getpriority_process(None).and_then(|now| setpriority_process(None, (now + NET_NICENESS).min(19)));
        if let Err(e) = lowered {
            tracing::debug!("network thread keeps its priority: {e}");
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_calling_thread() {
        let before = rustix::process::getpriority_process(None).unwrap_or(0);
        let inside = std::thread::spawn(|| {
            yield_to_the_tick();
            rustix::process::getpriority_process(None)
        })
        .join()
        .ok()
        .and_then(Result::ok);
        assert_eq!(inside, Some((before + NET_NICENESS).min(19)));
        assert_eq!(rustix::process::getpriority_process(None).ok(), Some(before));
    }
}
