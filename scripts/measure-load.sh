#!/usr/bin/env bash
# Server load run (DESIGN §11): COUNT bots (default 56) + 8 AI players = 64 players for 30 s on
# loopback. Prints the server's tick percentiles and the bots' summary (down_bytes_per_s is per
# client, measured at UDP level).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=target/release/rewind
OUT=${OUT:-target/measure}
COUNT=${COUNT:-56}
mkdir -p "$OUT"
"$B" serve --addr 127.0.0.1:4702 --ai 8 --max-clients 240 --duration 40s --stats "$OUT/load-server.json" \
  --data-dir "$OUT/data" > "$OUT/load-serve.out" 2>/dev/null &
sp=$!
for _ in $(seq 50); do grep -q cert-hash "$OUT/load-serve.out" 2>/dev/null && break; sleep 0.1; done
hash=$(grep cert-hash "$OUT/load-serve.out" | cut -d' ' -f2)
"$B" bots --connect 127.0.0.1:4702 --cert-hash "$hash" --count "$COUNT" --duration 30s --report "$OUT/load-bots.json"
wait "$sp"
python3 -c "import json; s=json.load(open('$OUT/load-server.json')); print('tick_us', s['tick_us'], 'players_max', s['players_max'], 'overruns', s['overruns'])"
