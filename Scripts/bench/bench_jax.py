#!/usr/bin/env python3
"""JAX peer for Nabla's compiled training steps: W3, W4 and W7 of Benchmarks/WORKLOADS.md, each training step
(forward, backward and Adam) one `jax.jit` function with the parameters and optimizer state donated.

Run it in a virtual environment outside the repository (pip install "jax[cpu]" numpy optax):
    python bench_jax.py                          # W3 and W7 (impl "jax-jit", workload "W3", "W7")
    python bench_jax.py --only W3,W4,W7 --out results-jax.json
    python bench_jax.py --only W3 --epochs 1 --max-steps 50      # a check that it runs, not a measurement

Same JSON as bench_torch.py and nabla-bench: {"meta": {...}, "results": [...]}, one line per workload on stdout.

- W3: the MLP 784-512-ReLU-256-ReLU-10, softmax cross-entropy, Adam (optax.adam: lr 1e-3, betas 0.9/0.999, eps 1e-8,
  PyTorch's defaults), batches of 128 reshuffled every epoch (numpy's permutation, seeded), last partial batch kept,
  5 epochs. Data loading is part of the step as in bench_torch.py's loop: the training set lives on the device and
  each step gathers its 128 rows by index inside the jitted function. The jit compiles (for 128 rows and for the last
  batch of 96) fall in epoch 1; the median is over all epochs, as nabla-bench and bench_torch.py take it, and
  `compile_seconds` is epoch 1 minus the median of the later epochs.
- W4: the CNN (NHWC, lax.conv_general_dilated and reduce_window max-pooling), same loop, 3 epochs.
- W7: a post-norm Transformer encoder layer (d_model 256, 4 heads, feed-forward 1024, ReLU, LayerNorm eps 1e-5,
  dropout 0) written with jax.numpy, on randn(32, 128, 256); loss mean(out^2); forward, backward and Adam in one jit;
  ms per step, the median of 20 after 3 warm-up steps (the first of which compiles); `compile_seconds` is the
  warm-up's time beyond 3 median steps.
Initial weights follow PyTorch's default distributions (uniform ±1/sqrt(fan_in); attention in-projection Xavier
uniform), drawn from numpy with seed 0, not PyTorch's draws.

Threads: two, like bench_torch.py's torch.set_num_threads(2). XLA's CPU client sizes its intra-op pool (the threads
named "tf_XLAEigen") from the CPUs the process may run on, so this script restricts itself to the first two of them
(os.sched_setaffinity, what `taskset -c 0,1` does) before jax is imported: checked with jaxlib 0.10.2 by counting
the threads by name, 2 on a 2-CPU machine and 1 under `taskset -c 0`. The often-quoted
`XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=N"` does not set the pool's size: the
bare `intra_op_parallelism_threads=N` is ignored (with N=1 the pool still had 2 threads on 2 CPUs) and
`--intra_op_parallelism_threads` is an unknown flag that aborts; whether `--xla_cpu_multi_thread_eigen=false` makes
the kernels run on one thread was not measured (the machine was loaded). `--threads N` changes the count; meta
reports the CPUs and the pool's thread count.
"""
import argparse
import json
import math
import os
import sys
import time

THREADS = 2


def restrict_cpus(n):
    """Lets this process run on its first `n` allowed CPUs only (before jax starts its thread pools)."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) > n:
        os.sched_setaffinity(0, allowed[:n])
    return sorted(os.sched_getaffinity(0))


if __name__ == "__main__":  # before jax is imported: its CPU client sizes its pools from the allowed CPUs
    _pre = argparse.ArgumentParser(add_help=False)
    _pre.add_argument("--threads", type=int, default=THREADS)
    restrict_cpus(max(1, _pre.parse_known_args()[0].threads))

import numpy as np  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax import lax  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import cpu_model, emit, epochs_result, load_fashion_mnist, log, w7_result, write_results  # noqa: E402

JIT = "; whole step under jax.jit (donated params and Adam state), optax.adam"


def uniform(rng, shape, bound):
    return jnp.asarray(rng.uniform(-bound, bound, size=shape).astype(np.float32))


def linear_params(rng, fan_in, fan_out):
    """PyTorch's nn.Linear initialisation (weight and bias uniform in ±1/sqrt(fan_in)), weight as [in, out]."""
    b = 1 / math.sqrt(fan_in)
    return {"w": uniform(rng, (fan_in, fan_out), b), "b": uniform(rng, (fan_out,), b)}


def linear(p, x):
    return x @ p["w"] + p["b"]


# --------------------------------------------------------------------------- models
def mlp_params(rng):
    return [linear_params(rng, 784, 512), linear_params(rng, 512, 256), linear_params(rng, 256, 10)]


def mlp(params, x):
    """W3: 784 -> 512 -> ReLU -> 256 -> ReLU -> 10."""
    h = jax.nn.relu(linear(params[0], x))
    h = jax.nn.relu(linear(params[1], h))
    return linear(params[2], h)


