//! The steadiness of a client's view age: the second half of the view rules.
//!
//! The latency rules (`snapshots::ViewRules`) bound a shot's view between the newest snapshot a
//! client could have drawn and the oldest its measured latency allows. That band is several ticks
//! wide (jitter, tick rounding, the client's interpolation delay), and a backtracking client
//! chooses within it, shot by shot, whichever view hits. An honest client cannot choose: it draws
//! at `render = server clock estimate − delay` and fires at its own input tick, both from one
//! local clock, so the age of its views (shot tick − view time) is nearly the same from one shot
//! to the next. Measured in the Pair harness at a 200 ms round trip ±20 ms and 5 % loss (14,008
//! shots): consecutive shots differ by 0.10 tick at the median, 0.68 at p99; ages stray from
//! their running mean by −1.19 / +1.81 ticks at p0.1 / p99.9.
//!
//! So the server keeps a running mean of each client's view age and accepts a shot's view
//! within `tolerance` of it.
//!
//! The age is steady, not constant: it moves with the client's input lead, which the client
//! steers at up to `MAX_DILATION` and which decays toward its target in about `STEERING_TICKS`.
//! A join starts a few ticks ahead and trims them in the first seconds (measured on loopback:
//! 10.9 ticks falling to 7.2 over 3-6 s, up to 0.2 tick a shot), which a plain mean trailed by
//! more than the tolerance: honest bots were clamped 3-7 times a match. So the mean carries a
//! trend too, damped as the steering's error decays and bounded by `MAX_DILATION`: a drift the
//! client's clock can make is followed, a choice that jumps around the mean is not.
//!
//! Shots say nothing while a client does not fire, and its lead goes on moving: 56 bots joining
//! at once fired in their first second at an age of 11 ticks, found no target for about two
//! seconds, and fired again at 8, all three ticks of it lead (measured: the age less the lead the
//! server saw stayed within 0.2 tick); every one of them was clamped three times, and those
//! clamps were all but a few of a 64-player match's. The server measures that lead itself, from
//! when each input arrives, so across a pause of `STEERING_TICKS` or more the mean moves with the
//! measured lead (no faster than `MAX_DILATION` allows) instead of the trend. A client can only
//! move that lead by sending its inputs earlier or later than its clock would, and only over the
//! pause, before it knows what it will aim at.
//!
//! An honest client strays too, now and then: a hitch of its machine or of the server stalls its
//! render time at the newest snapshot, and its shots for a moment carry older views. So a view
//! outside the band is still taken as claimed while the client has spare deviations
//! (`SPARE_PER_S`, at most `SPARE_BURST` saved up); past that it is given the running age
//! itself, the view its own habit says it drew. A backtracking client strays on every miss it
//! can convert (several a second) and runs out at once; an honest one under load strays a few
//! times a minute. Clamped to the edge of the band instead, a stray still moved a cheater's view
//! as far as the band allows toward the one that hit: backtracking bots hit 1.12× as often as
//! honest ones (60 s runs on a quiet machine), against 1.02× clamped to the running age.
//! The tolerance is a base plus the client's measured round-trip deviation (arrival jitter
//! moves the client's clock estimate), so a steady link leaves a cheater no more than about a
//! tick and a half of choice. The mean starts afresh after a pause in firing
//! (`RESET_AFTER_SECS`) or when several shots in a row fall outside the band at about the same
//! new age (a client that jumped its clock), so an honest client is never held to a stale mean;
//! strays scattered around the band, as a search for hits makes them, never move it.

