#!/usr/bin/env bash
# Bandwidth per client (issue 14, README "Bandwidth"): 8 bots + 8 AI on the arena, clean and at
# 100 ms each way ±20 ms with 5 % loss, then 56 bots + 8 AI (64 players). DURATION seconds each
# (default 30). Prints down/up kbit/s per client (real UDP bytes, QUIC included), killcam share,
# agreement and corrections. Targets: up ≤ 32, down ≤ 48 (16 players), down ≤ 160 (64 players).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
B=${CARGO_TARGET_DIR:-target}/release/rewind
OUT=${OUT:-${CARGO_TARGET_DIR:-target}/measure}
DURATION=${DURATION:-30}
PORT=${PORT:-4704}
mkdir -p "$OUT"

run() { # TAG BOTS SERVE_FLAGS [BOT FLAGS...]
  local tag=$1 count=$2 flags=$3
  shift 3
  rm -f "$OUT/bw-$tag-serve.out"
  # shellcheck disable=SC2086
  "$B" serve --addr "127.0.0.1:$PORT" --ai 8 --max-clients 100 --duration "$((DURATION + 8))s" \
    --stats "$OUT/bw-$tag-server.json" --data-dir "$OUT/data" $flags > "$OUT/bw-$tag-serve.out" 2>/dev/null &
  local sp=$!
  for _ in $(seq 50); do grep -q cert-hash "$OUT/bw-$tag-serve.out" 2>/dev/null && break; sleep 0.1; done
  local hash
  hash=$(grep cert-hash "$OUT/bw-$tag-serve.out" | cut -d' ' -f2)
  "$B" bots --connect "127.0.0.1:$PORT" --cert-hash "$hash" --count "$count" --duration "${DURATION}s" \
    --report "$OUT/bw-$tag-bots.json" "$@" > /dev/null 2> "$OUT/bw-$tag-bots.err"
  kill -INT "$sp" 2>/dev/null || true
  wait "$sp" || true
  python3 - "$tag" "$OUT/bw-$tag-bots.json" "$OUT/bw-$tag-server.json" <<'PY'
import json, sys
tag, b, s = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
kb = lambda v: v * 8 / 1000
print(f"{tag:<6} {b['clients']:>2} bots: down {kb(b['down_bytes_per_s']):5.1f} kbit/s "
      f"(killcams {kb(b['killcam_bytes_per_s']):4.1f}), up {kb(b['up_bytes_per_s']):5.1f} kbit/s, "
      f"agreement {b['agreement']:.4f} ({b['judged']} judged), corrections {b['corrections']}, "
      f"snapshot loss {b['snapshot_loss']:.3f}, snapshot p50 {s['snapshot_bytes']['p50']} B, "
      f"clamped views {s['clamped_views']}")
PY
}

run clean 8 ""
run lossy 8 "" --lag 100ms --jitter 20ms --loss 5%
run 64 56 ""
