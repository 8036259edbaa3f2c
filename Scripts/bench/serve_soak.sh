#!/usr/bin/env bash
# A soak of `nabla serve` at the saturation rate: the W4 CNN at batch 1 (one 28x28 image per request, TF Serving's row
# format) under wrk with CONNECTIONS closed-loop connections (default 64, which saturates the server: each connection
# sends its next request as soon as the answer arrives) for SECONDS (default 600) on loopback.
#   Scripts/bench/serve_soak.sh [SECONDS] [CONNECTIONS]
# Samples the server's resident memory (VmRSS), and from /metrics malloc's bytes in use and free and the host buffer
# cache, every SAMPLE_EVERY seconds (default 5) into $OUT (default .build/bench/serve_soak.tsv) and prints: requests/s, p50/p99, the wrk error and non-2xx counts, the 5xx count from
# /metrics, and the RSS after warm-up (the first sample after WARMUP seconds, default 30), its minimum and maximum
# after it and the spread (max - min) / warm-up RSS. Exits non-zero when a request failed or the spread exceeds 10 %.
# Needs the release build (swift build -c release) and wrk (installed with apt when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL=${1:-600}
CONNECTIONS=${2:-64}
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
WARMUP=${WARMUP:-30}
NABLA=${NABLA:-.build/release/nabla}
OUT=${OUT:-.build/bench/serve_soak.tsv}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
source Scripts/bench/serve_common.sh

"$NABLA" serve --model-name fashion --model-base-path "$WORK/models" --rest-api-port 18511 > "$WORK/nabla.log" 2>&1 &
NABLA_PID=$!
wait_port 18511 /healthz

wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_TOTAL}s" --timeout 10s --latency -s "$WORK/post.lua" \
    "http://127.0.0.1:18511/v1/models/fashion:predict" > "$WORK/wrk.txt" &
WRK_PID=$!
printf 'seconds\trss_kib\theap_in_use_kib\theap_free_kib\thost_cache_kib\n' > "$OUT"
start=$(date +%s)
while kill -0 "$WRK_PID" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$NABLA_PID/status")
  heap=$(curl -s --max-time 2 http://127.0.0.1:18511/metrics | awk '
    $1 == "nabla_serve_heap_in_use_bytes" {u = $2} $1 == "nabla_serve_heap_free_bytes" {f = $2}
    $1 == "nabla_serve_host_cache_bytes" {c = $2} END {printf "%d\t%d\t%d", u / 1024, f / 1024, c / 1024}') || heap="0	0	0"
  printf '%d\t%d\t%s\n' "$(( $(date +%s) - start ))" "$rss" "$heap" >> "$OUT"
  sleep "$SAMPLE_EVERY"
done
wait "$WRK_PID"
fivexx=$(curl -s http://127.0.0.1:18511/metrics | awk '/nabla_serve_requests_total/ && /code="5/ {s += $NF} END {print s + 0}')
kill -TERM "$NABLA_PID"; wait "$NABLA_PID" || { echo "nabla serve did not exit 0 after SIGTERM" >&2; exit 1; }

rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt"); total=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt"); p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$WORK/wrk.txt"); errors=${errors:-0}
non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt"); non2xx=${non2xx:-0}
read -r base lo hi n < <(awk -v w="$WARMUP" 'NR > 1 && $1 >= w { if (b == "") b = $2; if (lo == "" || $2 < lo) lo = $2; if ($2 > hi) hi = $2; n++ }
                                             END { print b, lo, hi, n }' "$OUT")
spread=$(awk -v b="$base" -v lo="$lo" -v hi="$hi" 'BEGIN { printf "%.1f", 100 * (hi - lo) / b }')
echo "soak: ${SECONDS_TOTAL} s at $CONNECTIONS connections: $total requests, $rps requests/s, p50 $p50, p99 $p99"
echo "soak: wrk socket errors $errors, non-2xx $non2xx, 5xx in /metrics $fivexx"
echo "soak: RSS after ${WARMUP} s warm-up $base KiB; min $lo KiB, max $hi KiB over $n samples; spread $spread % (samples in $OUT)"
awk -v s="$spread" 'BEGIN { exit !(s <= 10) }' && [ "$errors" = 0 ] && [ "$non2xx" = 0 ] && [ "$fivexx" = 0 ]
