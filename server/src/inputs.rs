//! Per-client input buffer keyed by tick. Clients are not trusted: redundant copies are
//! de-duplicated by sequence, inputs for ticks already simulated or too far ahead are dropped and
//! counted, and a tick with no input repeats the last movement (counted as missing) for a short
//! while, then stands still: a player whose inputs stopped coming is not walked on as a ghost.

use rewind_shared::input::Input;
use rewind_shared::protocol::InputCmd;
use rewind_shared::tick::{Seq, Tick};
use std::collections::VecDeque;
use std::time::Duration;

/// How far ahead of the server an input may be, at 60 Hz in ticks (about a second). A rule in
/// time: `InputLimits::new` scales it with the tick rate (128 at 128 Hz), or a client at 128 Hz
/// would get half the room.
pub const MAX_INPUT_LEAD_TICKS: i32 = 64;
/// How long the last movement is repeated while no input comes (a lost packet or two is bridged
/// smoothly); after that the player stands still, keeping its aim. 15 ticks at 60 Hz, 32 at 128.
pub const REPEAT_MOVE: Duration = Duration::from_millis(250);

/// The buffer's limits in ticks at one tick rate: both are durations of the game, not counts of
/// ticks, so they follow `--tick-rate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputLimits {
    /// Inputs further ahead of the server than this many ticks are dropped.
    pub max_lead_ticks: i32,
    /// Ticks without input during which the last movement is repeated.
    pub repeat_move_ticks: u32,
}

impl InputLimits {
    /// The limits at `tick_rate` (60 Hz gives `MAX_INPUT_LEAD_TICKS` and 15 exactly).
    pub fn new(tick_rate: u32) -> InputLimits {
        let rate = tick_rate.max(1);
        InputLimits {
            max_lead_ticks: (MAX_INPUT_LEAD_TICKS as u32 * rate).div_ceil(60) as i32,
            repeat_move_ticks: (REPEAT_MOVE.as_secs_f64() * f64::from(rate)).round() as u32,
        }
    }
}

impl Default for InputLimits {
    /// The limits at the default 60 Hz.
    fn default() -> Self {
        InputLimits::new(60)
    }
}

/// Counters the buffer keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputCounters {
    /// Ticks simulated with a repeated input because none had arrived.
    pub missing: u64,
    /// Inputs that arrived after their tick was simulated.
    pub late: u64,
    /// Inputs for ticks too far in the future.
    pub too_far_ahead: u64,
}

/// Buffered inputs of one client.
#[derive(Debug, Default)]
pub struct InputBuffer {
    /// Pending inputs, sorted by tick.
    pending: VecDeque<InputCmd>,
    /// Last input applied (repeated when one is missing).
    last: Input,
    /// Sequence of the newest real input applied.
    last_applied: Option<Seq>,
    /// Newest tick any input was received for.
    newest_tick: Option<Tick>,
    /// Ticks in a row simulated without an input.
    missing_run: u32,
    /// Limits at the server's tick rate.
    limits: InputLimits,
    /// Counters.
    pub counters: InputCounters,
}

impl InputBuffer {
    /// An empty buffer for a server running at `tick_rate`.
    pub fn new(tick_rate: u32) -> InputBuffer {
        InputBuffer {
            limits: InputLimits::new(tick_rate),
            ..InputBuffer::default()
        }
    }

    /// Accepts one input received while the server is about to simulate `next_tick`.
    pub fn receive(&mut self, cmd: InputCmd, next_tick: Tick) {
        if self.last_applied.is_some_and(|s| !cmd.seq.is_after(s)) {
            return; // a redundant copy of an input already applied
        }
        let lead = cmd.tick.diff(next_tick);
        // Late inputs and inputs too far ahead count for the reported lead too: a client whose
        // every input is refused must hear by how much, or it steers as if on time (measured: a
        // client that joined behind got lead 0 reported for 4 s and had every input refused; and
        // after a stall of the server's tick loop, 248 clients more than a second ahead had every
        // input refused for the rest of the match).
        if self.newest_tick.is_none_or(|t| cmd.tick.is_after(t)) {
            self.newest_tick = Some(cmd.tick);
        }
        if lead > self.limits.max_lead_ticks {
            self.counters.too_far_ahead += 1;
            return;
        }
        if lead < 0 {
            self.counters.late += 1;
            return;
        }
        let at = self.pending.partition_point(|c| cmd.tick.is_after(c.tick));
        if self.pending.get(at).is_some_and(|c| c.tick == cmd.tick) {
            return; // a redundant copy still pending
        }
        self.pending.insert(at, cmd);
    }

    /// The input to simulate `tick` with. Without one, the last movement and aim are repeated
    /// (never the trigger: a shot must be something the player did).
    pub fn take(&mut self, tick: Tick) -> Input {
        while self.pending.front().is_some_and(|c| tick.is_after(c.tick)) {
            self.pending.pop_front();
        }
        match self.pending.front() {
            Some(c) if c.tick == tick => {
                let c = *c;
                self.pending.pop_front();
                self.last = c.input;
                self.last_applied = Some(c.seq);
                self.missing_run = 0;
                c.input
            }
            _ => {
                if self.last_applied.is_some() {
                    self.counters.missing += 1;
                }
                self.missing_run = self.missing_run.saturating_add(1);
                let mv = if self.missing_run <= self.limits.repeat_move_ticks {
                    self.last.mv
                } else {
                    [0, 0]
                };
                Input {
                    mv,
                    buttons: 0,
                    view: None,
                    ..self.last
                }
            }
        }
    }

