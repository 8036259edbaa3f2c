#!/usr/bin/env bash
# `nabla serve` against FastAPI + uvicorn + PyTorch on the W4 CNN (Fashion-MNIST, Examples/configs/fashion_cnn.yaml),
# batch 1: one 28x28 image per request in TF Serving's row format, on loopback, with Debian's wrk.
#   Scripts/bench/serve_bench.sh [SECONDS]          (default 10 s per run)
# Prints requests/s and p50/p99 latency at 1, 16 and 64 connections for both servers, then Nabla with 10% malformed
# requests mixed in (with the 5xx count from /metrics, which must stay 0). Installs wrk (apt) and the peer's venv
# ($PEER_VENV, default ~/bench-venvs/serve-peer: fastapi, uvicorn, safetensors, with PyTorch from $TORCH_VENV,
# default ~/torch-venv, visible through a .pth file) when missing. Needs the release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
NABLA=.build/release/nabla
PEER_VENV=${PEER_VENV:-$HOME/bench-venvs/serve-peer}
TORCH_VENV=${TORCH_VENV:-$HOME/torch-venv}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ ! -x "$PEER_VENV/bin/uvicorn" ]; then
  python3 -m venv "$PEER_VENV"
  "$PEER_VENV/bin/pip" install --quiet --disable-pip-version-check fastapi uvicorn safetensors
  site=$("$TORCH_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$site" > "$("$PEER_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/torch-venv.pth"
fi

# The exported W4 CNN, the request bodies and the wrk scripts.
source Scripts/bench/serve_common.sh

run_wrk() {  # port script connections -> "rps p50 p99 non2xx"
  local out; out=$(wrk -t "$(( $3 < 2 ? 1 : 2 ))" -c "$3" -d "${SECONDS_PER_RUN}s" --latency -s "$WORK/$2.lua" "http://127.0.0.1:$1/v1/models/fashion:predict")
  local rps p50 p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); echo "$rps $p50 $p99 ${bad:-0}"
}

"$NABLA" serve --model-name fashion --model-base-path "$WORK/models" --rest-api-port 18501 > "$WORK/nabla.log" 2>&1 &
NABLA_PID=$!
wait_port 18501 /healthz
"$PEER_VENV/bin/python" Scripts/bench/serve_torch.py "$WORK/run/model.safetensors" 18502 2 > "$WORK/peer.log" 2>&1 &
wait_port 18502 /docs

echo "| server | connections | requests/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
for c in 1 16 64; do
  for s in nabla torch; do
    port=$([ $s = nabla ] && echo 18501 || echo 18502)
    read -r rps p50 p99 bad < <(run_wrk "$port" post "$c")
    echo "| $s | $c | $rps | $p50 | $p99 | $bad |"
  done
done
before=$(curl -s http://127.0.0.1:18501/metrics | awk '/nabla_serve_requests_total/ && /code="5/ {s += $NF} END {print s + 0}')
read -r rps p50 p99 bad < <(run_wrk 18501 mixed 64)
after=$(curl -s http://127.0.0.1:18501/metrics | awk '/nabla_serve_requests_total/ && /code="5/ {s += $NF} END {print s + 0}')
echo "| nabla, 10% malformed | 64 | $rps | $p50 | $p99 | $bad (5xx: $((after - before))) |"
kill -TERM "$NABLA_PID"; wait "$NABLA_PID" && echo "nabla serve: exit 0 after SIGTERM"
