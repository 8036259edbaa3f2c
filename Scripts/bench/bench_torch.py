#!/usr/bin/env python3
"""Peer baseline for Nabla: PyTorch (CPU, eager) and numpy/OpenBLAS on workloads W1..W8.

Run it in a virtual environment outside the repository (pip install torch numpy):
    python bench_torch.py                 # W1..W8 (~15 min on 2 cores)
    python bench_torch.py --only W1,W2    # a subset
    python bench_torch.py --only W3C,W4C,W7C --epochs 1   # torch.compile peers, one epoch (a check)
    python bench_torch.py --out my-results.json

W3C, W4C and W7C are W3, W4 and W7 with torch.compile (inductor, which needs a C compiler) on the model and on
Adam's step; their results say impl "torch-compile" and workload "W3", "W4", "W7", beside nabla-bench's
W3-compiled etc. (impl "nabla-compiled"). They compile cold, in a fresh inductor cache directory per run
(`--inductor-cache` keeps the default one, where a later run finds its kernels already built).

Prints one JSON object per measurement on stdout and writes them all (plus a "meta"
block) to results-torch.json unless --out says otherwise.

Every workload is defined precisely in Benchmarks/WORKLOADS.md so that a Swift implementation
can reproduce it.  Timing: time.perf_counter() wall clock, warm-up first, median of
repeats.  Threads: torch.set_num_threads(2) (the machine has 2 cores).
"""
import argparse
import atexit
import gc
import gzip
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
THREADS = 2
RESULTS = []
# W3C, W4C, W7C: W3, W4, W7 under torch.compile (impl "torch-compile").
ALL_WORKLOADS = ["W1", "W2", "W3", "W3C", "W4", "W4C", "W5", "W6", "W7", "W7C", "W8"]


def emit(obj):
    """Print one result as a JSON line and keep it for the results file."""
    RESULTS.append(obj)
    print(json.dumps(obj), flush=True)


