//! LAN discovery and joining between two hosts: two network namespaces of our own joined by a
//! veth pair (10.77.N.1 and 10.77.N.2, broadcast 10.77.N.255), so a real broadcast crosses a
//! real link and nothing can leave the machine. Needs root and `ip` (iproute2); otherwise the
//! test says why and skips. The namespaces and the link are removed when it ends, even on a
//! failure.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;

/// Two namespaces joined by a veth pair; deleted on drop (deleting a namespace deletes its end
/// of the pair, and the pair with it).
struct TestHosts {
    a: String,
    b: String,
    subnet: u8,
}

impl TestHosts {
    fn create() -> Result<TestHosts, String> {
        let pid = std::process::id();
        let hosts = TestHosts {
            a: format!("rw{pid}a"),
            b: format!("rw{pid}b"),
            subnet: (pid % 200) as u8 + 20,
        };
        let (va, vb) = (format!("rw{pid}va"), format!("rw{pid}vb"));
        let n = hosts.subnet;
        let steps: Vec<Vec<String>> = vec![
            vec!["netns".into(), "add".into(), hosts.a.clone()],
            vec!["netns".into(), "add".into(), hosts.b.clone()],
            ["link", "add", &va, "type", "veth", "peer", "name", &vb]
                .map(String::from)
                .to_vec(),
            ["link", "set", &va, "netns", &hosts.a].map(String::from).to_vec(),
            ["link", "set", &vb, "netns", &hosts.b].map(String::from).to_vec(),
            [
                "-n",
                &hosts.a,
                "addr",
                "add",
                &format!("10.77.{n}.1/24"),
                "broadcast",
                &format!("10.77.{n}.255"),
                "dev",
                &va,
            ]
            .map(String::from)
            .to_vec(),
            [
                "-n",
                &hosts.b,
                "addr",
                "add",
                &format!("10.77.{n}.2/24"),
                "broadcast",
                &format!("10.77.{n}.255"),
                "dev",
                &vb,
            ]
            .map(String::from)
            .to_vec(),
            ["-n", &hosts.a, "link", "set", &va, "up"]
                .map(String::from)
                .to_vec(),
            ["-n", &hosts.b, "link", "set", &vb, "up"]
                .map(String::from)
                .to_vec(),
            ["-n", &hosts.a, "link", "set", "lo", "up"]
                .map(String::from)
                .to_vec(),
            ["-n", &hosts.b, "link", "set", "lo", "up"]
                .map(String::from)
                .to_vec(),
        ];
        for step in steps {
            let out = Command::new("ip")
                .args(&step)
                .output()
                .map_err(|e| format!("ip: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "ip {}: {}",
                    step.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(hosts)
    }

    fn addr(&self, host: u8) -> String {
        format!("10.77.{}.{host}", self.subnet)
    }

    /// `rewind ARGS` inside namespace `ns`.
    fn rewind(&self, ns: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, env!("CARGO_BIN_EXE_rewind")])
            .args(args)
            .env("RUST_BACKTRACE", "1");
        c
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_game_served_on_one_host_is_found_and_joined_from_another() {
    if !is_root() {
        eprintln!("skipped: creating network namespaces needs root");
        return;
    }
    let hosts = match TestHosts::create() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("skipped: cannot make the test hosts ({e})");
            return;
        }
    };
    let dir = std::env::temp_dir().join(format!("rewind-lan-netns-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    // The default address (`[::]:4433`, all interfaces) as on a real LAN host: a socket bound
    // to one unicast address would not hear broadcasts. The answer names the address it came from.
    let game = format!("{}:4433", hosts.addr(1));
    let data = dir.join("data");
    let mut serve = hosts.rewind(&hosts.a, &["serve", "--lan", "--name", "Friday", "--ai", "1"]);
    serve
        .args(["--duration", "30s", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut server = Reaped(serve.spawn().expect("serve starts"));
    let stdout = server.0.stdout.take().expect("stdout");
    let mut hash = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(h) = line.strip_prefix("cert-hash ") {
            hash = Some(h.to_string());
        }
        if line.starts_with("lan ") {
            break;
        }
    }
    let hash = hash.expect("cert-hash line");

    // From the other host: the broadcast address of the link, nothing else.
    let broadcast = hosts.addr(255);
    let t0 = Instant::now();
    let out = hosts
        .rewind(
            &hosts.b,
            &["lan", "--json", "--timeout", "3s", "--broadcast", &broadcast],
        )
        .output()
        .expect("rewind lan runs");
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let g = json
        .as_array()
        .and_then(|l| l.iter().find(|g| g["name"] == "Friday"))
        .unwrap_or_else(|| panic!("Friday not found in {json}"));
    assert_eq!(g["addr"], game.as_str(), "{g}");
    assert_eq!(g["cert_hash"], hash.as_str(), "{g}");
    assert!(
        g["ping_ms"].as_f64().is_some_and(|p| p < 2000.0),
        "answered within 2 s: {g}"
    );
    eprintln!(
        "found {} at {} from the other host ({:?} with the 3 s wait)",
        g["name"],
        g["addr"],
        t0.elapsed()
    );

    // And joined from there, with the certificate pinned from the answer, by name as a player
    // would (`connect lan:Friday` for the window; the bots take the same address and pin).
    let report = dir.join("bots.json");
    let out = hosts
        .rewind(
            &hosts.b,
            &["bots", "--connect", &game, "--cert-hash", &hash, "--count", "1"],
        )
        .args(["--duration", "3s", "--report"])
        .arg(&report)
        .output()
        .expect("bots run");
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("report JSON");
    assert_eq!(report["clients"], 1, "{report}");
    assert!(
        report["snapshots"].as_u64().is_some_and(|n| n > 0),
        "the bot played: {report}"
    );
    let out = hosts
        .rewind(
            &hosts.b,
            &[
                "connect",
                "lan:Nobody",
                "--broadcast",
                &broadcast,
                "--timeout",
                "1s",
            ],
        )
        .output()
        .expect("connect runs");
    // A name nobody answers to, from there: the error lists the game that did answer.
    assert!(!out.status.success());
    let err = text(&out);
    assert!(
        err.contains("no game called \"Nobody\"") && err.contains("Friday"),
        "{err}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
