#!/usr/bin/env bash
# Builds the fuzz package (Fuzz/, libFuzzer + AddressSanitizer, release) and runs every reader target for
# FUZZ_SECONDS seconds (default 60), FUZZ_JOBS at a time (default 2). Each target starts from its seed corpus
# (Fuzz/Corpus/<target>) plus the committed reproducers (Tests/Fixtures/reliability, Tests/Fixtures/torch); new inputs go to
# .build/fuzz/<target>/corpus, crashes to .build/fuzz/<target>/crash-*. Exits non-zero when a target crashed.
#   FUZZ_SECONDS=300 FUZZ_TARGETS="npy keras" Scripts/fuzz.sh
# FUZZ_TIMEOUT (default 10) is the seconds one input may run before it counts as a hang (raise it on a loaded machine:
# the limit is wall-clock time). FUZZ_BIN names other binaries (a copy, so that a rebuild does not replace them under
# a long run; the serve target runs "$FUZZ_BIN-serve"); FUZZ_SKIP_BUILD=1 runs them without building first.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_JOBS=${FUZZ_JOBS:-2}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_TARGETS=${FUZZ_TARGETS:-"safetensors npy npz idx csv cifar keras checkpoint config onnx serve torch pickle"}
OUT=.build/fuzz
BIN=${FUZZ_BIN:-Fuzz/.build/release/nabla-fuzz}
R=Tests/Fixtures/reliability

[ "${FUZZ_SKIP_BUILD:-0}" = 1 ] || (cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)

reproducers() {
  case "$1" in
    safetensors) echo "$R/st_zero_huge.safetensors $R/checkpoint/*.safetensors" ;;
    npy) echo "$R/npy_zero_huge.npy $R/empty_0x0.npy" ;;
    npz) echo "$R/npz_zero_huge.npz" ;;
    idx) echo "$R/idx_*.idx" ;;
    keras) echo "$R/keras_json/*.json" ;;
    checkpoint) echo "$R/checkpoint/*.safetensors" ;;
    config) echo "$R/cfg_*.yaml" ;;
    onnx) echo "Tests/Fixtures/onnx/invalid/*.onnx" ;;
    torch) echo "Tests/Fixtures/torch/crafted_*.pt Tests/Fixtures/torch/evil_*.pt" ;;
    pickle) echo "Tests/Fixtures/torch/*.pkl" ;;
  esac
}

run_target() {
  local t=$1 dir=$OUT/$1
  mkdir -p "$dir/corpus"
  cp Fuzz/Corpus/"$t"/* "$dir/corpus/"
  for f in $(reproducers "$t"); do cp "$f" "$dir/corpus/"; done
  local rc=0
  local cmd=("$BIN" "$t")
  [ "$t" = serve ] && cmd=("$BIN-serve")   # the request decoder of nabla serve has its own executable
  "${cmd[@]}" "$dir/corpus" -max_total_time="$FUZZ_SECONDS" -timeout="$FUZZ_TIMEOUT" -malloc_limit_mb=4096 -rss_limit_mb=4096 \
    -artifact_prefix="$dir/" -print_final_stats=1 >"$dir/log" 2>&1 || rc=$?
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo "?")
  if [ "$rc" -eq 0 ]; then echo "fuzz $t: $execs executions in ${FUZZ_SECONDS} s, no crash"
  else echo "fuzz $t: FAILED (exit $rc) after $execs executions; see $dir/log and $dir/crash-*"; fi
  return "$rc"
}
export -f run_target reproducers
export OUT BIN R FUZZ_SECONDS FUZZ_TIMEOUT

status=0
printf '%s\n' $FUZZ_TARGETS | xargs -P "$FUZZ_JOBS" -I{} bash -c 'run_target {}' || status=$?
exit "$status"
