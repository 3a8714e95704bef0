//! Statistical and behavioural tests of the link conditioner, all on fixed seeds and a
//! simulated clock (no wall time involved).

use std::time::Duration;

use rewind_shared::conditioner::{
    Conditioner, ConfigError, GilbertElliott, LinkConfig, PRESET_NAMES, derive_seed, parse_bandwidth_kbit,
    parse_burst, parse_bytes, parse_duration, parse_percent, presets_help,
};

const MS: Duration = Duration::from_millis(1);

/// A delivered packet: its index and one-way delay.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Delivery {
    idx: u32,
    delay: Duration,
}

fn packet(idx: u32, size: usize) -> Vec<u8> {
    let mut p = idx.to_le_bytes().to_vec();
    p.resize(size.max(4), 0xAB);
    p
}

fn drain(c: &mut Conditioner, until: Duration, sent_at: &[Duration], out: &mut Vec<Delivery>) {
    while let Some(at) = c.next_deadline() {
        if at > until {
            break;
        }
        let p = c.poll(at).expect("deadline reached");
        let idx = u32::from_le_bytes(p[..4].try_into().expect("4 bytes"));
        out.push(Delivery {
            idx,
            delay: at - sent_at[idx as usize],
        });
    }
}

/// Pushes `n` packets of `size` bytes every `spacing` and returns deliveries in delivery order.
fn run(c: &mut Conditioner, n: u32, spacing: Duration, size: usize) -> Vec<Delivery> {
    let sent_at: Vec<Duration> = (0..n).map(|i| spacing * i).collect();
    let mut out = Vec::new();
    for i in 0..n {
        drain(c, sent_at[i as usize], &sent_at, &mut out);
        c.push(sent_at[i as usize], packet(i, size));
    }
    drain(c, Duration::MAX, &sent_at, &mut out);
    out
}

fn cond(cfg: LinkConfig, seed: u64) -> Conditioner {
    Conditioner::new(cfg, seed).expect("valid config")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn is_in_order(d: &[Delivery]) -> bool {
    d.windows(2).all(|w| w[0].idx < w[1].idx)
}

#[test]
fn delay_distribution_matches_latency_and_jitter() {
    let cfg = LinkConfig {
        latency: 80 * MS,
        jitter: 15 * MS,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 7);
    let out = run(&mut c, 5000, 40 * MS, 100);
    assert_eq!(out.len(), 5000);
    let mut delays: Vec<Duration> = out.iter().map(|d| d.delay).collect();
    delays.sort();
    let mean = delays.iter().map(|d| ms(*d)).sum::<f64>() / delays.len() as f64;
    let (p50, p99) = (ms(percentile(&delays, 0.5)), ms(percentile(&delays, 0.99)));
    assert!((mean - 80.0).abs() < 1.0, "mean {mean}");
    assert!((p50 - 80.0).abs() < 1.5, "p50 {p50}");
    // Uniform ±15 ms: p99 = 80 + 0.98 × 15 = 94.7 ms.
    assert!((p99 - 94.7).abs() < 1.0, "p99 {p99}");
    assert!(ms(delays[0]) >= 65.0 && ms(delays[delays.len() - 1]) <= 95.0);
    assert_eq!(c.stats().delivered, 5000);
}

#[test]
fn loss_rate_matches_setting() {
    let cfg = LinkConfig {
        latency: 10 * MS,
        loss: 0.03,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 11);
    let out = run(&mut c, 20_000, MS, 50);
    let s = c.stats();
    let rate = s.dropped_loss as f64 / s.sent as f64;
    assert!((rate - 0.03).abs() < 0.004, "loss rate {rate}");
    assert_eq!(s.sent, 20_000);
    assert_eq!(out.len() as u64, s.sent - s.dropped_loss);
    assert_eq!(s.delivered, out.len() as u64);
}

#[test]
fn duplicate_rate_matches_setting() {
    let cfg = LinkConfig {
        latency: 5 * MS,
        duplicate: 0.05,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 12);
    let out = run(&mut c, 20_000, MS, 50);
    let s = c.stats();
    let rate = s.duplicated as f64 / s.sent as f64;
    assert!((rate - 0.05).abs() < 0.005, "dup rate {rate}");
    assert_eq!(out.len() as u64, 20_000 + s.duplicated);
    // A duplicate arrives right behind its original.
    let pairs = out.windows(2).filter(|w| w[0].idx == w[1].idx).count() as u64;
    assert_eq!(pairs, s.duplicated);
}

/// Lengths of runs of consecutive lost packet indices.
fn loss_runs(out: &[Delivery], n: u32) -> Vec<u32> {
    let mut got = vec![false; n as usize];
    for d in out {
        got[d.idx as usize] = true;
    }
    let mut runs = Vec::new();
    let mut cur = 0;
    for g in got {
        if g {
            if cur > 0 {
                runs.push(cur);
            }
            cur = 0;
        } else {
            cur += 1;
        }
    }
    if cur > 0 {
        runs.push(cur);
    }
    runs
}

#[test]
fn burst_loss_comes_in_bursts() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.02,
        p_bad_to_good: 0.25,
        loss_in_bad: 1.0,
    };
    let cfg = LinkConfig {
        latency: 5 * MS,
        burst: Some(ge),
        ..LinkConfig::perfect()
    };
    let n = 40_000;
    let mut c = cond(cfg, 13);
    let out = run(&mut c, n, MS, 50);
    let rate = c.stats().dropped_loss as f64 / f64::from(n);
    let expected = ge.bad_fraction(); // 0.02 / 0.27 ≈ 7.4 %
    assert!(
        (rate - expected).abs() < 0.01,
        "burst loss rate {rate} vs {expected}"
    );
    let runs = loss_runs(&out, n);
    let mean_run = runs.iter().sum::<u32>() as f64 / runs.len() as f64;
    assert!((mean_run - 4.0).abs() < 0.4, "mean burst length {mean_run}");

    // Independent loss at the same rate gives runs of ~1 / (1 - p) ≈ 1.08.
    let indep = LinkConfig {
        latency: 5 * MS,
        loss: expected,
        ..LinkConfig::perfect()
    };
    let mut c = cond(indep, 13);
    let out = run(&mut c, n, MS, 50);
    let runs = loss_runs(&out, n);
    let mean_run = runs.iter().sum::<u32>() as f64 / runs.len() as f64;
    assert!(mean_run < 1.2, "independent run length {mean_run}");
}

