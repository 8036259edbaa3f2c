"""W3 (the MLP), W4 (the CNN) or W5 (the LSTM) of Benchmarks/WORKLOADS.md in PyTorch over several seeds, to see how
much the final test accuracy (after 5 epochs for W3, 3 for W4, 1 for W5) varies with the seed alone. Reuses
bench_torch.py's data loader, models and training loop.

    ~/torch-venv/bin/python Scripts/bench/seeds.py W3|W4|W5 [SEEDS...]      (default: seeds 0 1 2 3 4)

Nabla's side: .build/release/nabla-bench W3 --seed N (or W4, W5) for the same seeds (W3 and W4 start from PyTorch's
weights and batch order for the seed; W5 from its own, so compare the spread, not seed by seed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench_torch as bt  # noqa: E402

SHAPES = {"W3": (-1, 784), "W4": (-1, 1, 28, 28), "W5": (-1, 28, 28)}
MODELS = {"W3": bt.make_mlp, "W4": bt.CNN.make, "W5": bt.make_lstm}
EPOCHS = {"W3": 5, "W4": 3, "W5": 1}
if len(sys.argv) < 2 or sys.argv[1] not in SHAPES:
    sys.exit("usage: seeds.py W3|W4|W5 [SEEDS...]")
workload = sys.argv[1]
seeds = [int(s) for s in sys.argv[2:]] or [0, 1, 2, 3, 4]
torch = bt.get_torch()
Xtr, Ytr, Xte, Yte = bt.fashion_tensors(bt.load_fashion_mnist(), SHAPES[workload])
for seed in seeds:
    torch.manual_seed(seed)
    model = MODELS[workload]()
    eps = bt.train_epochs(workload, model, Xtr, Ytr, Xte, Yte, epochs=EPOCHS[workload], seed=seed)
    print(f"seed {seed}: " + " ".join(f"{e['test_acc']:.4f}" for e in eps), flush=True)