def conv_params(rng, cin, cout, k=3):
    """PyTorch's nn.Conv2d initialisation, kernel as HWIO."""
    b = 1 / math.sqrt(cin * k * k)
    return {"w": uniform(rng, (k, k, cin, cout), b), "b": uniform(rng, (cout,), b)}


def conv_relu_pool(p, x):
    """Conv 3x3 (padding 1) -> ReLU -> MaxPool 2x2 on NHWC."""
    y = lax.conv_general_dilated(x, p["w"], (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC"))
    y = jax.nn.relu(y + p["b"])
    return lax.reduce_window(y, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def cnn_params(rng):
    return [conv_params(rng, 1, 32), conv_params(rng, 32, 64), linear_params(rng, 3136, 128), linear_params(rng, 128, 10)]


def cnn(params, x):
    """W4: conv32 -> ReLU -> pool -> conv64 -> ReLU -> pool -> flatten -> 128 -> ReLU -> 10, on [N, 28, 28, 1]."""
    h = conv_relu_pool(params[1], conv_relu_pool(params[0], x))
    h = jax.nn.relu(linear(params[2], h.reshape(h.shape[0], -1)))
    return linear(params[3], h)


def encoder_params(rng, d=256, ff=1024):
    xavier = math.sqrt(6 / (d + 3 * d))
    return {
        "in": {"w": uniform(rng, (d, 3 * d), xavier), "b": jnp.zeros(3 * d, jnp.float32)},
        "out": {"w": uniform(rng, (d, d), 1 / math.sqrt(d)), "b": jnp.zeros(d, jnp.float32)},
        "ln1": {"g": jnp.ones(d, jnp.float32), "b": jnp.zeros(d, jnp.float32)},
        "ff1": linear_params(rng, d, ff), "ff2": linear_params(rng, ff, d),
        "ln2": {"g": jnp.ones(d, jnp.float32), "b": jnp.zeros(d, jnp.float32)},
    }


def layer_norm(p, x, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + eps) * p["g"] + p["b"]


def encoder_layer(p, x, heads=4):
    """PyTorch's TransformerEncoderLayer(batch_first, norm_first=False, ReLU, dropout 0) on [B, T, d]."""
    B, T, d = x.shape
    dh = d // heads
    q, k, v = jnp.split(linear(p["in"], x), 3, axis=-1)
    q, k, v = (t.reshape(B, T, heads, dh).transpose(0, 2, 1, 3) for t in (q, k, v))
    att = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh), axis=-1)
    a = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, d)
    x = layer_norm(p["ln1"], x + linear(p["out"], a))
    f = linear(p["ff2"], jax.nn.relu(linear(p["ff1"], x)))
    return layer_norm(p["ln2"], x + f)


# --------------------------------------------------------------------------- training
def make_classifier_step(model, opt):
    """One jitted training step on the batch `idx` of the device-resident training set (parameters and optimizer
    state donated)."""

    def loss_fn(params, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(model(params, xb), yb).mean()

    def step(params, opt_state, X, Y, idx):
        xb, yb = jnp.take(X, idx, axis=0), jnp.take(Y, idx, axis=0)
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step, donate_argnums=(0, 1))


def accuracy(model, params, X, Y, batch=1000):
    predict = jax.jit(lambda p, x: jnp.argmax(model(p, x), axis=-1))
    correct = sum(int((predict(params, X[i : i + batch]) == Y[i : i + batch]).sum()) for i in range(0, X.shape[0], batch))
    return correct / X.shape[0]


def train_classifier(name, model, params, data, shape, epochs, batch=128, seed=0, max_steps=None):
    """bench_torch.py's train_epochs in JAX: per-epoch records with seconds, samples/s and test accuracy."""
    xtr, ytr, xte, yte = data
    X, Y = jnp.asarray(xtr.reshape(shape)), jnp.asarray(ytr.astype(np.int32))
    Xte, Yte = jnp.asarray(xte.reshape(shape)), jnp.asarray(yte.astype(np.int32))
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)
    step = make_classifier_step(model, opt)
    shuffle = np.random.default_rng(seed)
    n, eps = X.shape[0], []
    for ep in range(epochs):
        t0 = time.perf_counter()
        perm = shuffle.permutation(n).astype(np.int32)
        steps, last_loss, first_step = 0, 0.0, None
        for i in range(0, n, batch):
            if max_steps and steps == max_steps:
                break
            params, opt_state, loss = step(params, opt_state, X, Y, perm[i : i + batch])
            steps += 1
            if ep == 0 and steps == 1:
                loss.block_until_ready()  # the first step, its compile included
                first_step = time.perf_counter() - t0
            if steps % 50 == 0:
                last_loss = float(loss)
        jax.block_until_ready(params)
        dt = time.perf_counter() - t0
        acc = accuracy(model, params, Xte, Yte)
        seen = min(n, steps * batch)
        rec = {"epoch": ep + 1, "seconds": dt, "samples": seen, "samples_per_s": seen / dt, "test_acc": acc,
               "last_logged_loss": last_loss, "steps": steps}
        if first_step is not None:
            rec["first_step_seconds"] = first_step
        eps.append(rec)
        log(f"{name} jax.jit epoch {ep+1}: {dt:.2f}s  {seen/dt:.0f} samples/s  test_acc={acc:.4f}")
    return eps