#[test]
fn burst_good_state_uses_base_loss() {
    let ge = GilbertElliott {
        p_good_to_bad: 0.0,
        p_bad_to_good: 1.0,
        loss_in_bad: 1.0,
    };
    let cfg = LinkConfig {
        loss: 0.1,
        burst: Some(ge),
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 14);
    run(&mut c, 10_000, MS, 50);
    let rate = c.stats().dropped_loss as f64 / 10_000.0;
    assert!((rate - 0.1).abs() < 0.01, "good-state loss {rate}");
}

#[test]
fn jitter_never_reorders_without_reorder() {
    let cfg = LinkConfig {
        latency: 50 * MS,
        jitter: 30 * MS,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 15);
    let out = run(&mut c, 5000, MS, 50);
    assert_eq!(out.len(), 5000);
    assert!(is_in_order(&out), "jitter reordered packets");
    let min = out.iter().map(|d| d.delay).min().expect("some");
    let max = out.iter().map(|d| d.delay).max().expect("some");
    assert!(max - min > 20 * MS, "jitter had no effect: {min:?}..{max:?}");
    assert_eq!(c.stats().reordered, 0);
}

#[test]
fn reorder_makes_later_packets_overtake() {
    let cfg = LinkConfig {
        latency: 20 * MS,
        jitter: 2 * MS,
        reorder: 0.05,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 16);
    let out = run(&mut c, 10_000, MS, 50);
    assert_eq!(out.len(), 10_000);
    let s = c.stats();
    let rate = s.reordered as f64 / s.sent as f64;
    assert!((rate - 0.05).abs() < 0.006, "reorder rate {rate}");
    let inversions = out.windows(2).filter(|w| w[0].idx > w[1].idx).count() as u64;
    assert!(
        inversions > 0 && inversions <= s.reordered,
        "inversions {inversions}"
    );
}

