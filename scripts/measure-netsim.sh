#!/usr/bin/env bash
# rewind serve behind rewind netsim (50 ms each way, ±5 ms jitter, 1% loss) with 4 bots connected
# through the proxy: the bots' RTT should be about 100 ms (issue 7).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=target/release/rewind
OUT=${OUT:-target/measure}
mkdir -p "$OUT"
"$B" serve --addr 127.0.0.1:4810 --ai 4 --duration 25s --data-dir "$OUT/data" > "$OUT/ns-serve.out" 2>/dev/null &
sp=$!
for _ in $(seq 50); do grep -q cert-hash "$OUT/ns-serve.out" 2>/dev/null && break; sleep 0.1; done
hash=$(grep cert-hash "$OUT/ns-serve.out" | cut -d' ' -f2)
"$B" netsim --listen 127.0.0.1:4811 --upstream 127.0.0.1:4810 --lag 50ms --jitter 5ms --loss 1% 2> "$OUT/ns-proxy.err" &
np=$!
sleep 0.5
"$B" bots --connect 127.0.0.1:4811 --cert-hash "$hash" --count 4 --duration 20s --report "$OUT/ns-bots.json"
kill -INT "$np"; wait "$np" || true
wait "$sp"
tail -n 1 "$OUT/ns-proxy.err"