def log(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def med(xs):
    return statistics.median(xs)


# --------------------------------------------------------------------------- data
def read_idx(path):
    """Read an IDX file (optionally gzip-compressed) into a numpy uint8 array.

    IDX layout: 2 zero bytes, 1 dtype byte (0x08 = uint8), 1 byte ndim, then ndim
    big-endian uint32 dimension sizes, then the raw data in row-major (C) order.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    arr = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size mismatch {arr.size} vs {dims}")
    return arr.reshape(dims)


def load_fashion_mnist():
    """Returns float32 images in [0,1] with shape [N,28,28] and int64 labels."""
    d = DATA_DIR
    xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    yte = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    return xtr, ytr, xte, yte


_TORCH = None


def get_torch():
    global _TORCH
    if _TORCH is None:
        import torch

        torch.set_num_threads(THREADS)
        _TORCH = torch
    return _TORCH


# --------------------------------------------------------------------------- W1
def time_loop(fn, min_time=0.25, repeats=7, warmup=2):
    """Median seconds per call of fn(): calibrates an inner loop to >= min_time."""
    for _ in range(warmup):
        fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            break
        n *= 2
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return samples


def w1_backend(backend, sizes):
    """Runs in its own process so that torch's OpenMP pool and OpenBLAS's pthreads
    never compete for the 2 cores."""
    out = []
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        if backend == "torch":
            torch = get_torch()
            ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
            fn = lambda: torch.mm(ta, tb, out=tc)
            ver = torch.__version__
        elif backend == "numpy":
            fn = lambda: np.matmul(a, b, out=c)
            ver = np.__version__
        elif backend == "openblas-debian":
            import ctypes

            lib = ctypes.CDLL("/usr/lib/x86_64-linux-gnu/libopenblas.so.0")
            lib.openblas_set_num_threads(THREADS)
            lib.openblas_get_config.restype = ctypes.c_char_p
            ver = lib.openblas_get_config().decode()
            sg = lib.cblas_sgemm
            f = ctypes.c_float
            pa, pb, pc = (x.ctypes.data_as(ctypes.c_void_p) for x in (a, b, c))
            # CblasRowMajor=101, CblasNoTrans=111
            fn = lambda: sg(101, 111, 111, n, n, n, f(1.0), pa, n, pb, n, f(0.0), pc, n)
        else:
            raise ValueError(backend)
        samples = time_loop(fn)
        ref = a.astype(np.float64) @ b.astype(np.float64) if n <= 1024 else None
        if ref is not None:
            err = float(np.abs(c - ref).max() / np.abs(ref).max())
        else:
            err = None
        flop = 2.0 * n ** 3
        out.append(
            {
                "workload": "W1",
                "impl": backend,
                "version": ver,
                "n": n,
                "median_s": med(samples),
                "gflops": flop / med(samples) / 1e9,
                "gflops_best": flop / min(samples) / 1e9,
                "gflops_worst": flop / max(samples) / 1e9,
                "repeats": len(samples),
                "max_rel_err_vs_f64": err,
            }
        )
    return out


def run_w1(sizes=(256, 1024, 2048)):
    for backend in ("torch", "numpy", "openblas-debian"):
        cmd = [sys.executable, os.path.abspath(__file__), "--w1-backend", backend,
               "--w1-sizes", ",".join(map(str, sizes))]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            log(f"W1 {backend} failed: {p.stderr[-2000:]}")
            emit({"workload": "W1", "impl": backend, "error": p.stderr[-500:]})
            continue
        for line in p.stdout.splitlines():
            if line.startswith("{"):
                emit(json.loads(line))


# --------------------------------------------------------------------------- W2
def run_w2():
    torch = get_torch()
    # (a) no autograd: y = x + 1.0 on a 1-element float32 tensor, 100000 iterations.
    iters = 100_000
    x = torch.zeros(1)
    res = {}
    for label, ctx in (("plain", None), ("no_grad", torch.no_grad)):
        samples = []
        for rep in range(6):
            if ctx is None:
                t0 = time.perf_counter()
                for _ in range(iters):
                    y = x + 1.0
                dt = time.perf_counter() - t0
            else:
                with ctx():
                    t0 = time.perf_counter()
                    for _ in range(iters):
                        y = x + 1.0
                    dt = time.perf_counter() - t0
            if rep > 0:  # first repetition is warm-up
                samples.append(dt / iters * 1e6)
        res[label] = samples
    # references: the same loop with a numpy 1-element array and a Python float
    xn = np.zeros(1, dtype=np.float32)
    ref_np, ref_py = [], []
    xf = 0.0
    for rep in range(4):
        t0 = time.perf_counter()
        for _ in range(iters):
            y = xn + 1.0
        ref_np.append((time.perf_counter() - t0) / iters * 1e6)
        t0 = time.perf_counter()
        for _ in range(iters):
            y = xf + 1.0
        ref_py.append((time.perf_counter() - t0) / iters * 1e6)
    emit({
        "workload": "W2a", "impl": "torch",
        "desc": "y = x + 1.0, x = torch.zeros(1) (requires_grad=False), 100000 iters, us/op (incl. Python loop)",
        "us_per_op": med(res["plain"]), "us_per_op_min": min(res["plain"]), "us_per_op_max": max(res["plain"]),
        "us_per_op_under_no_grad": med(res["no_grad"]),
        "ref_numpy_us_per_op": med(ref_np[1:]), "ref_python_float_us_per_op": med(ref_py[1:]),
        "repeats": len(res["plain"]),
    })

    # (b) autograd chain: 1000 ops alternating mul/add (500 x "x = x*1.0001; x = x+0.0001"),
    # then backward; 20 timed repeats after 3 warm-up.
    n_ops = 1000
    fwd, bwd, tot = [], [], []
    for rep in range(23):
        x0 = torch.ones(1, requires_grad=True)
        t0 = time.perf_counter()
        x = x0
        for _ in range(n_ops // 2):
            x = x * 1.0001
            x = x + 0.0001
        t1 = time.perf_counter()
        x.backward()
        t2 = time.perf_counter()
        if rep >= 3:
            fwd.append((t1 - t0) / n_ops * 1e6)
            bwd.append((t2 - t1) / n_ops * 1e6)
            tot.append((t2 - t0) / n_ops * 1e6)
    expect = 1.0001 ** (n_ops // 2)
    assert abs(x0.grad.item() - expect) < 1e-3, (x0.grad.item(), expect)
    emit({
        "workload": "W2b", "impl": "torch",
        "desc": "1000-op chain (500x mul 1.0001 then add 0.0001) on ones(1, requires_grad) + backward; us per op",
        "us_per_op_fwd_bwd": med(tot), "us_per_op_fwd_bwd_min": min(tot), "us_per_op_fwd_bwd_max": max(tot),
        "us_per_op_fwd": med(fwd), "us_per_op_bwd": med(bwd), "repeats": len(tot),
        "grad": x0.grad.item(),
    })


# --------------------------------------------------------------------------- W3/W4/W5/W6 helpers
def evaluate(model, xte, yte, batch=1000):
    torch = get_torch()
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, xte.shape[0], batch):
            logits = model(xte[i : i + batch])
            correct += int((logits.argmax(1) == yte[i : i + batch]).sum())
    model.train()
    return correct / xte.shape[0]


def train_epochs(name, model, xtr, ytr, xte, yte, epochs, batch=128, seed=0, step_window=None, compiled=False,
                 max_steps=None):
    """Shuffle each epoch with torch.randperm(generator seeded `seed`), batch 128,
    last partial batch kept (60000 = 468*128 + 96 -> 469 steps/epoch).

    `compiled`: the forward runs through torch.compile(model) and Adam's step through torch.compile(opt.step), as a
    PyTorch user would write it; evaluation uses the module itself. The compiles (the forward, the backward and the
    optimizer step for batches of 128, and again for the last batch of 96) fall in epoch 1, whose record then holds
    `first_step_seconds` (the first step alone, with its compiles). `max_steps` ends each epoch after that many
    steps: only to check that a script runs (`--max-steps`), its figures are not the workload's."""
    torch = get_torch()
    import torch.nn.functional as F

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    forward = torch.compile(model) if compiled else model
    opt_step = torch.compile(opt.step) if compiled else opt.step
    g = torch.Generator().manual_seed(seed)
    n = xtr.shape[0]
    per_epoch = []
    for ep in range(epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=g)
        losses = 0.0
        steps = 0
        win_t0 = win_t1 = first_step = None
        for i in range(0, n, batch):
            if max_steps and steps == max_steps:
                break
            if step_window and steps == step_window[0]:
                win_t0 = time.perf_counter()
            idx = perm[i : i + batch]
            xb, yb = xtr[idx], ytr[idx]
            loss = F.cross_entropy(forward(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt_step()
            steps += 1
            if compiled and ep == 0 and steps == 1:
                first_step = time.perf_counter() - t0
            if step_window and steps == step_window[1]:
                float(loss)  # sync (no-op on CPU, kept for symmetry)
                win_t1 = time.perf_counter()
            if steps % 50 == 0:
                losses = loss.detach().item()
        dt = time.perf_counter() - t0
        acc = evaluate(model, xte, yte)
        seen = min(n, steps * batch)
        rec = {"epoch": ep + 1, "seconds": dt, "samples": seen, "samples_per_s": seen / dt, "test_acc": acc,
               "last_logged_loss": losses, "steps": steps}
        if first_step is not None:
            rec["first_step_seconds"] = first_step
        if win_t0 is not None and win_t1 is not None:
            k = step_window[1] - step_window[0]
            rec["window_steps"] = [step_window[0], step_window[1]]
            rec["window_samples_per_s"] = k * batch / (win_t1 - win_t0)
        per_epoch.append(rec)
        log(f"{name} epoch {ep+1}: {dt:.2f}s  {seen/dt:.0f} samples/s  test_acc={acc:.4f}")
    return per_epoch


def epochs_result(workload, compiled, desc, eps, impl=None):
    """The result line of a W3/W4 run from its per-epoch records: medians over all epochs (as nabla-bench reports
    them). Compiled runs also give `compile_seconds`: epoch 1's seconds minus the median of the later epochs', i.e.
    the compiles plus whatever else epoch 1 costs more (absent with a single epoch), and `first_step_seconds`.
    `impl`: default "torch" or "torch-compile"."""
    secs = [e["seconds"] for e in eps]
    n = eps[0]["samples"]
    r = {
        "workload": workload, "impl": impl or ("torch-compile" if compiled else "torch"),
        "desc": desc + (" with torch.compile(model) and torch.compile(opt.step)" if compiled and not impl else "")
                + ("; median over all epochs, compiles in epoch 1 (compile_seconds = epoch 1 - median of epochs 2..)"
                   if compiled else "") + (f"; CHECK ONLY: {eps[0]['steps']} steps per epoch" if n < 60000 else ""),
        "seconds_per_epoch_median": med(secs), "seconds_per_epoch_min": min(secs), "seconds_per_epoch_max": max(secs),
        "samples_per_s_median": n / med(secs), "final_test_acc": eps[-1]["test_acc"], "epochs": eps,
    }
    if n < 60000:
        r["max_steps"] = eps[0]["steps"]
    if compiled:
        r["first_step_seconds"] = eps[0].get("first_step_seconds")
        r["compile_seconds"] = secs[0] - med(secs[1:]) if len(secs) > 1 else None
    return r


def fashion_tensors(data, shape):
    """Fashion-MNIST's numpy arrays as torch tensors, the images reshaped to `shape`: Xtr, Ytr, Xte, Yte."""
    torch = get_torch()
    xtr, ytr, xte, yte = data
    return (torch.from_numpy(xtr.reshape(shape).copy()), torch.from_numpy(ytr),
            torch.from_numpy(xte.reshape(shape).copy()), torch.from_numpy(yte))


def make_mlp():
    """The W3 MLP 784-512-ReLU-256-ReLU-10."""
    nn = get_torch().nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def run_w3(data, epochs=5, compiled=False, max_steps=None):
    """W3 ("W3"), or with torch.compile ("W3C", impl "torch-compile")."""
    torch = get_torch()
    Xtr, Ytr, Xte, Yte = fashion_tensors(data, (-1, 784))
    torch.manual_seed(0)
    model = make_mlp()
    eps = train_epochs("W3" + (" torch.compile" if compiled else ""), model, Xtr, Ytr, Xte, Yte, epochs=epochs,
                       compiled=compiled, max_steps=max_steps)
    emit(epochs_result("W3", compiled, f"MLP 784-512-256-10 ReLU, CE, Adam 1e-3, batch 128, {epochs} epochs", eps))


class CNN:
    """Factory for the W4 CNN (kept as a function so W6 can reuse the trained model)."""

    @staticmethod
    def make():
        torch = get_torch()
        nn = torch.nn
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
        )


def run_w4(data, epochs=3, compiled=False, max_steps=None):
    """W4 ("W4"), or with torch.compile ("W4C", impl "torch-compile"); returns the trained model and test images
    for W6."""
    torch = get_torch()
    Xtr, Ytr, Xte, Yte = fashion_tensors(data, (-1, 1, 28, 28))
    torch.manual_seed(0)
    model = CNN.make()
    eps = train_epochs("W4" + (" torch.compile" if compiled else ""), model, Xtr, Ytr, Xte, Yte, epochs=epochs,
                       compiled=compiled, max_steps=max_steps)
    emit(epochs_result("W4", compiled, f"CNN conv32-pool-conv64-pool-fc128-fc10, CE, Adam 1e-3, batch 128, "
                                       f"{epochs} epochs", eps))
    return model, Xte


def make_lstm():
    """The W5 model: LSTM(28, 128) over the 28 rows of an image, its last hidden state into Linear(128, 10)."""
    nn = get_torch().nn

    class LSTMNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, 128, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):
            _, (h, _) = self.lstm(x)  # h: [num_layers=1, B, 128]
            return self.fc(h[-1])

    return LSTMNet()


def run_w5(data):
    torch = get_torch()
    Xtr, Ytr, Xte, Yte = fashion_tensors(data, (-1, 28, 28))  # [N, 28 rows (time), 28 cols (features)]
    torch.manual_seed(0)
    model = make_lstm()
    eps = train_epochs("W5", model, Xtr, Ytr, Xte, Yte, epochs=1, step_window=(10, 110))
    e = eps[0]
    emit({
        "workload": "W5", "impl": "torch",
        "desc": "LSTM(28,128) over 28 rows, last h -> Linear(128,10); Adam 1e-3, batch 128; "
                "samples/s over steps 10..109 of epoch 1; test acc after 1 epoch",
        "samples_per_s_100_steps": e["window_samples_per_s"], "epoch_seconds": e["seconds"],
        "epoch_samples_per_s": e["samples_per_s"], "test_acc_after_1_epoch": e["test_acc"],
    })


def run_w6(model, Xte):
    torch = get_torch()
    model.eval()
    lat = []
    with torch.no_grad():
        for i in range(50):  # warm-up
            model(Xte[i : i + 1])
        for i in range(1000):
            x = Xte[i : i + 1]
            t0 = time.perf_counter()
            model(x)
            lat.append((time.perf_counter() - t0) * 1e6)
        xb = Xte[:256]
        for _ in range(5):
            model(xb)
        tb = []
        for _ in range(30):
            t0 = time.perf_counter()
            model(xb)
            tb.append(time.perf_counter() - t0)
    lat.sort()
    emit({
        "workload": "W6", "impl": "torch",
        "desc": "trained W4 CNN, eval() + no_grad; batch-1 latency over 1000 calls; batch-256 throughput (median of 30)",
        "b1_latency_us_median": med(lat), "b1_latency_us_p10": lat[100], "b1_latency_us_p90": lat[900],
        "b256_ms_median": med(tb) * 1e3, "b256_images_per_s": 256 / med(tb),
        "b256_images_per_s_best": 256 / min(tb),
    })


def run_w7(compiled=False):
    """W7 ("W7"), or with torch.compile ("W7C", impl "torch-compile"): the layer through torch.compile(layer) and
    Adam's step through torch.compile(opt.step). The 3 warm-up steps hold the compiles (and the optimizer step's
    recompile once its state exists); `compile_seconds` is their time beyond 3 median steps."""
    torch = get_torch()
    nn = torch.nn
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024, dropout=0.0, batch_first=True)
    layer.train()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    forward = torch.compile(layer) if compiled else layer
    opt_step = torch.compile(opt.step) if compiled else opt.step
    x = torch.randn(32, 128, 256)
    warmup, times = 3, []
    for it in range(warmup + 20):
        t0 = time.perf_counter()
        out = forward(x)
        loss = out.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt_step()
        times.append((time.perf_counter() - t0) * 1e3)
    emit(w7_result("torch-compile" if compiled else "torch",
                   "TransformerEncoderLayer(256, 4 heads, ff 1024, dropout 0, batch_first, post-norm, ReLU) on "
                   "randn(32,128,256); loss = out.pow(2).mean(); fwd+bwd+Adam step; median of 20 after 3 warm-up"
                   + (", with torch.compile(layer) and torch.compile(opt.step), compiled during the warm-up"
                      if compiled else ""), times[:warmup], times[warmup:], compiled))