#[test]
fn bandwidth_cap_limits_throughput_and_drops_when_queue_full() {
    // 1000 kbit/s = 125 000 B/s; offer 1000-byte packets every 4 ms (250 000 B/s) for 10 s.
    let cfg = LinkConfig {
        bandwidth_kbit: Some(1000),
        queue_limit_bytes: 16 * 1024,
        ..LinkConfig::perfect()
    };
    let mut c = cond(cfg, 17);
    let out = run(&mut c, 2500, 4 * MS, 1000);
    let s = c.stats();
    assert!(s.dropped_queue > 0);
    assert!(is_in_order(&out));
    let last = out.last().expect("some");
    let end = 4 * MS * last.idx + last.delay;
    let throughput = out.len() as f64 * 1000.0 / end.as_secs_f64();
    assert!(
        (throughput - 125_000.0).abs() < 125_000.0 * 0.03,
        "throughput {throughput} B/s"
    );
    // Queueing delay is bounded by the queue: 16 KiB at 125 kB/s ≈ 131 ms.
    let max = out.iter().map(|d| d.delay).max().expect("some");
    assert!(max <= 140 * MS, "max queueing delay {max:?}");

    // Under capacity nothing is dropped and the delay is the 8 ms serialization time.
    let mut c = cond(cfg, 17);
    let out = run(&mut c, 500, 16 * MS, 1000);
    assert_eq!(c.stats().dropped_queue, 0);
    assert!(out.iter().all(|d| (d.delay.as_secs_f64() - 0.008).abs() < 1e-6));
}

#[test]
fn same_seed_same_fate_different_seed_differs() {
    let cfg = LinkConfig::preset("mobile-bad").expect("preset");
    let a = run(&mut cond(cfg, 99), 2000, 5 * MS, 200);
    let b = run(&mut cond(cfg, 99), 2000, 5 * MS, 200);
    let c = run(&mut cond(cfg, 100), 2000, 5 * MS, 200);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(derive_seed(1, 0), derive_seed(1, 1));
    assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
}

#[test]
fn live_config_change_keeps_order_and_takes_effect() {
    let slow = LinkConfig {
        latency: 200 * MS,
        ..LinkConfig::perfect()
    };
    let mut c = cond(slow, 18);
    let sent_at: Vec<Duration> = (0..400).map(|i| 5 * MS * i).collect();
    let mut out = Vec::new();
    for i in 0..400u32 {
        if i == 200 {
            c.set_config(LinkConfig {
                latency: 20 * MS,
                ..slow
            })
            .expect("valid");
        }
        drain(&mut c, sent_at[i as usize], &sent_at, &mut out);
        c.push(sent_at[i as usize], packet(i, 10));
    }
    drain(&mut c, Duration::MAX, &sent_at, &mut out);
    assert!(is_in_order(&out));
    assert_eq!(out[100].delay, 200 * MS);
    assert_eq!(out[399].delay, 20 * MS);
    assert_eq!(c.config().latency, 20 * MS);
    assert!(c.set_config(LinkConfig { loss: 2.0, ..slow }).is_err());
    assert_eq!(
        c.config().latency,
        20 * MS,
        "a rejected config must not be applied"
    );
}

#[test]
fn perfect_link_delivers_immediately_in_order() {
    let mut c = cond(LinkConfig::perfect(), 1);
    assert!(LinkConfig::perfect().is_perfect());
    for i in 0..10 {
        c.push(MS, packet(i, 8));
    }
    assert_eq!(c.next_deadline(), Some(MS));
    assert!(c.poll(Duration::ZERO).is_none());
    for i in 0..10 {
        assert_eq!(c.poll(MS), Some(packet(i, 8)));
    }
    assert!(c.poll(MS).is_none());
    assert_eq!(c.next_deadline(), None);
    assert_eq!(c.in_flight(), 0);
}

#[test]
fn validation_rejects_bad_values() {
    let base = LinkConfig::perfect();
    let bad = [
        LinkConfig { loss: 1.5, ..base },
        LinkConfig { loss: -0.1, ..base },
        LinkConfig {
            duplicate: f64::NAN,
            ..base
        },
        LinkConfig { reorder: 2.0, ..base },
        LinkConfig {
            latency: Duration::from_secs(20),
            ..base
        },
        LinkConfig {
            jitter: Duration::from_secs(11),
            ..base
        },
        LinkConfig {
            bandwidth_kbit: Some(0),
            ..base
        },
        LinkConfig {
            bandwidth_kbit: Some(100),
            queue_limit_bytes: 100,
            ..base
        },
        LinkConfig {
            burst: Some(GilbertElliott {
                p_good_to_bad: 0.1,
                p_bad_to_good: 1.1,
                loss_in_bad: 1.0,
            }),
            ..base
        },
    ];
    for cfg in bad {
        assert!(cfg.validate().is_err(), "{cfg:?} accepted");
        assert!(Conditioner::<Vec<u8>>::new(cfg, 0).is_err());
    }
    let msg = LinkConfig { loss: 1.5, ..base }
        .validate()
        .expect_err("invalid")
        .to_string();
    assert!(msg.contains("loss") && msg.contains("100%"), "{msg}");
    assert!(matches!(
        LinkConfig::preset("moon"),
        Err(ConfigError::UnknownPreset(_))
    ));
}

