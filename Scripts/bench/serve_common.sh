# Shared by serve_bench.sh and serve_soak.sh (sourced, with $NABLA and $WORK set): trains the W4 CNN briefly
# (Examples/configs/fashion_cnn.yaml, 2 000 images, 1 epoch), exports it to $WORK/models/1 for nabla serve, and
# writes the request bodies and wrk scripts: $WORK/post.lua (one test image per request, TF Serving's row format)
# and $WORK/mixed.lua (every tenth request malformed). Defines wait_port PORT PATH.
sed -e 's|^output:.*|output: '"$WORK"'/run|' -e 's|^  validation_split: 0.*|  validation_split: 0\n  limit: 2000|' \
    -e 's|^  epochs: .*|  epochs: 1|' Examples/configs/fashion_cnn.yaml > "$WORK/cnn.yaml"
"$NABLA" train "$WORK/cnn.yaml" > "$WORK/train.log"
"$NABLA" export "$WORK/cnn.yaml" --checkpoint "$WORK/run/model.safetensors" --out "$WORK/models/1" > /dev/null

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
