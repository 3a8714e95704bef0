//! Clock sync: which server tick our next input is for, and how fast our local tick runs.
//!
//! The server reports in every snapshot how far ahead of its simulation our newest input was
//! (`input_lead`). We want that lead small and positive (a couple of ticks: inputs arrive just
//! before they are needed, so a late packet rarely costs a tick while latency stays low). The lead
//! can only be changed by sending inputs for later or earlier ticks, so instead of jumping we run
//! the local fixed step slightly faster or slower (time dilation, ±`MAX_DILATION`) and only jump
//! when far off. Sans-IO: the caller owns the clock and passes what it measured.
//!
//! The constants below are tuned at 60 Hz (`REFERENCE_RATE`) and counted in ticks there. The ones
//! that are really durations (the jump thresholds and the cap of the extra lead)
//! are scaled to the server's tick rate by `Limits`; the base lead is two ticks (a tick of phase
//! between the two loops and one to spare) but never less than `MIN_TARGET_LEAD_S`: at 128 Hz
//! two ticks are 16 ms, too little room for the scheduling noise of both ends (measured in the
//! Pair harness at a 200 ms round trip: late inputs and corrections).

use rewind_shared::tick::Tick;
/// The steering limits are shared: the server's steadiness rule follows what they allow.
pub use rewind_shared::tick::{MAX_DILATION, STEERING_TICKS};

/// Lead we aim for when the network is steady, in ticks.
pub const BASE_TARGET_LEAD: f32 = 2.0;
/// Least lead we aim for, in seconds, whatever the tick rate (below 2 ticks at 60 Hz, so 60 Hz
/// is unchanged).
pub const MIN_TARGET_LEAD_S: f32 = 0.025;
/// The tick rate the tick-counted constants were tuned at.
pub const REFERENCE_RATE: f32 = 60.0;
/// Extra lead of the first input, in ticks, before any report from the server.
pub const START_MARGIN: f32 = 4.0;
/// Most lead added on top of the base for jitter and late inputs, in ticks.
pub const MAX_EXTRA_LEAD: f32 = 10.0;
/// Decay of the late-input margin per snapshot (about a tick per 8 s at 60 snapshots/s).
const LATE_MARGIN_DECAY: f32 = 0.002;
/// Off by more than this many ticks: jump instead of steering.
pub const JUMP_THRESHOLD: i32 = 16;
/// Late by more than this many ticks, on average too: jump. Every late input is lost to the
/// server (it repeats the last one and the prediction is corrected), so steering out of a late
/// start at 8 % would cost seconds of corrections (measured: a welcome delayed by one lost
/// packet at a 200 ms round trip gave 158 corrections over 5 s).
pub const LATE_JUMP_THRESHOLD: i32 = 4;

/// The clock's constants at one tick rate, in that rate's ticks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// Lead aimed for on a steady network.
    pub base_lead: f32,
    /// Extra lead of the first input (in ticks at any rate: the excess is steered away at most
    /// 8 % of the rate, and every tick of it moves the view age of the first shots, which the
    /// server's steadiness rule follows only so fast).
    pub start_margin: f32,
    /// Most lead added on top of the base.
    pub max_extra_lead: f32,
    /// Off by more than this: jump.
    pub jump: i32,
    /// Late by more than this (on average too): jump.
    pub late_jump: i32,
}

impl Limits {
    /// The constants at `tick_rate` (at 60 Hz exactly the constants above).
    pub fn new(tick_rate: u32) -> Limits {
        let rate = tick_rate.max(1) as f32;
        let k = rate / REFERENCE_RATE;
        let ticks = |t: i32| ((t as f32 * k).round() as i32).max(1);
        Limits {
            base_lead: BASE_TARGET_LEAD.max(MIN_TARGET_LEAD_S * rate),
            start_margin: START_MARGIN,
            max_extra_lead: MAX_EXTRA_LEAD * k,
            jump: ticks(JUMP_THRESHOLD),
            late_jump: ticks(LATE_JUMP_THRESHOLD),
        }
    }
}

/// Tracks the tick of the next input and the dilation of the local step.
#[derive(Clone, Debug)]
pub struct ClockSync {
    limits: Limits,
    next_input_tick: Tick,
    /// Smoothed lead reported by the server.
    lead_avg: f32,
    /// Smoothed absolute deviation of the reported lead (input arrival jitter, ticks).
    lead_jitter: f32,
    have_lead: bool,
    dilation: f32,
    /// Ticks we jumped (diagnostics).
    jumps: u64,
    /// After a jump, leads reported for snapshots before this tick still describe inputs sent
    /// before it (the server reports its newest input tick ever), so they are ignored.
    ignore_before: Option<Tick>,
    /// Extra lead learned from evidence that inputs arrived too late (mispredictions).
    late_margin: f32,
    /// Round trip at the handshake, in ticks (a restart from a snapshot adds it as the welcome's
    /// start did).
    rtt_ticks: f32,
    /// Tick of the snapshot that made the clock jump last.
    jumped_at: Option<Tick>,
}

