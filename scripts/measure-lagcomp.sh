#!/usr/bin/env bash
# Lag-compensation harness (issue 6): 8 bots vs 8 AI players for 60 s at a 200 ms round trip
# (100 ms each way on the bots' sockets), ±20 ms jitter, 5% loss; once with lag compensation and
# once with --no-lagcomp. Prints both bot summaries; JSON reports land in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=target/release/rewind
OUT=${OUT:-target/measure}
PORT=${PORT:-4800}
mkdir -p "$OUT"
run() {
  local tag=$1; shift
  "$B" serve --addr 127.0.0.1:$PORT --ai 8 --duration 66s --stats "$OUT/$tag-server.json" \
    --data-dir "$OUT/data" "$@" > "$OUT/$tag-serve.out" 2> "$OUT/$tag-serve.err" &
  local pid=$!
  for _ in $(seq 50); do grep -q cert-hash "$OUT/$tag-serve.out" 2>/dev/null && break; sleep 0.1; done
  local hash; hash=$(grep cert-hash "$OUT/$tag-serve.out" | cut -d' ' -f2)
  echo "== $tag"
  "$B" bots --connect 127.0.0.1:$PORT --cert-hash "$hash" --count 8 --duration 60s --seed 7 \
    --lag 100ms --jitter 20ms --loss 5% --report "$OUT/$tag-bots.json"
  wait "$pid"
}
run lagcomp
run no-lagcomp --no-lagcomp