/// Weight of a new sample in the running mean.
const WEIGHT: f64 = 0.25;
/// Weight of a new sample's residual in the trend (per tick between shots, after `WEIGHT`):
/// chosen by replaying the ages of honest bots on loopback, whose join drift it follows without a
/// stray.
const TREND_WEIGHT: f64 = 0.5;
/// Ticks of tolerance on a perfectly steady link (local tick scheduling, tick rounding), at 60 Hz
/// and below. Above 60 Hz it is the same time, 12.5 ms (1.6 ticks at 128 Hz): scheduling noise and
/// the client's clock steering (at most 8 % of its rate) move the view age by time, not by ticks
/// (measured at 128 Hz with 0.75 ticks: an honest bot on loopback was clamped while its lead
/// settled, 2 verdicts in 56 disagreed). A target moves as far in 12.5 ms at any tick rate, so a
/// backtracking client gains no more than at 60 Hz.
pub const TOLERANCE_BASE_TICKS: f64 = 0.75;
/// Tolerance per tick of the client's round-trip mean deviation.
pub const TOLERANCE_PER_RTTVAR: f64 = 2.0;
/// Shots in a row outside the band on one side that re-anchor the mean.
const REANCHOR_AFTER: u8 = 3;
/// Seconds without a judged shot after which the mean starts afresh.
const RESET_AFTER_SECS: u32 = 2;
/// Views outside the band taken as claimed, per second, on average.
pub const SPARE_PER_S: f64 = 0.05;
/// Views outside the band that may be taken as claimed in a row.
pub const SPARE_BURST: f64 = 3.0;

/// One client's running view age, in ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct ViewAge {
    mean: Option<f64>,
    /// Drift of the age in ticks per tick, as the client's clock steering moves it.
    trend: f64,
    last_shot: Option<rewind_shared::tick::Tick>,
    /// The client's input lead as the server measured it at the last shot, in ticks.
    lead: f64,
    /// Consecutive shots outside the band near one new age, and the first one's age.
    outside: u8,
    shift: f64,
    /// Deviations still allowed (created at the first shot).
    spare: Option<TokenBucket>,
}

use rewind_shared::rate::TokenBucket;
use rewind_shared::tick::{MAX_DILATION, STEERING_TICKS};
use std::time::Duration;

#[cfg(test)]
impl ViewAge {
    /// A tracker that never takes a stray as claimed, so tests see every one as a clamp.
    pub fn without_spares() -> ViewAge {
        ViewAge {
            spare: Some(TokenBucket::new(0.0, 0.0, Duration::ZERO)),
            ..ViewAge::default()
        }
    }
}

/// What the steadiness rule makes of a shot's age.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AgeVerdict {
    /// Within the band (or the first shot, which sets the mean).
    Steady,
    /// Outside, with no spare deviation left: the age to use instead (the running age).
    Clamp(f64),
}

impl ViewAge {
    /// Judges a shot fired at `tick` whose view is `age` ticks old, with a tolerance of
    /// `tolerance` ticks, and updates the mean. `lead` is the client's input lead as the server
    /// measures it now (smoothed, in ticks); `tick_rate` times the reset pause.
    pub fn judge(
        &mut self,
        tick: rewind_shared::tick::Tick,
        age: f64,
        lead: f64,
        tolerance: f64,
        tick_rate: u32,
    ) -> AgeVerdict {
        let previous = self.last_shot;
        let lead_then = std::mem::replace(&mut self.lead, lead);
        let paused =
            previous.is_none_or(|t| tick.diff(t) > (RESET_AFTER_SECS * tick_rate) as i32 || t.is_after(tick));
        self.last_shot = Some(tick);
        let at = Duration::from_secs_f64(f64::from(tick.0) / f64::from(tick_rate.max(1)));
        let spare = self
            .spare
            .get_or_insert_with(|| TokenBucket::new(SPARE_PER_S, SPARE_BURST, at));
        let (mean, since) = match (self.mean, previous) {
            (Some(m), Some(p)) if !paused => (m, f64::from(tick.diff(p).max(1))),
            _ => {
                self.mean = Some(age);
                self.trend = 0.0;
                self.outside = 0;
                return AgeVerdict::Steady;
            }
        };
        // The steering's error, and with it the drift, decays as e^(-t / STEERING_TICKS): the
        // drift is followed over the time it lasts, not extrapolated along a straight line.
        let steering = f64::from(STEERING_TICKS);
        let mean = if since >= steering {
            // Long enough for the steering to have moved the lead anywhere the trend cannot
            // know: follow what the server measured, as fast as the client's clock could go.
            let most = f64::from(MAX_DILATION) * since;
            self.trend = 0.0;
            mean + (lead - lead_then).clamp(-most, most)
        } else {
            let decay = (-since / steering).exp();
            let drift = self.trend * steering * (1.0 - decay);
            self.trend *= decay;
            mean + drift
        };
        let (lo, hi) = (mean - tolerance, mean + tolerance);
        let inside = (lo..=hi).contains(&age);
        if inside {
            self.outside = 0;
        } else if self.outside > 0 && (age - self.shift).abs() <= tolerance {
            self.outside = self.outside.saturating_add(1);
        } else {
            self.outside = 1;
            self.shift = age;
        }
        if self.outside >= REANCHOR_AFTER {
            // A clock jump, not a choice: follow it (the shot itself is still held to the band).
            self.mean = Some(age);
            self.trend = 0.0;
            self.outside = 0;
        } else {
            let residual = age.clamp(lo, hi) - mean;
            self.mean = Some(mean + residual * WEIGHT);
            // Only a shot inside the band teaches the trend: strays, the ones a chooser makes,
            // would otherwise swing it with every choice and walk the band.
            if inside {
                let most = f64::from(MAX_DILATION);
                self.trend = (self.trend + residual * WEIGHT * TREND_WEIGHT / since).clamp(-most, most);
            }
        }
        if inside || spare.take(at) {
            AgeVerdict::Steady
        } else {
            AgeVerdict::Clamp(mean)
        }
    }
}

