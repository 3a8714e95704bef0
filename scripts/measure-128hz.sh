#!/usr/bin/env bash
# 128 Hz (issue 14, part 4). Two bounded load runs on loopback, release build:
#  1. `serve --tick-rate 128 --ai 64 --duration 30s`: the server's tick percentiles (target p99 < 2 ms);
#  2. `serve --tick-rate 128 --ai 8` with 8 bots for 60 s at 100 ms each way, ±20 ms, 5 % loss
#     (the 60 Hz lag-compensation run of measure-lagcomp.sh at 128 Hz; target agreement >= 0.999,
#     0 corrections).
# SNAPSHOT_RATE (optional) adds `--snapshot-rate` to both. JSON lands in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=${CARGO_TARGET_DIR:-target}/release/rewind
OUT=${OUT:-target/measure}
PORT=${PORT:-4820}
SNAP=()
if [ -n "${SNAPSHOT_RATE:-}" ]; then SNAP=(--snapshot-rate "$SNAPSHOT_RATE"); fi
mkdir -p "$OUT"
wait_hash() {
  for _ in $(seq 50); do grep -q cert-hash "$1" 2>/dev/null && break; sleep 0.1; done
  grep cert-hash "$1" | cut -d' ' -f2
}
echo "== 64 AI at 128 Hz, 30 s"
"$B" serve --addr 127.0.0.1:$PORT --tick-rate 128 --ai 64 --duration 30s "${SNAP[@]}" \
  --stats "$OUT/hz128-ai64-server.json" --data-dir "$OUT/data" > "$OUT/hz128-ai64-serve.out" 2>/dev/null
python3 -c "import json; s=json.load(open('$OUT/hz128-ai64-server.json')); print('ticks', s['ticks'], 'tick_us', s['tick_us'], 'players_max', s['players_max'], 'overruns', s.get('overruns'))"
echo "== 8 bots + 8 AI at 128 Hz, 200 ms round trip, 5 % loss, 60 s"
"$B" serve --addr 127.0.0.1:$PORT --tick-rate 128 --ai 8 --duration 66s "${SNAP[@]}" \
  --stats "$OUT/hz128-lag-server.json" --data-dir "$OUT/data" > "$OUT/hz128-lag-serve.out" 2>/dev/null &
sp=$!
hash=$(wait_hash "$OUT/hz128-lag-serve.out")
"$B" bots --connect 127.0.0.1:$PORT --cert-hash "$hash" --count 8 --duration 60s --seed 7 \
  --lag 100ms --jitter 20ms --loss 5% --report "$OUT/hz128-lag-bots.json"
wait "$sp"
python3 -c "import json; s=json.load(open('$OUT/hz128-lag-server.json')); print('server tick_us', s['tick_us'], 'rejected_too_old', s['rejected_too_old'], 'missing_inputs', s['missing_inputs'])"
