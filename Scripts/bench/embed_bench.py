"""Sentence-embedding speed: `nabla embed` (eager) and `nabla embed --compile` against sentence-transformers on
all-MiniLM-L6-v2, same sentences,
2 threads (torch.set_num_threads(2); Nabla uses one thread per core), batch 32. Needs a venv outside the tree with sentence-transformers (e.g. ~/torch-venv), `make models`
and the release build (`swift build -c release`).

    ~/torch-venv/bin/python Scripts/bench/embed_bench.py [N_SENTENCES [LENGTH_MULTIPLE]]     (default 512, 4)

Prints embeddings/s for the three (encode time only, model loading excluded, compiling included for --compile; best
of 4 interleaved rounds), the ratios, and the worst cosine between each Nabla set of embeddings and sentence-transformers'.

Then the roof: the FLOPs of the benchmark (the encoder's linear layers, 2 x 1 769 472 x 6 = 21.2 MFLOP per token, and
attention's two batched products, 2 x 2 x 384 x L per token and layer), counted on the real tokens and on the padded
batches each path runs (sentence-transformers sorts by characters, Nabla by tokens, compiled pads to the bucket); the
GFLOP/s each path reaches; and the GEMM roof of the same machine: the system OpenBLAS's `cblas_sgemm` (the library
Nabla links) at 2 threads on the encoder's three product shapes at 800 rows (32 sentences of 25 tokens), weight
transposed as a linear layer reads it, median of 7.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, ".build", "models", "all-MiniLM-L6-v2")
NABLA = os.path.join(ROOT, ".build", "release", "nabla")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 512
MULTIPLE = sys.argv[2] if len(sys.argv) > 2 else "4"

words = ("the quick brown fox jumps over a lazy dog while students learn deep learning with swift and python "
         "on small machines every morning before coffee in zürich beijing 北京 and são paulo").split()
rng = np.random.default_rng(0)
sentences = [" ".join(rng.choice(words, size=int(rng.integers(4, 40)))) for _ in range(N)]

torch.set_num_threads(2)
st = SentenceTransformer(MODEL, device="cpu")
st.encode(sentences[:64], batch_size=32)
ROUNDS = 4
best = {"st": float("inf"), "eager": float("inf"), "compiled": float("inf")}
got = {}
compiled_note = ""


def run_nabla(inp, out, extra):
    r = subprocess.run([NABLA, "embed", "--model", MODEL, "--input", inp, "--output", out, "--batch-size", "32"] + extra,
                       capture_output=True, text=True, check=True)
    m = re.search(r"Encoded in ([0-9.]+) s", r.stdout)
    note = re.search(r"Compiled .*", r.stdout)
    return float(m.group(1)), (note.group(0) if note else "")


with tempfile.TemporaryDirectory() as d:
    inp = os.path.join(d, "s.txt")
    with open(inp, "w") as f:
        f.write("\n".join(sentences) + "\n")
    # Interleaved rounds, best of each: the machine may be shared, so all three see the same load.
    for _ in range(ROUNDS):
        t = time.perf_counter()
        ref = st.encode(sentences, batch_size=32, convert_to_numpy=True)
        best["st"] = min(best["st"], time.perf_counter() - t)
        for key, extra in (("eager", []), ("compiled", ["--compile", "--length-multiple", MULTIPLE])):
            out = os.path.join(d, key + ".npy")
            secs, note = run_nabla(inp, out, extra)
            best[key] = min(best[key], secs)
            if note:
                compiled_note = note
        for key in ("eager", "compiled"):
            got[key] = np.load(os.path.join(d, key + ".npy"))


def worst_cosine(a):
    return ((a * ref).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(ref, axis=1))).min()


print(f"sentences: {N}, batch 32, compiled lengths in multiples of {MULTIPLE}, torch threads {torch.get_num_threads()}, torch {torch.__version__}")
print(f"sentence-transformers: {N / best['st']:.1f} embeddings/s ({best['st']:.3f} s)")
print(f"nabla embed:           {N / best['eager']:.1f} embeddings/s ({best['eager']:.3f} s)")
print(f"nabla embed --compile: {N / best['compiled']:.1f} embeddings/s ({best['compiled']:.3f} s; {compiled_note})")
print(f"ratio nabla / sentence-transformers: eager {best['st'] / best['eager']:.2f}x, compiled {best['st'] / best['compiled']:.2f}x; "
      f"compiled / eager {best['eager'] / best['compiled']:.2f}x")
print(f"worst cosine against sentence-transformers: eager {worst_cosine(got['eager']):.6f}, "
      f"compiled {worst_cosine(got['compiled']):.6f}")

# ----------------------------------------------------------------------------------------------------------- roof
LINEAR_FLOP_PER_TOKEN = 2 * 6 * (4 * 384 * 384 + 2 * 384 * 1536)      # 21.2 MFLOP
ATTENTION_FLOP = 2 * 2 * 384 * 6                                        # x tokens x length, per sequence


def seq_flop(rows, length):
    """FLOPs of `rows` sequences run at `length` tokens each."""
    return rows * (LINEAR_FLOP_PER_TOKEN * length + ATTENTION_FLOP * length * length)


lengths = [len(ids) for ids in st.tokenizer(sentences, truncation=True, max_length=st.max_seq_length)["input_ids"]]
useful = sum(seq_flop(1, n) for n in lengths)


def padded(order, bucket):
    total, tokens = 0, 0
    for k in range(0, N, 32):
        batch = [lengths[i] for i in order[k:k + 32]]
        width = bucket(max(batch))
        total += seq_flop(len(batch), width)
        tokens += len(batch) * width
    return total, tokens


st_order = np.argsort([-len(s) for s in sentences], kind="stable")
nabla_order = sorted(range(N), key=lambda i: -lengths[i])
mult = int(MULTIPLE)
st_flop, st_tokens = padded(st_order, lambda n: n)
eager_flop, eager_tokens = padded(nabla_order, lambda n: n)
comp_flop, comp_tokens = padded(nabla_order, lambda n: min(-(-n // mult) * mult, st.max_seq_length))
print(f"tokens: {sum(lengths)} real ({sum(lengths) / N:.1f} per sentence); run padded: sentence-transformers {st_tokens}, "
      f"eager {eager_tokens}, compiled {comp_tokens}")
print(f"GFLOP: useful {useful / 1e9:.2f}; as run: sentence-transformers {st_flop / 1e9:.2f}, eager {eager_flop / 1e9:.2f}, "
      f"compiled {comp_flop / 1e9:.2f}")
for key, flop in (("st", st_flop), ("eager", eager_flop), ("compiled", comp_flop)):
    print(f"  {key:9s}: {flop / best[key] / 1e9:6.1f} GFLOP/s as run, {useful / best[key] / 1e9:6.1f} GFLOP/s useful")


def gemm_roof():
    import ctypes
    import statistics
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
    except OSError as e:
        print(f"GEMM roof: no system OpenBLAS ({e})")
        return
    lib.openblas_set_num_threads(2)
    f = ctypes.c_float
    for m, k, n in ((800, 384, 384), (800, 384, 1536), (800, 1536, 384)):
        a = rng.standard_normal((m, k), dtype=np.float32)
        w = rng.standard_normal((n, k), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        pa, pw, pc = (x.ctypes.data_as(ctypes.c_void_p) for x in (a, w, c))
        call = lambda: lib.cblas_sgemm(101, 111, 112, m, n, k, f(1.0), pa, k, pw, k, f(0.0), pc, n)  # C = A W^T
        call()
        reps = max(1, int(0.05 / max(1e-6, (lambda t: (call(), time.perf_counter() - t)[1])(time.perf_counter()))))
        samples = []
        for _ in range(7):
            t = time.perf_counter()
            for _ in range(reps):
                call()
            samples.append((time.perf_counter() - t) / reps)
        print(f"GEMM roof, OpenBLAS cblas_sgemm 2 threads, {m}x{k}x{n} (x W^T): {2 * m * k * n / statistics.median(samples) / 1e9:.1f} GFLOP/s")


gemm_roof()
