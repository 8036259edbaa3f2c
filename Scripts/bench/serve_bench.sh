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

# Weights: a short training run of the W4 config (2 000 images, 1 epoch), exported for nabla serve.
sed -e 's|^output:.*|output: '"$WORK"'/run|' -e 's|^  validation_split: 0.*|  validation_split: 0\n  limit: 2000|' \
    -e 's|^  epochs: .*|  epochs: 1|' Examples/configs/fashion_cnn.yaml > "$WORK/cnn.yaml"
"$NABLA" train "$WORK/cnn.yaml" > "$WORK/train.log"
"$NABLA" export "$WORK/cnn.yaml" --checkpoint "$WORK/run/model.safetensors" --out "$WORK/models/1" > /dev/null

# One request body: an image of the test set (normalized as in training), and a malformed variant.
python3 - "$WORK" <<'PY'
import gzip, json, sys
w = sys.argv[1]
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    px = f.read()[16:16 + 784]
img = [[[round((p / 255 - 0.2860) / 0.3530, 4) for p in px[r * 28:(r + 1) * 28]] for r in range(28)]]
open(f"{w}/body.json", "w").write(json.dumps({"instances": [img]}))
def lua(name, bad):
    good = json.dumps(json.dumps({"instances": [img]}))
    mal = json.dumps('{"instances": [[[1, 2, 3]]')
    req = (f'local n = 0\nrequest = function()\n n = n + 1\n if n % 10 == 0 then\n'
           f'  return wrk.format("POST", nil, {{["Content-Type"]="application/json"}}, {mal})\n end\n'
           f' return wrk.format("POST", nil, {{["Content-Type"]="application/json"}}, {good})\nend\n') if bad else (
           f'wrk.method = "POST"\nwrk.body = {good}\nwrk.headers["Content-Type"] = "application/json"\n')
    open(f"{w}/{name}.lua", "w").write(req)
lua("post", False); lua("mixed", True)
PY

wait_port() { for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.1; done; echo "no server on $1" >&2; exit 1; }
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