def w7_result(impl, desc, warm, times, compiled):
    """W7's result line from the warm-up and timed steps' milliseconds (logged too); compiled runs add `warmup_ms`
    and `compile_seconds` (the warm-up's time beyond as many median steps)."""
    # rough FLOP count: per token fwd = QKV+out proj 4*d*d*2 + FFN 2*d*ff*2 + attention 2*T*d*2
    d, ff, T, B = 256, 1024, 128, 32
    fwd_flop = B * T * (4 * d * d * 2 + 2 * d * ff * 2 + 2 * T * d * 2)
    r = {
        "workload": "W7", "impl": impl, "desc": desc,
        "ms_per_step_median": med(times), "ms_per_step_min": min(times), "ms_per_step_max": max(times),
        "approx_gflops_3x_fwd": 3 * fwd_flop / (med(times) / 1e3) / 1e9,
    }
    if compiled:
        r["warmup_ms"] = warm
        r["compile_seconds"] = (sum(warm) - len(warm) * med(times)) / 1e3
    log(f"W7 {impl}: {med(times):.1f} ms/step (warm-up {', '.join(f'{t:.0f}' for t in warm)} ms)")
    return r


# --------------------------------------------------------------------------- W8 (optional)
class Value:
    """Minimal pure-Python scalar autograd (micrograd-style) used as a reference peer."""

    __slots__ = ("data", "grad", "_prev", "_back")

    def __init__(self, data, prev=()):
        self.data = data
        self.grad = 0.0
        self._prev = prev
        self._back = None

    def __add__(self, o):
        o = o if isinstance(o, Value) else Value(o)
        out = Value(self.data + o.data, (self, o))

        def _b():
            self.grad += out.grad
            o.grad += out.grad

        out._back = _b
        return out

    def __mul__(self, o):
        o = o if isinstance(o, Value) else Value(o)
        out = Value(self.data * o.data, (self, o))

        def _b():
            self.grad += o.data * out.grad
            o.grad += self.data * out.grad

        out._back = _b
        return out

    def __sub__(self, o):
        return self + (o * -1.0 if isinstance(o, Value) else -o)

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def _b():
            self.grad += (out.data > 0) * out.grad

        out._back = _b
        return out

    def backward(self):
        topo, seen = [], set()
        stack = [(self, False)]
        while stack:
            v, done = stack.pop()
            if done:
                topo.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            for p in v._prev:
                stack.append((p, False))
        self.grad = 1.0
        for v in reversed(topo):
            if v._back:
                v._back()


