#!/usr/bin/env python3
"""The GEMM floor of a training step: the time the system OpenBLAS (the library Nabla links) needs for the step's
matrix products alone, shape by shape, on this machine, now.

    python3 Scripts/bench/gemm_floor.py W7 [--repeats 7]
    python3 Scripts/bench/gemm_floor.py W3

For W3 (the MLP 784 → 512 → 256 → 10 at batch 128) the products of one step are the three layers' forward, their
weight gradients and the input gradients of layers 2 and 3 (the images need none); the floor is printed per step and
as samples/s. A product "at 2 threads" counts the better of OpenBLAS's own 2-thread split and half its 1-thread time
(two halves on the two cores), which is the faster for small products. For W7 (one TransformerEncoderLayer(256, 4 heads, ff 1024) on [32, 128, 256], forward, backward and Adam) it lists
every product of the step with the layout Nabla calls it in: the linear layers' products at 2 threads, and
attention's per-(batch, head) products single-threaded, as Nabla's fused attention runs them, two at a time on the
two cores (so their time is halved). The input needs no gradient, so in_proj has no input-gradient product. The sum
is a lower bound on the step's time with this GEMM: everything else (softmax, LayerNorm, Adam, element-wise work)
adds to it. The median of `--repeats` calls per shape; each shape's GFLOP/s is printed too.

Only the standard library and ctypes; needs Debian's libopenblas0 (`libopenblas.so.0`). Not part of `make test`.
"""
import argparse
import array
import ctypes
import statistics
import sys
import time

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def load_openblas():
    for name in ("libopenblas.so.0", "libopenblas.so"):
        try:
            lib = ctypes.CDLL(name)
            lib.cblas_sgemm.restype = None
            lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except OSError:
            continue
    sys.exit("gemm_floor: libopenblas.so.0 not found (apt-get install libopenblas0)")


def buffer(n):
    """A float32 buffer of n elements, filled with small values (no denormals)."""
    a = array.array("f", [((i * 37) % 101) / 101.0 - 0.5 for i in range(min(n, 4096))])
    full = (ctypes.c_float * n)()
    chunk = (ctypes.c_float * len(a)).from_buffer(a)
    for start in range(0, n, len(a)):
        count = min(len(a), n - start)
        ctypes.memmove(ctypes.byref(full, start * 4), chunk, count * 4)
    return full


def time_gemm(lib, m, n, k, ta, tb, threads, repeats):
    """Median seconds of one `C[m, n] = op(A) op(B)` call (row-major, alpha 1, beta 0)."""
    lib.openblas_set_num_threads(threads)
    a, b, c = buffer(m * k), buffer(k * n), buffer(m * n)
    lda = m if ta else k
    ldb = k if tb else n
    args = (ROW_MAJOR, TRANS if ta else NO_TRANS, TRANS if tb else NO_TRANS, m, n, k, ctypes.c_float(1.0), a, lda, b, ldb,
            ctypes.c_float(0.0), c, n)
    lib.cblas_sgemm(*args)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lib.cblas_sgemm(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def w7_products():
    """(what, m, n, k, transA, transB, threads, count, parallel) for every product of a W7 step."""
    t, d, ff, heads, length, batch = 4096, 256, 1024, 4, 128, 32
    hd, pairs = d // heads, batch * heads
    linear = [
        # forward: y[t, out] = x[t, in] · W[out, in]ᵀ
        ("in_proj forward", t, 3 * d, d, False, True),
        ("out_proj forward", t, d, d, False, True),
        ("linear1 forward", t, ff, d, False, True),
        ("linear2 forward", t, d, ff, False, True),
        # backward: dX[t, in] = dY[t, out] · W[out, in]; dW[out, in] = dY[t, out]ᵀ · X[t, in]
        ("linear2 dX", t, ff, d, False, False), ("linear2 dW", d, ff, t, True, False),
        ("linear1 dX", t, d, ff, False, False), ("linear1 dW", ff, d, t, True, False),
        ("out_proj dX", t, d, d, False, False), ("out_proj dW", d, d, t, True, False),
        ("in_proj dW", 3 * d, d, t, True, False),
    ]
    rows = [(w, m, n, k, ta, tb, 2, 1, 1) for (w, m, n, k, ta, tb) in linear]
    attention = [
        ("attention q·kᵀ", length, length, hd, False, True), ("attention p·v", length, hd, length, False, False),
        ("attention dP = dO·vᵀ", length, length, hd, False, True), ("attention dV = pᵀ·dO", length, hd, length, True, False),
        ("attention dQ = dS·k", length, hd, length, False, False), ("attention dK = dSᵀ·q", length, hd, length, True, False),
    ]
    rows += [(w, m, n, k, ta, tb, 1, pairs, 2) for (w, m, n, k, ta, tb) in attention]
    return rows


def w3_products():
    """(what, m, n, k, transA, transB, threads, count, parallel) for every product of a W3 step (batch 128)."""
    b, layers = 128, [(784, 512), (512, 256), (256, 10)]
    rows = []
    for i, (fin, fout) in enumerate(layers):
        rows.append((f"layer {i + 1} forward", b, fout, fin, False, True, 2, 1, 1))
        rows.append((f"layer {i + 1} dW", fout, fin, b, True, False, 2, 1, 1))
        if i > 0:
            rows.append((f"layer {i + 1} dX", b, fin, fout, False, False, 2, 1, 1))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=["W3", "W7"])
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    lib = load_openblas()
    total, flop = 0.0, 0.0
    print(f"{'product':<24} {'m':>5} {'n':>5} {'k':>5} {'calls':>5} {'ms':>8} {'GFLOP/s':>8}")
    for what, m, n, k, ta, tb, threads, count, parallel in (w7_products() if a.workload == "W7" else w3_products()):
        s = time_gemm(lib, m, n, k, ta, tb, threads, a.repeats)
        if threads == 2:
            # Two single-threaded halves on the two cores, when that is faster than OpenBLAS's own split (small
            # products): the floor takes the better of the two.
            s = min(s, time_gemm(lib, m, n, k, ta, tb, 1, a.repeats) / 2)
        step = s * count / parallel
        total += step
        flop += 2.0 * m * n * k * count
        print(f"{what:<24} {m:>5} {n:>5} {k:>5} {count:>5} {step * 1e3:>8.3f} {2.0 * m * n * k / s / 1e9:>8.1f}")
    print(f"GEMM floor of one {a.workload} step: {total * 1e3:.1f} ms for {flop / 1e9:.2f} GFLOP "
          f"({flop / total / 1e9:.0f} GFLOP/s over the step's products)")
    if a.workload == "W3":
        print(f"at most {128 / total:,.0f} samples/s from the products alone (batch 128)")


if __name__ == "__main__":
    main()