    /// The aim of the last input applied (a dropped player keeps facing where it faced).
    pub fn last_aim(&self) -> [i16; 2] {
        self.last.aim
    }

    /// Sequence of the newest real input applied.
    pub fn last_applied(&self) -> Option<Seq> {
        self.last_applied
    }

    /// How many ticks the newest input is ahead of `tick` (negative: behind), 0 before any.
    pub fn lead(&self, tick: Tick) -> i16 {
        self.newest_tick
            .map_or(0, |t| t.diff(tick).clamp(i16::MIN.into(), i16::MAX.into()) as i16)
    }

    /// Inputs waiting (the buffer depth metric).
    pub fn depth(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(seq: u16, tick: u32, x: i8) -> InputCmd {
        InputCmd {
            seq: Seq(seq),
            tick: Tick(tick),
            input: Input {
                mv: [x, 0],
                ..Input::default()
            },
        }
    }

    #[test]
    fn redundant_copies_are_applied_once() {
        let mut b = InputBuffer::default();
        for _ in 0..3 {
            b.receive(cmd(1, 10, 5), Tick(10));
            b.receive(cmd(2, 11, 6), Tick(10));
        }
        assert_eq!(b.take(Tick(10)).mv, [5, 0]);
        b.receive(cmd(1, 10, 5), Tick(11));
        assert_eq!(b.take(Tick(11)).mv, [6, 0]);
        assert_eq!(b.last_applied(), Some(Seq(2)));
        assert_eq!(b.counters, InputCounters::default());
    }

    #[test]
    fn missing_input_repeats_movement_but_not_trigger() {
        let mut b = InputBuffer::default();
        let mut c = cmd(1, 10, 7);
        c.input.buttons = 1;
        b.receive(c, Tick(10));
        assert!(b.take(Tick(10)).fire());
        let repeated = b.take(Tick(11));
        assert_eq!(repeated.mv, [7, 0]);
        assert!(!repeated.fire());
        assert_eq!(b.counters.missing, 1);
        assert_eq!(b.last_applied(), Some(Seq(1)));
    }

    #[test]
    fn a_long_gap_stands_still_keeping_the_aim() {
        for rate in [60, 128] {
            let repeat = InputLimits::new(rate).repeat_move_ticks;
            let mut b = InputBuffer::new(rate);
            let mut c = cmd(1, 10, 7);
            c.input.aim = [0, 300];
            b.receive(c, Tick(10));
            b.take(Tick(10));
            let gap: Vec<Input> = (11..11 + repeat + 3).map(|t| b.take(Tick(t))).collect();
            assert!(gap[..repeat as usize].iter().all(|i| i.mv == [7, 0]), "{rate} Hz");
            assert!(
                gap[repeat as usize..]
                    .iter()
                    .all(|i| i.mv == [0, 0] && i.aim == [0, 300]),
                "{rate} Hz"
            );
            // An input arriving again moves at once, and the next gap repeats it again.
            let t = 11 + repeat + 3;
            b.receive(cmd(2, t, -3), Tick(t));
            assert_eq!(b.take(Tick(t)).mv, [-3, 0]);
            assert_eq!(b.take(Tick(t + 1)).mv, [-3, 0]);
        }
    }

    /// The limits are durations: the same time at 60 and at 128 Hz, and 60 Hz as it always was.
    #[test]
    fn limits_follow_the_tick_rate() {
        assert_eq!(
            InputLimits::new(60),
            InputLimits {
                max_lead_ticks: MAX_INPUT_LEAD_TICKS,
                repeat_move_ticks: 15
            }
        );
        assert_eq!(InputLimits::default(), InputLimits::new(60));
        let fast = InputLimits::new(128);
        assert_eq!(fast.repeat_move_ticks, 32, "250 ms at 128 Hz");
        assert_eq!(fast.max_lead_ticks, 137, "the same 1.07 s as 64 ticks at 60 Hz");
        let mut b = InputBuffer::new(128);
        b.receive(cmd(1, 10 + 100, 1), Tick(10));
        assert_eq!(b.counters.too_far_ahead, 0, "100 ticks ahead is 0.78 s at 128 Hz");
        b.receive(cmd(2, 10 + 138, 1), Tick(10));
        assert_eq!(b.counters.too_far_ahead, 1);
    }

    #[test]
    fn late_and_far_future_inputs_are_dropped_and_counted() {
        let mut b = InputBuffer::default();
        b.receive(cmd(1, 5, 1), Tick(10));
        b.receive(cmd(2, 10 + MAX_INPUT_LEAD_TICKS as u32 + 1, 1), Tick(10));
        assert_eq!(b.counters.late, 1);
        assert_eq!(b.counters.too_far_ahead, 1);
        assert_eq!(b.depth(), 0);
        assert_eq!(
            b.lead(Tick(10)),
            MAX_INPUT_LEAD_TICKS as i16 + 1,
            "the client hears how far ahead it is, to jump back"
        );
        b.receive(cmd(3, 13, 1), Tick(10));
        assert_eq!(b.depth(), 1);
    }
}
