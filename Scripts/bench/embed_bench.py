"""Sentence-embedding speed: `nabla embed` against sentence-transformers on all-MiniLM-L6-v2, same sentences,
2 threads (torch.set_num_threads(2); Nabla uses one thread per core), batch 32. Needs a venv outside the tree with sentence-transformers (e.g. ~/torch-venv), `make models`
and the release build (`swift build -c release`).

    ~/torch-venv/bin/python Scripts/bench/embed_bench.py [N_SENTENCES]     (default 512)

Prints embeddings/s for both (encode time only, model loading excluded; best of 4 interleaved rounds) and the worst cosine
between the two sets of embeddings.
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

words = ("the quick brown fox jumps over a lazy dog while students learn deep learning with swift and python "
         "on small machines every morning before coffee in zürich beijing 北京 and são paulo").split()
rng = np.random.default_rng(0)
sentences = [" ".join(rng.choice(words, size=int(rng.integers(4, 40)))) for _ in range(N)]

torch.set_num_threads(2)
st = SentenceTransformer(MODEL, device="cpu")
st.encode(sentences[:64], batch_size=32)
ROUNDS = 4
best_st = best_nabla = float("inf")
with tempfile.TemporaryDirectory() as d:
    inp, out = os.path.join(d, "s.txt"), os.path.join(d, "e.npy")
    with open(inp, "w") as f:
        f.write("\n".join(sentences) + "\n")
    # Interleaved rounds, best of each: the machine may be shared, so both sides see the same load.
    for _ in range(ROUNDS):
        t = time.perf_counter()
        ref = st.encode(sentences, batch_size=32, convert_to_numpy=True)
        best_st = min(best_st, time.perf_counter() - t)
        r = subprocess.run([NABLA, "embed", "--model", MODEL, "--input", inp, "--output", out, "--batch-size", "32"],
                           capture_output=True, text=True, check=True)
        m = re.search(r"Encoded in ([0-9.]+) s", r.stdout)
        best_nabla = min(best_nabla, float(m.group(1)))
    got = np.load(out)

cos = (got * ref).sum(1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(ref, axis=1))
print(f"sentences: {N}, batch 32, torch threads {torch.get_num_threads()}, torch {torch.__version__}")
print(f"sentence-transformers: {N / best_st:.1f} embeddings/s ({best_st:.3f} s)")
print(f"nabla embed:           {N / best_nabla:.1f} embeddings/s ({best_nabla:.3f} s)")
print(f"ratio nabla / sentence-transformers: {best_st / best_nabla:.2f}x; worst cosine {cos.min():.6f}")
