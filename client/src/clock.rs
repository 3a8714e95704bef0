//! Clock sync: which server tick our next input is for, and how fast our local tick runs.
//!
//! The server reports in every snapshot how far ahead of its simulation our newest input was
//! (`input_lead`). We want that lead small and positive (a couple of ticks: inputs arrive just
//! before they are needed, so a late packet rarely costs a tick while latency stays low). The lead
//! can only be changed by sending inputs for later or earlier ticks, so instead of jumping we run
//! the local fixed step slightly faster or slower (time dilation, ±`MAX_DILATION`) and only jump
//! when far off. Sans-IO: the caller owns the clock and passes what it measured.

use rewind_shared::tick::Tick;

/// Lead we aim for when the network is steady, in ticks.
pub const BASE_TARGET_LEAD: f32 = 2.0;
/// Largest speed change of the local tick, as a fraction.
pub const MAX_DILATION: f32 = 0.08;
/// Off by more than this many ticks: jump instead of steering.
pub const JUMP_THRESHOLD: i32 = 16;

/// Tracks the tick of the next input and the dilation of the local step.
#[derive(Clone, Debug)]
pub struct ClockSync {
    next_input_tick: Tick,
    /// Smoothed lead reported by the server.
    lead_avg: f32,
    /// Smoothed absolute deviation of the reported lead (input arrival jitter, ticks).
    lead_jitter: f32,
    have_lead: bool,
    dilation: f32,
    /// Ticks we jumped (diagnostics).
    jumps: u64,
}

impl ClockSync {
    /// Starts from the welcome: the server was at `server_tick` when it sent it, about half a
    /// round trip ago; our input needs another half round trip to get there, plus the lead.
    pub fn new(server_tick: Tick, rtt_ticks: f32) -> ClockSync {
        let ahead = (rtt_ticks + BASE_TARGET_LEAD).ceil() as i32;
        ClockSync {
            next_input_tick: server_tick.offset(ahead.max(1)),
            lead_avg: BASE_TARGET_LEAD,
            lead_jitter: 0.0,
            have_lead: false,
            dilation: 0.0,
            jumps: 0,
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
        BASE_TARGET_LEAD + (self.lead_jitter * 2.0).min(8.0)
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

    /// Feeds the `input_lead` of a fresh snapshot. Returns the jump applied, if any (the caller
    /// may need to know its input ticks moved).
    pub fn on_lead(&mut self, lead: i16) -> Option<i32> {
        let lead = f32::from(lead);
        if !self.have_lead {
            self.have_lead = true;
            self.lead_avg = lead;
        }
        let target = self.target_lead();
        let off = (lead - target).round() as i32;
        if off.abs() > JUMP_THRESHOLD {
            // The newest reported lead describes inputs already sent; moving the next tick by the
            // error makes the following inputs land on target.
            self.next_input_tick = self.next_input_tick.offset(-off);
            self.lead_avg = target;
            self.jumps += 1;
            self.dilation = 0.0;
            return Some(-off);
        }
        let dev = (lead - self.lead_avg).abs();
        self.lead_jitter += (dev - self.lead_jitter) * 0.05;
        self.lead_avg += (lead - self.lead_avg) * 0.1;
        // Proportional steering: a tick of error changes the speed by 2%, saturating.
        let err = self.target_lead() - self.lead_avg;
        self.dilation = (err * 0.02).clamp(-MAX_DILATION, MAX_DILATION);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_lead_speeds_up_and_high_lead_slows_down() {
        let mut c = ClockSync::new(Tick(100), 0.0);
        for _ in 0..50 {
            c.on_lead(-2);
        }
        assert!(c.rate() > 1.0);
        let mut c = ClockSync::new(Tick(100), 0.0);
        for _ in 0..50 {
            c.on_lead(10);
        }
        assert!(c.rate() < 1.0);
        assert!(c.rate() >= 1.0 - MAX_DILATION);
    }

    #[test]
    fn far_off_jumps_so_inputs_land_on_target() {
        let mut c = ClockSync::new(Tick(1000), 0.0);
        let before = c.next_input_tick();
        assert_eq!(c.on_lead(-40), Some(42));
        assert_eq!(c.next_input_tick(), before.offset(42));
        assert_eq!(c.jumps(), 1);
    }

    #[test]
    fn welcome_places_first_input_ahead_by_rtt_and_lead() {
        let mut c = ClockSync::new(Tick(500), 6.0);
        assert_eq!(c.advance(), Tick(508));
        assert_eq!(c.next_input_tick(), Tick(509));
    }
}