#[test]
fn presets_are_valid_and_documented() {
    let help = presets_help();
    for name in PRESET_NAMES {
        let cfg = LinkConfig::preset(name).expect("preset exists");
        cfg.validate().expect("preset valid");
        assert!(!cfg.is_perfect());
        assert!(help.contains(name) && help.contains(&cfg.to_string()), "{help}");
    }
    let t = LinkConfig::preset("transatlantic").expect("preset");
    assert_eq!(t.latency, 45 * MS);
}

#[test]
fn parse_human_values() {
    assert_eq!(parse_duration("80ms"), Ok(80 * MS));
    assert_eq!(parse_duration("80"), Ok(80 * MS));
    assert_eq!(parse_duration("0.1s"), Ok(100 * MS));
    assert_eq!(parse_duration("1500us"), Ok(Duration::from_micros(1500)));
    for bad in ["", "ms", "-5ms", "80 parsecs", "1e3ms", "11s"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(parse_percent("3%"), Ok(0.03));
    assert_eq!(parse_percent("0.5%"), Ok(0.005));
    assert_eq!(parse_percent("100%"), Ok(1.0));
    assert_eq!(parse_percent("3"), Ok(0.03));
    for bad in ["101%", "-1%", "x%", "3%%", ""] {
        assert!(parse_percent(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(parse_bandwidth_kbit("1000kbit"), Ok(1000));
    assert_eq!(parse_bandwidth_kbit("2mbit"), Ok(2000));
    assert_eq!(parse_bandwidth_kbit("500"), Ok(500));
    for bad in ["0kbit", "fast", "10tbit"] {
        assert!(parse_bandwidth_kbit(bad).is_err(), "{bad:?} accepted");
    }
    assert_eq!(parse_bytes("64KB"), Ok(65536));
    assert_eq!(parse_bytes("1500"), Ok(1500));
    assert!(parse_bytes("lots").is_err());
    let ge = parse_burst("2%,30%,60%").expect("valid");
    assert_eq!(
        (ge.p_good_to_bad, ge.p_bad_to_good, ge.loss_in_bad),
        (0.02, 0.3, 0.6)
    );
    assert_eq!(parse_burst("2%,30%").expect("valid").loss_in_bad, 1.0);
    for bad in ["2%", "2%,30%,60%,1%", "2%,300%"] {
        assert!(parse_burst(bad).is_err(), "{bad:?} accepted");
    }
    let msg = parse_duration("80 parsecs").expect_err("bad").to_string();
    assert!(msg.contains("80ms"), "error should show the syntax: {msg}");
}

#[test]
fn parse_link_descriptions() {
    let cfg = LinkConfig::parse("lag=80ms jitter=15ms loss=3% bw=1000kbit").expect("valid");
    assert_eq!(
        (cfg.latency, cfg.jitter, cfg.loss, cfg.bandwidth_kbit),
        (80 * MS, 15 * MS, 0.03, Some(1000))
    );
    let wifi = LinkConfig::parse("wifi loss=5%").expect("valid");
    assert_eq!(wifi.latency, LinkConfig::preset("wifi").expect("preset").latency);
    assert_eq!(wifi.loss, 0.05);
    assert!(LinkConfig::parse("perfect").expect("valid").is_perfect());
    assert!(LinkConfig::parse("").expect("valid").is_perfect());
    for bad in [
        "moon",
        "lag=fast",
        "lag=80ms banana",
        "wifi wifi",
        "color=red",
        "bw=100 queue=10",
    ] {
        assert!(LinkConfig::parse(bad).is_err(), "{bad:?} accepted");
    }
}