def run_w3(data, epochs=5, max_steps=None):
    params = mlp_params(np.random.default_rng(0))
    eps = train_classifier("W3", mlp, params, data, (-1, 784), epochs, max_steps=max_steps)
    emit(epochs_result("W3", True, f"MLP 784-512-256-10 ReLU, CE, Adam 1e-3, batch 128, {epochs} epochs" + JIT, eps,
                       impl="jax-jit"))


def run_w4(data, epochs=3, max_steps=None):
    params = cnn_params(np.random.default_rng(0))
    eps = train_classifier("W4", cnn, params, data, (-1, 28, 28, 1), epochs, max_steps=max_steps)
    emit(epochs_result("W4", True, f"CNN conv32-pool-conv64-pool-fc128-fc10 (NHWC), CE, Adam 1e-3, batch 128, "
                                   f"{epochs} epochs" + JIT, eps, impl="jax-jit"))


def run_w7():
    params = encoder_params(np.random.default_rng(0))
    opt = optax.adam(1e-3)
    opt_state = opt.init(params)

    def loss_fn(p, x):
        return (encoder_layer(p, x) ** 2).mean()

    def step(p, s, x):
        loss, grads = jax.value_and_grad(loss_fn)(p, x)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, loss

    step = jax.jit(step, donate_argnums=(0, 1))
    x = jnp.asarray(np.random.default_rng(0).standard_normal((32, 128, 256), dtype=np.float32))
    warmup, times = 3, []
    for _ in range(warmup + 20):
        t0 = time.perf_counter()
        params, opt_state, loss = step(params, opt_state, x)
        jax.block_until_ready((params, loss))
        times.append((time.perf_counter() - t0) * 1e3)
    r = w7_result("jax-jit", "post-norm Transformer encoder layer (256, 4 heads, ff 1024, ReLU, dropout 0) in "
                  "jax.numpy on randn(32,128,256); loss = mean(out^2); fwd+bwd+optax.adam in one jax.jit (donated "
                  "params and state); median of 20 after 3 warm-up (the first compiles)", times[:warmup],
                  times[warmup:], True)
    r["final_loss"] = float(loss)
    emit(r)


# --------------------------------------------------------------------------- main
def meta():
    import optax as _optax

    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "jaxlib": getattr(__import__("jaxlib"), "__version__", ""),
        "optax": _optax.__version__,
        "numpy": np.__version__,
        "devices": [str(d) for d in jax.devices()],
        "cpus": sorted(os.sched_getaffinity(0)),
        "xla_pool_threads": xla_pool_threads(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "compilation_cache_dir": getattr(jax.config, "jax_compilation_cache_dir", None),  # None: every run compiles
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
    }


def xla_pool_threads():
    """How many threads of XLA's intra-op pool ("tf_XLAEigen") this process has (after a first computation)."""
    jax.block_until_ready(jnp.ones((64, 64)) @ jnp.ones((64, 64)))
    names = []
    for t in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{t}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return sum(1 for n in names if "Eigen" in n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="W3,W7", help="comma-separated, from W3,W4,W7")
    ap.add_argument("--out", default="results-jax.json")
    ap.add_argument("--epochs", type=int, help="epochs of W3 and W4 (default 5 and 3)")
    ap.add_argument("--max-steps", type=int, help="end each W3/W4 epoch after N steps: only to check that it runs")
    ap.add_argument("--threads", type=int, default=THREADS, help="CPUs to run on (default 2)")
    args = ap.parse_args()
    only = {w.strip().upper() for w in args.only.split(",") if w.strip()}
    if only - {"W3", "W4", "W7"}:
        sys.exit(f"bench_jax.py: unknown workloads {sorted(only - {'W3', 'W4', 'W7'})}; choose from W3,W4,W7")
    t_start = time.perf_counter()
    m = meta()
    log(json.dumps(m))
    data = load_fashion_mnist() if only & {"W3", "W4"} else None
    if "W3" in only:
        run_w3(data, epochs=args.epochs or 5, max_steps=args.max_steps)
    if "W4" in only:
        run_w4(data, epochs=args.epochs or 3, max_steps=args.max_steps)
    if "W7" in only:
        run_w7()
    write_results(args.out, m, t_start)


if __name__ == "__main__":
    main()
