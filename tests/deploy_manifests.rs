//! The Agones manifests in `deploy/agones/` and the `Dockerfile` (issue 15): valid YAML with the
//! fields Agones requires, agreeing with each other and with the binary (every flag they pass
//! exists, the port and data directory match the image). No cluster runs here: this is what can
//! be checked without one.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn manifest(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/agones")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

fn text<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} must be a string, is {v}"))
}

/// A Kubernetes quantity in base units (cpu in millicores, memory in bytes).
fn quantity(v: &Value, what: &str) -> u64 {
    let s = text(v, what);
    let (num, mult) = if let Some(n) = s.strip_suffix('m') {
        (n, 1)
    } else if let Some(n) = s.strip_suffix("Mi") {
        (n, 1 << 20)
    } else if let Some(n) = s.strip_suffix("Gi") {
        (n, 1 << 30)
    } else {
        (s, 1000) // whole cores
    };
    num.parse::<u64>()
        .unwrap_or_else(|_| panic!("{what}: bad quantity {s}"))
        * mult
}

/// Checks a GameServer spec (the `spec` of a GameServer, the `spec.template.spec` of a Fleet);
/// returns the container's args.
fn check_gameserver_spec(spec: &Value, flags: &str) -> Vec<String> {
    let ports = spec["ports"].as_array().expect("spec.ports");
    assert!(!ports.is_empty(), "at least one port");
    for p in ports {
        assert!(p["name"].is_string(), "a port has a name");
        assert!(
            ["Dynamic", "Static", "Passthrough", "None"].contains(&text(&p["portPolicy"], "portPolicy")),
            "portPolicy"
        );
        assert_eq!(p["containerPort"], 4433, "the port the image listens on");
        assert_eq!(p["protocol"], "UDP", "QUIC is UDP");
    }
    let health = &spec["health"];
    assert!(
        health["periodSeconds"].as_u64().is_some_and(|s| s >= 2),
        "the server pings every second"
    );
    let pod = &spec["template"]["spec"];
    let containers = pod["containers"].as_array().expect("template.spec.containers");
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert!(
        c["name"].is_string() && c["image"].is_string(),
        "container name and image"
    );
    let res = &c["resources"];
    for kind in ["cpu", "memory"] {
        let req = quantity(&res["requests"][kind], kind);
        let lim = quantity(&res["limits"][kind], kind);
        assert!(req > 0 && req <= lim, "{kind}: request {req} within limit {lim}");
    }
    assert!(
        pod["terminationGracePeriodSeconds"]
            .as_u64()
            .is_some_and(|s| s >= 5),
        "time for the SIGTERM drain"
    );
    let mounts = c["volumeMounts"].as_array().expect("volumeMounts");
    assert!(
        mounts.iter().any(|m| m["mountPath"] == "/var/lib/rewind"),
        "the certificate at the image's --data-dir"
    );
    let args: Vec<String> = c["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| text(a, "arg").to_string())
        .collect();
    assert!(args.iter().any(|a| a == "--agones"), "an Agones game server");
    for flag in args.iter().filter(|a| a.starts_with("--")) {
        assert!(flags.contains(flag.as_str()), "rewind serve has no flag {flag}");
    }
    let max_clients = args
        .iter()
        .position(|a| a == "--max-clients")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("--max-clients N");
    assert_eq!(
        spec["lists"]["players"]["capacity"].as_u64(),
        Some(max_clients),
        "the players list holds --max-clients"
    );
    args
}

fn serve_help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rewind"))
        .args(["serve", "--help"])
        .output()
        .expect("rewind runs");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_gameserver_fleet_and_autoscaler_have_what_agones_requires() {
    let flags = serve_help();
    let gs = manifest("gameserver.yaml");
    assert_eq!(gs["apiVersion"], "agones.dev/v1");
    assert_eq!(gs["kind"], "GameServer");
    assert!(gs["metadata"]["name"].is_string() || gs["metadata"]["generateName"].is_string());
    let gs_args = check_gameserver_spec(&gs["spec"], &flags);

    let fleet = manifest("fleet.yaml");
    assert_eq!(fleet["apiVersion"], "agones.dev/v1");
    assert_eq!(fleet["kind"], "Fleet");
    let fleet_name = text(&fleet["metadata"]["name"], "fleet name");
    assert!(fleet["spec"]["replicas"].as_u64().is_some());
    assert!(["Packed", "Distributed"].contains(&text(&fleet["spec"]["scheduling"], "scheduling")));
    let fleet_args = check_gameserver_spec(&fleet["spec"]["template"]["spec"], &flags);
    assert_eq!(
        gs_args, fleet_args,
        "the example GameServer is one of the fleet's"
    );

    let fas = manifest("fleetautoscaler.yaml");
    assert_eq!(fas["apiVersion"], "autoscaling.agones.dev/v1");
    assert_eq!(fas["kind"], "FleetAutoscaler");
    assert!(fas["metadata"]["name"].is_string());
    assert_eq!(fas["spec"]["fleetName"], fleet_name);
    assert_eq!(fas["spec"]["policy"]["type"], "Buffer");
    let b = &fas["spec"]["policy"]["buffer"];
    let (size, min, max) = (
        b["bufferSize"].as_u64().expect("bufferSize"),
        b["minReplicas"].as_u64().expect("minReplicas"),
        b["maxReplicas"].as_u64().expect("maxReplicas"),
    );
    // Agones refuses a minReplicas below an absolute bufferSize, and a max below the min.
    assert!(
        size >= 1 && min >= size && max >= min,
        "buffer {size}, min {min}, max {max}"
    );
}

#[test]
fn the_dockerfile_agrees_with_the_manifests() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile");
    let df = std::fs::read_to_string(path).expect("Dockerfile");
    let from = df.lines().filter(|l| l.starts_with("FROM ")).count();
    assert!(from >= 2, "multi-stage");
    assert!(df.contains("--features agones"), "built with the Agones SDK");
    assert!(df.contains("protobuf-compiler"), "protoc for the SDK's protos");
    assert!(df.contains("EXPOSE 4433/udp"));
    let user = df
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER");
    assert!(
        !user.starts_with("root") && !user.starts_with('0'),
        "non-root: {user}"
    );
    assert!(df.contains("VOLUME [\"/var/lib/rewind\"]"));
    assert!(df.contains("\"--data-dir\", \"/var/lib/rewind\""));
    assert!(df.contains("\"--addr\", \"0.0.0.0:4433\""));
}
