"""W3 (the MLP) or W4 (the CNN) of Benchmarks/WORKLOADS.md in PyTorch over several seeds, to see how much the
final test accuracy (after 5 epochs for W3, 3 for W4) varies with the seed alone. Reuses bench_torch.py's data
loader, models and training loop.

    ~/torch-venv/bin/python Scripts/bench/seeds.py W3|W4 [SEEDS...]      (default: seeds 0 1 2 3 4)

Nabla's side: .build/release/nabla-bench W3 --seed N (or W4) for the same seeds (different random streams, so
compare the spread, not seed by seed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench_torch as bt  # noqa: E402

if len(sys.argv) < 2 or sys.argv[1] not in ("W3", "W4"):
    sys.exit("usage: seeds.py W3|W4 [SEEDS...]")
workload = sys.argv[1]
seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2, 3, 4]
torch = bt.get_torch()
Xtr, Ytr, Xte, Yte = bt.fashion_tensors(bt.load_fashion_mnist(), (-1, 784) if workload == "W3" else (-1, 1, 28, 28))
for seed in seeds:
    torch.manual_seed(seed)
    model = bt.make_mlp() if workload == "W3" else bt.CNN.make()
    eps = bt.train_epochs(workload, model, Xtr, Ytr, Xte, Yte, epochs=5 if workload == "W3" else 3, seed=seed)
    print(f"seed {seed}: " + " ".join(f"{e['test_acc']:.4f}" for e in eps), flush=True)
