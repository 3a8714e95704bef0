#!/usr/bin/env bash
# Sizing a fleet (issue 15): one match = one `rewind serve` process. Runs a match of AI players
# (AI, default 8) and real QUIC bots (COUNT, default 8) for DURATION seconds (default 30) and
# prints the server process's CPU use (user+system time over wall time, from /proc), its peak
# RSS and its tick percentiles: what deploy/agones/*.yaml requests and limits are sized from.
# B=path/to/rewind uses another build (default: a fresh release build of this tree).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${B:-}" ]; then cargo build --release -q; B=target/release/rewind; fi
OUT=${OUT:-target/measure}
AI=${AI:-8}
COUNT=${COUNT:-8}
DURATION=${DURATION:-30}
PORT=${PORT:-4712}
EXTRA=${EXTRA:-}
mkdir -p "$OUT"
"$B" serve --addr 127.0.0.1:$PORT --ai "$AI" --duration $((DURATION + 4))s --stats "$OUT/fleet-server.json" \
  --data-dir "$OUT/data" $EXTRA > "$OUT/fleet-serve.out" 2>/dev/null &
sp=$!
for _ in $(seq 50); do grep -q cert-hash "$OUT/fleet-serve.out" 2>/dev/null && break; sleep 0.1; done
hash=$(grep cert-hash "$OUT/fleet-serve.out" | cut -d' ' -f2)
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$sp/stat"; }
"$B" bots --connect 127.0.0.1:$PORT --cert-hash "$hash" --count "$COUNT" --duration 2s --report "$OUT/fleet-warm.json" >/dev/null
c0=$(cpu); t0=$(date +%s.%N)
"$B" bots --connect 127.0.0.1:$PORT --cert-hash "$hash" --count "$COUNT" --duration "${DURATION}s" --report "$OUT/fleet-bots.json" >/dev/null
c1=$(cpu); t1=$(date +%s.%N)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$sp/status")
wait "$sp"
python3 - "$c0" "$c1" "$t0" "$t1" "$hz" "$rss" "$OUT" "$AI" "$COUNT" <<'PY'
import json, sys
c0, c1, t0, t1, hz, rss = map(float, sys.argv[1:7]); out, ai, count = sys.argv[7:10]
s = json.load(open(f"{out}/fleet-server.json"))
cores = (c1 - c0) / hz / (t1 - t0)
print(f"players {int(ai) + int(count)} ({ai} AI + {count} bots), {t1 - t0:.1f} s")
print(f"server CPU {cores * 1000:.0f} millicores ({cores * 100:.1f} % of one core), peak RSS {rss / 1024:.1f} MiB")
print(f"tick_us p50 {s['tick_us']['p50']} p99 {s['tick_us']['p99']} max {s['tick_us']['max']}, overruns {s['overruns']}")
print(f"matches per core at this size: {1 / cores:.1f}")
PY
