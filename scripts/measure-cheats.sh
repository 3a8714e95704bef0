#!/usr/bin/env bash
# Red-team figures (issue 13). Each run: `rewind serve` with AI players, and 8 bots of which the
# even-numbered 4 cheat; the bots' report gives the honest bots' figures and the cheaters' apart.
#   backtrack  with the view checks, and with --trust-views (today's behaviour before them)
#   wallhack   with the fog, and with --no-fog
#   rapid-fire and speed
# plus fog vs --no-fog downstream on the warehouse map with 32 players (16 bots + 16 AI), and
# honest bots alone at a 20 ms and a 200 ms round trip (±20 ms, 5 % loss) with every check on.
# DURATION (default 40s) per run; ONLY="tag tag..." runs just those. JSON reports land in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=target/release/rewind
OUT=${OUT:-target/measure-cheats}
PORT=${PORT:-4810}
DURATION=${DURATION:-40}
mkdir -p "$OUT"
# run TAG "SERVE FLAGS" BOTS-FLAGS...
run() {
  local tag=$1 serve_flags=$2; shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $tag "* ]]; then return; fi
  # shellcheck disable=SC2086
  "$B" serve --addr 127.0.0.1:$PORT --duration $((DURATION + 6))s --stats "$OUT/$tag-server.json" \
    --data-dir "$OUT/data" $serve_flags > "$OUT/$tag-serve.out" 2> "$OUT/$tag-serve.err" &
  local pid=$!
  for _ in $(seq 50); do grep -q cert-hash "$OUT/$tag-serve.out" 2>/dev/null && break; sleep 0.1; done
  local hash; hash=$(grep cert-hash "$OUT/$tag-serve.out" | cut -d' ' -f2)
  echo "== $tag (serve $serve_flags; bots $*)"
  "$B" bots --connect 127.0.0.1:$PORT --cert-hash "$hash" --duration ${DURATION}s --seed 7 \
    --report "$OUT/$tag-bots.json" "$@" 2>/dev/null
  wait "$pid"
  python3 - "$OUT/$tag-server.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"server: shots {s['shots']}, clamped views {s.get('clamped_views')}, refused views {s['refused_views']}, "
      f"snapshot bytes p50 {s['snapshot_bytes']['p50']}")
PY
  PORT=$((PORT + 1))
}
run backtrack "--ai 4" --count 8 --cheat backtrack
run backtrack-trusted "--ai 4 --trust-views" --count 8 --cheat backtrack
run wallhack "--ai 4 --map warehouse" --count 8 --cheat wallhack
run wallhack-no-fog "--ai 4 --map warehouse --no-fog" --count 8 --cheat wallhack
run rapid-fire "--ai 4" --count 8 --cheat rapid-fire
run speed "--ai 4" --count 8 --cheat speed
run fog-32 "--ai 16 --map warehouse --max-per-addr 16" --count 16
run no-fog-32 "--ai 16 --map warehouse --no-fog --max-per-addr 16" --count 16
run honest-20ms "--ai 8" --count 8 --lag 10ms
run honest-200ms "--ai 8" --count 8 --lag 100ms --jitter 20ms --loss 5%
