//! The shared network flags.

use std::time::Duration;

use clap::Parser;
use rewind_net::{NetArgs, NetsimArgs};
use rewind_shared::conditioner::LinkConfig;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    net: NetArgs,
}

fn parse(args: &[&str]) -> Result<NetArgs, clap::Error> {
    Cli::try_parse_from(std::iter::once("rewind").chain(args.iter().copied())).map(|c| c.net)
}

#[test]
fn flags_build_a_link() {
    let a = parse(&[
        "--lag",
        "80ms",
        "--jitter",
        "15ms",
        "--loss",
        "3%",
        "--dup",
        "1%",
        "--reorder",
        "2%",
        "--bandwidth",
        "1000kbit",
        "--burst-loss",
        "2%,30%,60%",
        "--queue",
        "32KB",
        "--net-seed",
        "9",
    ])
    .expect("valid flags");
    let l = a.link_config().expect("valid link");
    assert_eq!(l.latency, Duration::from_millis(80));
    assert_eq!(l.jitter, Duration::from_millis(15));
    assert_eq!((l.loss, l.duplicate, l.reorder), (0.03, 0.01, 0.02));
    assert_eq!(l.bandwidth_kbit, Some(1000));
    assert_eq!(l.queue_limit_bytes, 32 * 1024);
    assert_eq!(l.burst.expect("burst").p_bad_to_good, 0.3);
    assert_eq!(a.seed(), 9);
    assert!(
        parse(&[])
            .expect("no flags")
            .link_config()
            .expect("valid")
            .is_perfect()
    );
}

#[test]
fn explicit_flags_override_the_preset() {
    let a = parse(&["--net", "transatlantic", "--loss", "10%"]).expect("valid");
    let l = a.link_config().expect("valid");
    let preset = LinkConfig::preset("transatlantic").expect("preset");
    assert_eq!(l.latency, preset.latency);
    assert_eq!(l.loss, 0.1);
}

#[test]
fn bad_values_give_clear_errors() {
    for (args, needle) in [
        (&["--lag", "80 parsecs"][..], "80ms"),
        (&["--loss", "150%"][..], "100%"),
        (&["--bandwidth", "0"][..], "kbit"),
        (&["--net", "moon"][..], "transatlantic"),
        (&["--burst-loss", "5%"][..], "ENTER"),
    ] {
        let err = parse(args).expect_err("must be rejected").to_string();
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Valid individually, invalid together: a queue smaller than a datagram.
    let a = parse(&["--bandwidth", "100kbit", "--queue", "100"]).expect("parses");
    assert!(a.link_config().is_err());
}

#[test]
fn help_lists_preset_numbers() {
    use clap::CommandFactory;
    let help = Cli::command().render_long_help().to_string();
    for name in ["lan", "wifi", "dsl", "transatlantic", "mobile-bad"] {
        assert!(help.contains(name), "{help}");
    }
    assert!(help.contains("lag 45ms"), "{help}");
}

#[test]
fn netsim_args_parse() {
    #[derive(Debug, Parser)]
    struct NetsimCli {
        #[command(flatten)]
        netsim: NetsimArgs,
    }
    let c = NetsimCli::try_parse_from([
        "netsim",
        "--listen",
        "127.0.0.1:7000",
        "--upstream",
        "127.0.0.1:7001",
        "--net",
        "wifi",
    ])
    .expect("valid");
    assert_eq!(c.netsim.upstream.port(), 7001);
    assert!(!c.netsim.net.link_config().expect("valid").is_perfect());
    assert!(NetsimCli::try_parse_from(["netsim", "--listen", "nope", "--upstream", "127.0.0.1:1"]).is_err());
}
