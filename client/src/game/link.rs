//! Live link-conditioner controls: keys change the one-way latency, jitter and loss while playing
//! so a player can feel the difference (DESIGN §6). The arithmetic is pure and tested; the window
//! only maps keys to [`LinkAction`]s and shows [`summary`].

use rewind_shared::conditioner::LinkConfig;
use std::time::Duration;

/// Latency step per key press.
pub const LAG_STEP: Duration = Duration::from_millis(10);
/// Jitter step per key press.
pub const JITTER_STEP: Duration = Duration::from_millis(5);
/// Loss step per key press (fraction).
pub const LOSS_STEP: f64 = 0.01;
/// Highest latency the keys reach (one way).
pub const MAX_LAG: Duration = Duration::from_millis(1000);
/// Highest jitter the keys reach.
pub const MAX_JITTER: Duration = Duration::from_millis(250);
/// Highest loss the keys reach: beyond this nothing playable is left to feel.
pub const MAX_LOSS: f64 = 0.5;

/// One press of a conditioner key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkAction {
    /// Less latency (F5).
    LagDown,
    /// More latency (F6).
    LagUp,
    /// Less jitter (F7).
    JitterDown,
    /// More jitter (F8).
    JitterUp,
    /// Less loss (F9).
    LossDown,
    /// More loss (F10).
    LossUp,
    /// Back to a perfect link (F11).
    Reset,
}

/// The keys, as shown in the overlay.
pub const KEYS_HELP: &str = "F5/F6 lag  F7/F8 jitter  F9/F10 loss  F11 reset";

/// Applies one action, keeping every other setting (bandwidth, duplication...) as it was.
pub fn apply(cfg: LinkConfig, action: LinkAction) -> LinkConfig {
    let mut c = cfg;
    match action {
        LinkAction::LagDown => c.latency = c.latency.saturating_sub(LAG_STEP),
        LinkAction::LagUp => c.latency = (c.latency + LAG_STEP).min(MAX_LAG),
        LinkAction::JitterDown => c.jitter = c.jitter.saturating_sub(JITTER_STEP),
        LinkAction::JitterUp => c.jitter = (c.jitter + JITTER_STEP).min(MAX_JITTER),
        LinkAction::LossDown => c.loss = round_pct(c.loss - LOSS_STEP).max(0.0),
        LinkAction::LossUp => c.loss = round_pct(c.loss + LOSS_STEP).min(MAX_LOSS),
        LinkAction::Reset => c = LinkConfig::perfect(),
    }
    c
}

/// Rounds to a tenth of a percent so repeated steps do not accumulate float noise.
fn round_pct(p: f64) -> f64 {
    (p * 1000.0).round() / 1000.0
}

/// The overlay line: one-way values and the round trip they add.
pub fn summary(cfg: &LinkConfig) -> String {
    if cfg.is_perfect() {
        return "link: perfect (no added latency)".to_string();
    }
    format!(
        "link: lag {} ms ±{} ms, loss {:.1}%  (adds ~{} ms RTT)",
        cfg.latency.as_millis(),
        cfg.jitter.as_millis(),
        cfg.loss * 100.0,
        cfg.latency.as_millis() * 2
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_clamp_and_reset() {
        let mut c = LinkConfig::perfect();
        c = apply(c, LinkAction::LagDown);
        assert_eq!(c.latency, Duration::ZERO);
        for _ in 0..3 {
            c = apply(c, LinkAction::LagUp);
        }
        assert_eq!(c.latency, Duration::from_millis(30));
        for _ in 0..200 {
            c = apply(c, LinkAction::LagUp);
            c = apply(c, LinkAction::JitterUp);
            c = apply(c, LinkAction::LossUp);
        }
        assert_eq!(c.latency, MAX_LAG);
        assert_eq!(c.jitter, MAX_JITTER);
        assert_eq!(c.loss, MAX_LOSS);
        assert!(c.validate().is_ok());
        c = apply(c, LinkAction::LossDown);
        assert!((c.loss - 0.49).abs() < 1e-12);
        assert!(apply(c, LinkAction::Reset).is_perfect());
    }

    #[test]
    fn other_settings_survive_a_step() {
        let mut c = LinkConfig::perfect();
        c.bandwidth_kbit = Some(500);
        c.duplicate = 0.01;
        let c = apply(c, LinkAction::JitterUp);
        assert_eq!(c.bandwidth_kbit, Some(500));
        assert_eq!(c.duplicate, 0.01);
        assert_eq!(c.jitter, JITTER_STEP);
    }

    #[test]
    fn summary_names_the_numbers() {
        let mut c = LinkConfig::perfect();
        assert!(summary(&c).contains("perfect"));
        c.latency = Duration::from_millis(100);
        c.jitter = Duration::from_millis(20);
        c.loss = 0.05;
        let s = summary(&c);
        assert!(
            s.contains("lag 100 ms") && s.contains("±20 ms") && s.contains("5.0%"),
            "{s}"
        );
        assert!(s.contains("200 ms RTT"), "{s}");
    }
}