impl ClockSync {
    /// Starts from the welcome of a server at `tick_rate`: the server was at `server_tick` when
    /// it sent it, about half a round trip ago; our input needs another half round trip to get
    /// there, plus the lead.
    pub fn new(server_tick: Tick, rtt_ticks: f32, tick_rate: u32) -> ClockSync {
        let limits = Limits::new(tick_rate);
        let ahead = start_ahead(&limits, rtt_ticks);
        ClockSync {
            limits,
            next_input_tick: server_tick.offset(ahead),
            lead_avg: limits.base_lead,
            lead_jitter: 0.0,
            have_lead: false,
            dilation: 0.0,
            jumps: 0,
            ignore_before: None,
            late_margin: 0.0,
            rtt_ticks,
            jumped_at: None,
        }
    }

    /// The server tick the next input is for.
    pub fn next_input_tick(&self) -> Tick {
        self.next_input_tick
    }

    /// Consumes one input tick: returns the tick the input is for and moves on.
    pub fn advance(&mut self) -> Tick {
        let t = self.next_input_tick;
        self.next_input_tick = t.next();
        t
    }

    /// The lead we steer toward: the base plus room for the measured arrival jitter, so a late
    /// input is rare when the network is bumpy.
    pub fn target_lead(&self) -> f32 {
        self.limits.base_lead + (self.lead_jitter * 2.0 + self.late_margin).min(self.limits.max_extra_lead)
    }

    /// The server simulated one of our ticks differently from the prediction, most likely
    /// because the input arrived late and it repeated the previous one: aim a tick further
    /// ahead. The margin decays slowly when all goes well.
    pub fn on_misprediction(&mut self) {
        self.late_margin = (self.late_margin + 1.0).min(self.limits.max_extra_lead);
    }

    /// Speed factor of the local tick: >1 runs faster (the lead grows).
    pub fn rate(&self) -> f32 {
        1.0 + self.dilation
    }

    /// Smoothed lead reported by the server.
    pub fn lead(&self) -> f32 {
        self.lead_avg
    }

    /// How many times the clock jumped.
    pub fn jumps(&self) -> u64 {
        self.jumps
    }

    /// Feeds the `input_lead` of a fresh snapshot of `tick`. Returns the jump applied, if any
    /// (the caller may need to know its input ticks moved).
    pub fn on_lead(&mut self, tick: Tick, lead: i16) -> Option<i32> {
        if let Some(t) = self.ignore_before {
            if t.is_after(tick) {
                return None;
            }
            self.ignore_before = None;
        }
        // The snapshot's tick is a floor on the server's clock: an input for a tick not after it
        // is late before it leaves, and the server cannot say so until one has arrived (until
        // then it reports 0). This is a start from a stale welcome (measured: 248 bots joining
        // at once read welcomes 100-200 ms after the server wrote them, and their first inputs
        // were all lost): start again from this snapshot. Only certain lateness counts (not a
        // guess from the round trip, which jitter would turn into false jumps).
        let headroom = self.next_input_tick.diff(tick);
        if headroom <= 0 {
            let by = start_ahead(&self.limits, self.rtt_ticks) - headroom;
            return Some(self.jump(by, tick));
        }
        let lead = f32::from(lead);
        if !self.have_lead {
            self.have_lead = true;
            self.lead_avg = lead;
        }
        let target = self.target_lead();
        let off = (lead - target).round() as i32;
        let late = lead < 0.0 && self.lead_avg < 0.0 && -off > self.limits.late_jump;
        if off.abs() > self.limits.jump || late {
            // The newest reported lead describes inputs already sent; moving the next tick by the
            // error makes the following inputs land on target.
            return Some(self.jump(-off, tick));
        }
        self.late_margin = (self.late_margin - LATE_MARGIN_DECAY).max(0.0);
        let dev = (lead - self.lead_avg).abs();
        self.lead_jitter += (dev - self.lead_jitter) * 0.05;
        self.lead_avg += (lead - self.lead_avg) * 0.1;
        // Proportional steering: a tick of error changes the speed by 2%, saturating.
        let err = self.target_lead() - self.lead_avg;
        self.dilation = (err / STEERING_TICKS).clamp(-MAX_DILATION, MAX_DILATION);
        None
    }

    /// The tick of the snapshot that made the clock jump last: the server had simulated up to
    /// it, so of the ticks a forward jump skipped only the later ones can still reach it.
    pub fn jumped_at(&self) -> Option<Tick> {
        self.jumped_at
    }

    /// Moves the next input tick by `by` ticks (on the snapshot of tick `at`) and starts the
    /// lead estimate afresh at target.
    fn jump(&mut self, by: i32, at: Tick) -> i32 {
        self.jumped_at = Some(at);
        let old = self.next_input_tick;
        self.next_input_tick = old.offset(by);
        // Until the server simulates past both the old and the new input ticks, its report
        // still describes inputs sent before the jump.
        self.ignore_before = Some(if old.is_after(self.next_input_tick) {
            old
        } else {
            self.next_input_tick
        });
        self.lead_avg = self.target_lead();
        self.jumps += 1;
        self.dilation = 0.0;
        by
    }
}