/// The tolerance for a client whose round trip, as the server measures it from acknowledgements,
/// deviates by `rttvar_secs` on average. An acknowledgement waits for the client's next input
/// datagram, up to a tick, which adds about a quarter of a tick of deviation that does not move
/// the client's view: that part is taken off.
pub fn tolerance(rttvar_secs: f64, tick_rate: u32) -> f64 {
    let rate = f64::from(tick_rate.max(1));
    let jitter_ticks = (rttvar_secs * rate - 0.25).max(0.0);
    TOLERANCE_BASE_TICKS * (rate / 60.0).max(1.0) + TOLERANCE_PER_RTTVAR * jitter_ticks
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::tick::Tick;

    #[test]
    fn a_steady_client_is_never_clamped_and_a_chooser_is() {
        let mut honest = ViewAge::default();
        for i in 0..200u32 {
            let wobble = f64::from(i % 7) * 0.05;
            assert_eq!(
                honest.judge(Tick(i * 6), 5.0 + wobble, 0.0, 0.75, 60),
                AgeVerdict::Steady
            );
        }
        let mut cheat = ViewAge::default();
        cheat.judge(Tick(0), 5.0, 0.0, 0.75, 60);
        // Alternating three ticks older and newer (10 s of shots): after the spare deviations
        // each one gets its running age, not the edge of the band toward what it claimed.
        let mut clamped = 0;
        for i in 1..100u32 {
            let age = if i % 2 == 0 { 8.0 } else { 2.0 };
            if let AgeVerdict::Clamp(a) = cheat.judge(Tick(i * 6), age, 0.0, 0.75, 60) {
                assert!((a - 5.0).abs() <= 0.25, "{a}");
                clamped += 1;
            }
        }
        let spared = 99 - clamped;
        assert!((3..=4).contains(&spared), "{spared} spared");
    }

    #[test]
    fn an_honest_join_drift_is_followed_without_a_stray() {
        // Shot ticks and view ages of an honest bot joining on loopback (measured in
        // `bots_loopback`): its clock trims the start margin off its lead and the age falls
        // 3.6 ticks in 6 s. A mean without the trend trailed it out of the band five times.
        let ticks = [
            15u32, 21, 27, 33, 39, 45, 51, 57, 63, 69, 75, 81, 87, 93, 99, 105, 111, 139, 145, 151, 157, 168,
            182, 188, 194, 200, 206, 212, 218, 224, 230, 236, 242, 374, 380, 386,
        ];
        let ages = [
            10.268, 10.482, 10.659, 10.79, 10.868, 10.893, 10.864, 10.784, 10.654, 10.479, 10.264, 10.021,
            9.793, 9.572, 9.35, 9.121, 8.907, 8.239, 8.102, 8.011, 7.96, 7.911, 7.859, 7.83, 7.794, 7.751,
            7.699, 7.64, 7.575, 7.502, 7.424, 7.339, 7.25, 7.246, 7.247, 7.234,
        ];
        // No spare deviations, so a stray shows as a clamp.
        let mut v = ViewAge::without_spares();
        for (t, age) in ticks.into_iter().zip(ages) {
            assert_eq!(
                v.judge(Tick(t), age, 0.0, 0.75, 60),
                AgeVerdict::Steady,
                "tick {t}"
            );
        }
    }

    #[test]
    fn across_a_pause_the_mean_follows_the_lead_the_server_measured() {
        // A bot of a 64-player join (measured): ages of 11 ticks at a lead of 6, no target for
        // two seconds, then ages of 8 at a lead of 3.
        let mut v = ViewAge::without_spares();
        for i in 0..8u32 {
            assert_eq!(v.judge(Tick(20 + i * 6), 11.0, 6.0, 0.75, 60), AgeVerdict::Steady);
        }
        for i in 0..5u32 {
            let t = Tick(180 + i * 6);
            let age = 8.0 - 0.05 * f64::from(i);
            assert_eq!(v.judge(t, age, 3.0, 0.75, 60), AgeVerdict::Steady, "{t:?}");
        }
    }

    #[test]
    fn a_pause_frees_no_choice_and_the_lead_moves_the_mean_no_faster_than_the_clock() {
        let mut v = ViewAge::without_spares();
        for i in 0..10u32 {
            v.judge(Tick(i * 6), 5.0, 2.0, 0.75, 60);
        }
        // A second without a shot, the lead unchanged: strays either way are clamped.
        for (t, age) in [(114, 8.0), (120, 2.0)] {
            match v.judge(Tick(t), age, 2.0, 0.75, 60) {
                AgeVerdict::Clamp(a) => assert!((a - 5.0).abs() <= 0.8, "{a}"),
                AgeVerdict::Steady => panic!("a pause freed the age {age}"),
            }
        }
        // A lead 20 ticks longer after 60 ticks: the clock could have moved it 4.8 at most.
        for i in 0..6u32 {
            v.judge(Tick(126 + i * 6), 5.0, 2.0, 0.75, 60);
        }
        match v.judge(Tick(216), 25.0, 22.0, 0.75, 60) {
            AgeVerdict::Clamp(a) => assert!(a < 5.0 + 4.8 + 0.8, "{a}"),
            AgeVerdict::Steady => panic!("a lead jump freed the age"),
        }
    }

    #[test]
    fn a_clock_jump_is_followed_after_three_shots_and_a_pause_starts_afresh() {
        let mut v = ViewAge::default();
        for i in 0..20u32 {
            v.judge(Tick(i * 6), 5.0, 0.0, 0.75, 60);
        }
        // The first strays are spared, and after three the mean follows.
        assert_eq!(v.judge(Tick(126), 9.0, 0.0, 0.75, 60), AgeVerdict::Steady);
        assert_eq!(v.judge(Tick(132), 9.0, 0.0, 0.75, 60), AgeVerdict::Steady);
        assert_eq!(v.judge(Tick(138), 9.0, 0.0, 0.75, 60), AgeVerdict::Steady);
        assert_eq!(v.judge(Tick(144), 9.2, 0.0, 0.75, 60), AgeVerdict::Steady);
        // Strays the other way once the spares are used up are clamped.
        let mut clamps = 0;
        for k in 0..8u32 {
            let t = Tick(150 + k * 6);
            let age = if k % 2 == 0 { 7.0 } else { 11.0 };
            clamps += u32::from(matches!(v.judge(t, age, 0.0, 0.75, 60), AgeVerdict::Clamp(_)));
        }
        assert!(clamps >= 6, "{clamps}");
        // Three seconds without a shot: the next one sets the mean.
        assert_eq!(v.judge(Tick(400), 3.0, 0.0, 0.75, 60), AgeVerdict::Steady);
        assert_eq!(v.judge(Tick(406), 3.1, 0.0, 0.75, 60), AgeVerdict::Steady);
    }

    #[test]
    fn the_tolerance_grows_with_jitter() {
        assert_eq!(tolerance(0.0, 60), TOLERANCE_BASE_TICKS);
        assert_eq!(tolerance(0.004, 60), TOLERANCE_BASE_TICKS, "the ack wait alone");
        assert!((tolerance(0.010, 60) - (0.75 + 2.0 * 0.35)).abs() < 1e-9);
        assert_eq!(
            tolerance(0.0, 30),
            TOLERANCE_BASE_TICKS,
            "never under the tick rounding"
        );
        assert!((tolerance(0.0, 128) - 1.6).abs() < 1e-9, "12.5 ms at 128 Hz");
    }
}
