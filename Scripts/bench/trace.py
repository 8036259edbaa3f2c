"""PyTorch's loss over the first N training steps of W3, W4 or W5 (Benchmarks/WORKLOADS.md), seeded as
bench_torch.py seeds them, to set beside Nabla's from the same draws:

    ~/torch-venv/bin/python Scripts/bench/trace.py W4 [N] [SEED]
    .build/release/nabla-bench W4 --epochs 1 --trace N --seed SEED      (prints "# W4 step k loss v")

With PyTorch's random streams (nabla-bench's default engine) both sides start from the same weights and see the
same batches, so the two columns differ only by float rounding: where they drift apart, and how fast, shows how
much rounding alone moves the recipe.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bench_torch as bt  # noqa: E402

if len(sys.argv) < 2 or sys.argv[1] not in ("W3", "W4", "W5"):
    sys.exit("usage: trace.py W3|W4|W5 [STEPS] [SEED]")
workload = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch = bt.get_torch()
nn = torch.nn
F = torch.nn.functional
xtr, ytr, _, _ = bt.load_fashion_mnist()
shape = {"W3": (-1, 784), "W4": (-1, 1, 28, 28), "W5": (-1, 28, 28)}[workload]
X, Y = torch.from_numpy(xtr.reshape(shape).copy()), torch.from_numpy(ytr)


class LSTMNet(nn.Module):
    """bench_torch.py's W5 model."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


torch.manual_seed(seed)
if workload == "W3":
    model = bt.make_mlp()
elif workload == "W4":
    model = bt.CNN.make()
else:
    model = LSTMNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(seed)
n, batch, step = X.shape[0], 128, 0
while step < steps:
    perm = torch.randperm(n, generator=g)
    for i in range(0, n, batch):
        if step >= steps:
            break
        idx = perm[i : i + batch]
        loss = F.cross_entropy(model(X[idx]), Y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        print(f"# {workload} step {step} loss {loss.item()}", flush=True)
        step += 1
