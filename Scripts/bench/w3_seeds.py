"""W3 (the MLP of ../shared/bench/WORKLOADS.md) in PyTorch over several seeds, to see how much the test
accuracy after 5 epochs varies with the seed alone. Reuses bench_torch.py's data loader and training loop.

    ~/torch-venv/bin/python Scripts/bench/w3_seeds.py [SEEDS...]      (default: seeds 0 1 2 3 4)

Nabla's side: .build/release/nabla-bench W3 --seed N for the same seeds (different random streams, so
compare the spread, not seed by seed).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "bench"))
import bench_torch as bt  # noqa: E402

seeds = [int(s) for s in sys.argv[1:]] or [0, 1, 2, 3, 4]
torch = bt.get_torch()
xtr, ytr, xte, yte = bt.load_fashion_mnist()
Xtr, Xte = torch.from_numpy(xtr.reshape(-1, 784).copy()), torch.from_numpy(xte.reshape(-1, 784).copy())
Ytr, Yte = torch.from_numpy(ytr), torch.from_numpy(yte)
nn = torch.nn
for seed in seeds:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    eps = bt.train_epochs("W3", model, Xtr, Ytr, Xte, Yte, epochs=5, seed=seed)
    print(f"seed {seed}: " + " ".join(f"{e['test_acc']:.4f}" for e in eps), flush=True)
