#!/usr/bin/env bash
# 256 players on one core (issue 14, part 3): COUNT bots (default 248) + 8 AI players on the
# warehouse map, the server pinned to CPU 0 and the bots to CPU 1, for DURATION seconds (default
# 40). The server stops first (after the bots' join and DURATION seconds of play), so that its
# tick figures cover the join and the play, not idle ticks after the bots leave (they see the
# shutdown and report).
# Prints the server's tick percentiles, the share of ticks on time, and the bots' snapshot
# loss, agreement and downstream. SERVE_FLAGS adds server flags (e.g. "--no-fog"), BOTS_FLAGS
# bots' flags (e.g. "--ramp 2s": the bots join over 2 s instead of in one burst).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=${CARGO_TARGET_DIR:-target}/release/rewind
OUT=${OUT:-${CARGO_TARGET_DIR:-target}/measure}
COUNT=${COUNT:-248}
DURATION=${DURATION:-40}
PORT=${PORT:-4703}
mkdir -p "$OUT"
rm -f "$OUT/256-serve.out"
# shellcheck disable=SC2086
taskset -c 0 "$B" serve --addr "127.0.0.1:$PORT" --map warehouse --ai 8 --max-clients "$COUNT" \
  --duration "$((DURATION + 2))s" --stats "$OUT/256-server.json" --data-dir "$OUT/data" \
  ${SERVE_FLAGS:-} > "$OUT/256-serve.out" 2> "$OUT/256-serve.err" &
sp=$!
# A server seated for more than 64 clients builds the fog's tile table before it listens (~4 s
# on one core for the warehouse map).
for _ in $(seq 300); do grep -q cert-hash "$OUT/256-serve.out" 2>/dev/null && break; sleep 0.1; done
hash=$(grep cert-hash "$OUT/256-serve.out" | cut -d' ' -f2)
# shellcheck disable=SC2086
taskset -c 1 "$B" bots --connect "127.0.0.1:$PORT" --cert-hash "$hash" --count "$COUNT" \
  --duration "$((DURATION + 5))s" --report "$OUT/256-bots.json" ${BOTS_FLAGS:-} \
  > "$OUT/256-bots.out" 2> "$OUT/256-bots.err"
wait "$sp"
python3 - "$OUT/256-server.json" "$OUT/256-bots.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
b = json.load(open(sys.argv[2]))
t = s['tick_us']
on_time = 1 - s['late_ticks'] / max(s['ticks'], 1)
c = s.get('tick_cpu_us') or {}
print(f"players_max {s['players_max']}  ticks {s['ticks']}  tick_us p50 {t['p50']} p99 {t['p99']} max {t['max']}"
      f"  tick_cpu_us p50 {c.get('p50')} p99 {c.get('p99')}"
      f"  on time {on_time:.4f}  overruns {s['overruns']}  deferred {s['deferred_entities']}"
      f"  realtime {s.get('tick_realtime')}")
print(f"bots {b['clients']}  snapshot_loss {b['snapshot_loss']:.4f}  agreement {b['agreement']:.4f}"
      f"  corrections {b['corrections']}  down {b['down_bytes_per_s']:.0f} B/s  up {b['up_bytes_per_s']:.0f} B/s"
      f"  rtt_ms p50 {b['rtt_ms']['p50']} p99 {b['rtt_ms']['p99']}")
PY