def scalar_mlp_loss(params, xs, ys, relu, const):
    """2 -> 16 -> 16 -> 1 MLP on scalars; loss = sum_i (out_i - y_i)^2 * (1/len)."""
    W1, b1, W2, b2, W3, b3 = params
    total = None
    for x, y in zip(xs, ys):
        h1 = []
        for j in range(16):
            s = b1[j]
            for i in range(2):
                s = s + W1[j][i] * x[i]
            h1.append(relu(s))
        h2 = []
        for k in range(16):
            s = b2[k]
            for j in range(16):
                s = s + W2[k][j] * h1[j]
            h2.append(relu(s))
        o = b3
        for k in range(16):
            o = o + W3[k] * h2[k]
        d = o - y
        sq = d * d
        total = sq if total is None else total + sq
    return total * const(1.0 / len(xs))


def run_w8():
    torch = get_torch()
    rng = np.random.default_rng(0)
    xs_np = rng.uniform(-1, 1, size=(8, 2))
    ys_np = np.sign(xs_np[:, 0] * xs_np[:, 1])
    w = [rng.uniform(-1, 1, size=s) for s in [(16, 2), (16,), (16, 16), (16,), (16,), ()]]
    # ops per sample: L1 16*(2 mul+2 add+relu)=80, L2 16*(16+16+1)=528, out 32, loss sub+mul+acc(3) -> 643
    n_ops = 8 * 643  # approximate count of scalar ops in the forward graph

    def mk(const):
        def conv(a):
            if a.ndim == 0:
                return const(float(a))
            return [conv(r) for r in a]
        return [conv(a) for a in w]

    def bench(make_params, relu, const, reps=7):
        ts = []
        for r in range(reps):
            params = make_params()
            xs = [[const(float(v)) for v in row] for row in xs_np]
            ys = [const(float(v)) for v in ys_np]
            gc.collect()
            t0 = time.perf_counter()
            loss = scalar_mlp_loss(params, xs, ys, relu, const)
            loss.backward()
            dt = time.perf_counter() - t0
            if r >= 2:
                ts.append(dt)
        return ts, loss

    # pure Python Value
    ts_py, loss_py = bench(lambda: mk(Value), lambda v: v.relu(), Value)
    # torch 0-d tensors
    tconst = lambda v: torch.tensor(v, dtype=torch.float32)
    tparam = lambda v: torch.tensor(v, dtype=torch.float32, requires_grad=True)
    ts_t, loss_t = bench(lambda: mk(tparam), torch.relu, tconst)
    emit({
        "workload": "W8", "impl": "torch-0d-tensors",
        "desc": "scalar MLP 2-16-16-1 ReLU on 8 points, MSE; graph of ~5144 scalar ops, fwd+bwd; each scalar is a 0-d tensor",
        "ms_fwd_bwd_median": med(ts_t) * 1e3, "us_per_scalar_op": med(ts_t) / n_ops * 1e6,
        "loss": float(loss_t.detach()),
    })
    emit({
        "workload": "W8", "impl": "python-micrograd",
        "desc": "same graph with a pure-Python micrograd-style Value class (in this file)",
        "ms_fwd_bwd_median": med(ts_py) * 1e3, "us_per_scalar_op": med(ts_py) / n_ops * 1e6,
        "loss": loss_py.data,
    })


