"""Sentence-embedding speed: `nabla embed` (eager) and `nabla embed --compile` against sentence-transformers on
all-MiniLM-L6-v2, same sentences,
2 threads (torch.set_num_threads(2); Nabla uses one thread per core), batch 32. Needs a venv outside the tree with sentence-transformers (e.g. ~/torch-venv), `make models`
and the release build (`swift build -c release`).

    ~/torch-venv/bin/python Scripts/bench/embed_bench.py [N_SENTENCES [LENGTH_MULTIPLE]]     (default 512, 16)

Prints embeddings/s for the three (encode time only, model loading excluded, compiling included for --compile; best
of 4 interleaved rounds), the ratios, and the worst cosine between each Nabla set of embeddings and sentence-transformers'.
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
MULTIPLE = sys.argv[2] if len(sys.argv) > 2 else "16"

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
