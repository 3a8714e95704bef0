//! The network threads yield the core to the tick thread, and where allowed the tick thread
//! takes it (`serve --realtime-tick`).
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

/// The tick thread's real-time priority under `--realtime-tick` (SCHED_FIFO, 1..=99): above
/// every normal thread, so the network threads and the rest of the machine's work wait until a
/// tick is done, and low, so that the kernel's own real-time threads (watchdogs, interrupt
/// threads) still come first.
pub const TICK_RT_PRIORITY: u8 = 10;

/// Why the tick thread could not be given real-time priority.
#[derive(Debug, thiserror::Error)]
pub enum RealtimeError {
    /// The platform has no real-time scheduling for threads.
    #[error("real-time scheduling is not supported on this platform")]
    Unsupported,
    /// The OS refused (usually: no CAP_SYS_NICE and an RLIMIT_RTPRIO below the priority).
    #[error(
        "the OS refused SCHED_FIFO {TICK_RT_PRIORITY} ({0}); it needs CAP_SYS_NICE or `ulimit -r {TICK_RT_PRIORITY}`"
    )]
    Refused(String),
}

/// Puts the calling thread (the tick's) at real-time priority `TICK_RT_PRIORITY`.
///
/// Measured at 256 players on one core: at normal priority the scheduler shares the core with
/// the network threads in slices, and a tick that loses a slice to them runs milliseconds late
/// (tick p99 13.5 ms against a CPU time p99 of 8.7 ms). A real-time tick runs to its end and the
/// network's work fits in the time between ticks. The danger is a tick loop that cannot keep up:
/// it would then hold the core, so the loop calls `lower_the_tick` when it falls behind, and
/// the kernel keeps 5 % of each second for normal threads in any case (`sched_rt_runtime_us`).
pub fn raise_the_tick() -> Result<(), RealtimeError> {
    #[cfg(unix)]
    {
        use thread_priority::{
            RealtimeThreadSchedulePolicy, ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
            set_thread_priority_and_policy, thread_native_id,
        };
        let value = ThreadPriorityValue::try_from(TICK_RT_PRIORITY)
            .map_err(|e| RealtimeError::Refused(e.to_string()))?;
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(value),
            ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
        )
        .map_err(|e| match e {
            thread_priority::Error::OS(code) => {
                RealtimeError::Refused(std::io::Error::from_raw_os_error(code).to_string())
            }
            other => RealtimeError::Refused(other.to_string()),
        })
    }
    #[cfg(not(unix))]
    {
        Err(RealtimeError::Unsupported)
    }
}

/// Puts the calling thread back at normal priority (SCHED_OTHER); best effort, a failure is
/// logged.
pub fn lower_the_tick() {
    #[cfg(unix)]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        if let Err(e) = set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
        ) {
            tracing::warn!("the tick thread could not go back to normal priority: {e}");
        }
    }
}

/// Whether the calling thread runs at a real-time policy (FIFO or round robin).
pub fn is_realtime() -> bool {
    #[cfg(unix)]
    {
        use thread_priority::{ThreadSchedulePolicy, thread_schedule_policy};
        matches!(thread_schedule_policy(), Ok(ThreadSchedulePolicy::Realtime(_)))
    }
    #[cfg(not(unix))]
    {
        false
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

    #[test]
    fn the_tick_rises_where_allowed_and_comes_back_down() {
        let seen = std::thread::spawn(|| {
            let before = is_realtime();
            let raised = raise_the_tick();
            let during = is_realtime();
            lower_the_tick();
            (before, raised.is_ok(), during, is_realtime())
        })
        .join()
        .ok();
        let Some((before, raised, during, after)) = seen else {
            panic!("the test thread panicked");
        };
        assert!(!before, "threads start at normal priority");
        // Where it is refused (no CAP_SYS_NICE) the refusal is an error, never a silent success.
        assert_eq!(
            raised, during,
            "raise reported {raised} but the policy says {during}"
        );
        assert!(!after, "back to normal");
        assert!(!is_realtime(), "only the calling thread changed");
    }
}