# --------------------------------------------------------------------------- main
def meta():
    torch = get_torch()
    m = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_cpu": platform.processor() or "",
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "mkl_available": torch.backends.mkl.is_available(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "nproc": os.cpu_count(),
        "data_dir": DATA_DIR,
        "cpu_model": cpu_model(),
    }
    return m


def cpu_model():
    """The first "model name" of /proc/cpuinfo ("" where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def write_results(path, m, t_start):
    """Writes the sitting's meta (with its total time since `t_start`) and every emitted result to `path`."""
    m["total_seconds"] = time.perf_counter() - t_start
    with open(path, "w") as f:
        json.dump({"meta": m, "results": RESULTS}, f, indent=1)
    log(f"wrote {path} (total {m['total_seconds']:.1f}s)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="W1,W2,W3,W4,W5,W6,W7,W8",
                    help="comma-separated, from " + ",".join(ALL_WORKLOADS))
    ap.add_argument("--out", default="results-torch.json")
    ap.add_argument("--w4-epochs", type=int, default=3)
    ap.add_argument("--epochs", type=int, help="epochs of W3/W3C and W4/W4C (default 5 and --w4-epochs); for checks")
    ap.add_argument("--max-steps", type=int, help="end each W3/W4 epoch after N steps: only to check that it runs")
    ap.add_argument("--inductor-cache", action="store_true",
                    help="W3C/W4C/W7C: keep inductor's on-disk cache (default: a fresh one per run, compiling cold)")
    ap.add_argument("--w1-backend", help=argparse.SUPPRESS)
    ap.add_argument("--w1-sizes", default="256,1024,2048", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = tuple(int(s) for s in args.w1_sizes.split(","))

    if args.w1_backend:  # child process for W1
        for r in w1_backend(args.w1_backend, sizes):
            print(json.dumps(r), flush=True)
        return

    only = set(args.only.upper().split(","))
    unknown = only - set(ALL_WORKLOADS)
    if unknown:
        sys.exit(f"bench_torch.py: unknown workloads {sorted(unknown)}; choose from {','.join(ALL_WORKLOADS)}")
    cold = None
    if only & {"W3C", "W4C", "W7C"} and not args.inductor_cache:
        # Before torch is imported: inductor keeps compiled graphs and kernels in a cache that outlives the process,
        # so a second run would skip most of its compile. A fresh cache per run measures the compile a new program
        # pays, as Nabla's and JAX's (no persistent cache by default) are.
        cold = os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-torch-inductor-")
        atexit.register(shutil.rmtree, cold, True)
    t_start = time.perf_counter()
    m = meta()
    m["inductor_cache"] = "fresh per run" if cold else os.environ.get("TORCHINDUCTOR_CACHE_DIR", "default (kept)")
    log(json.dumps(m))
    if "W1" in only:
        run_w1(sizes)
    if "W2" in only:
        run_w2()
    data = None
    if only & {"W3", "W3C", "W4", "W4C", "W5", "W6"}:
        t0 = time.perf_counter()
        data = load_fashion_mnist()
        log(f"loaded Fashion-MNIST in {time.perf_counter()-t0:.2f}s")
    w3_epochs = args.epochs or 5
    w4_epochs = args.epochs or args.w4_epochs
    if "W3" in only:
        run_w3(data, epochs=w3_epochs, max_steps=args.max_steps)
    if "W3C" in only:
        run_w3(data, epochs=w3_epochs, compiled=True, max_steps=args.max_steps)
    if "W4" in only or "W6" in only:
        model, Xte = run_w4(data, epochs=w4_epochs if "W4" in only else 1, max_steps=args.max_steps)
        if "W6" in only:
            run_w6(model, Xte)
    if "W4C" in only:
        run_w4(data, epochs=w4_epochs, compiled=True, max_steps=args.max_steps)
    if "W5" in only:
        run_w5(data)
    if "W7" in only:
        run_w7()
    if "W7C" in only:
        run_w7(compiled=True)
    if "W8" in only:
        run_w8()
    write_results(args.out, m, t_start)


if __name__ == "__main__":
    main()