/// Ticks ahead of the server's tick our first input is for: the round trip, the base lead and
/// a few ticks to spare (a late input costs a misprediction, an early one only a little latency,
/// and the steering trims the excess within a second or two).
fn start_ahead(limits: &Limits, rtt_ticks: f32) -> i32 {
    ((rtt_ticks + limits.base_lead + limits.start_margin).ceil() as i32).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_lead_speeds_up_and_high_lead_slows_down() {
        // One input per snapshot, as the local clock runs alongside the server's.
        let mut c = ClockSync::new(Tick(100), 0.0, 60);
        for i in 0..50 {
            c.advance();
            c.on_lead(Tick(100 + i), -2);
        }
        assert!(c.rate() > 1.0);
        let mut c = ClockSync::new(Tick(100), 0.0, 60);
        for i in 0..50 {
            c.advance();
            c.on_lead(Tick(100 + i), 10);
        }
        assert!(c.rate() < 1.0);
        assert!(c.rate() >= 1.0 - MAX_DILATION);
    }

    #[test]
    fn mispredictions_raise_the_target_lead() {
        let mut c = ClockSync::new(Tick(0), 0.0, 60);
        let base = c.target_lead();
        c.on_misprediction();
        c.on_misprediction();
        assert!((c.target_lead() - base - 2.0).abs() < 1e-6);
        for _ in 0..100_000 {
            c.on_misprediction();
        }
        assert!(c.target_lead() <= BASE_TARGET_LEAD + MAX_EXTRA_LEAD);
    }

    #[test]
    fn far_off_jumps_so_inputs_land_on_target() {
        let mut c = ClockSync::new(Tick(1000), 0.0, 60);
        let before = c.next_input_tick();
        assert_eq!(c.on_lead(Tick(1000), -40), Some(42));
        assert_eq!(c.next_input_tick(), before.offset(42));
        assert_eq!(c.jumps(), 1);
        // Reports about inputs sent before the jump do not jump again.
        (0..10).for_each(|_| _ = c.advance());
        assert_eq!(c.on_lead(Tick(1010), -35), None);
        assert_eq!(c.jumps(), 1);
        (0..32).for_each(|_| _ = c.advance());
        assert_eq!(c.on_lead(before.offset(42), -35), Some(37));
    }

    /// A welcome that waited in a busy client: the first snapshot shows the server already past
    /// our first input's tick, and the clock starts again from it before any input is lost.
    #[test]
    fn a_snapshot_past_our_next_input_restarts_the_clock_from_it() {
        let mut c = ClockSync::new(Tick(100), 0.4, 60);
        assert_eq!(c.next_input_tick(), Tick(107));
        assert_eq!(c.on_lead(Tick(110), 0), Some(10));
        assert_eq!(c.next_input_tick(), Tick(117));
        assert_eq!(c.jumps(), 1);
        // A snapshot our next input is comfortably ahead of changes nothing.
        let mut c = ClockSync::new(Tick(100), 0.4, 60);
        assert_eq!(c.on_lead(Tick(104), 0), None);
        assert_eq!(c.next_input_tick(), Tick(107));
        // A tick ahead may yet be on time: the server's report decides.
        assert_eq!(c.on_lead(Tick(106), 0), None);
        assert_eq!(c.on_lead(Tick(107), 0), Some(7));
    }

    #[test]
    fn welcome_places_first_input_ahead_by_rtt_and_lead() {
        let mut c = ClockSync::new(Tick(500), 6.0, 60);
        assert_eq!(c.advance(), Tick(512));
        assert_eq!(c.next_input_tick(), Tick(513));
    }

    /// 60 Hz keeps the constants as tuned; at 128 Hz the durations are the same time and the
    /// base lead is at least `MIN_TARGET_LEAD_S`.
    #[test]
    fn limits_follow_the_tick_rate() {
        let at60 = Limits::new(60);
        assert_eq!(
            at60,
            Limits {
                base_lead: BASE_TARGET_LEAD,
                start_margin: START_MARGIN,
                max_extra_lead: MAX_EXTRA_LEAD,
                jump: JUMP_THRESHOLD,
                late_jump: LATE_JUMP_THRESHOLD,
            }
        );
        let at128 = Limits::new(128);
        assert!((at128.base_lead - 3.2).abs() < 1e-4, "25 ms: {at128:?}");
        assert_eq!((at128.jump, at128.late_jump), (34, 9), "{at128:?}");
        assert!((at128.max_extra_lead / 128.0 - MAX_EXTRA_LEAD / 60.0).abs() < 1e-6);
        let c = ClockSync::new(Tick(0), 0.0, 128);
        assert!((c.target_lead() - at128.base_lead).abs() < 1e-6);
    }
}
