#!/usr/bin/env python3
"""PyTorch peer of `nabla-ddp-check w4bench` and `nabla-ddp-check bandwidth`: DistributedDataParallel and
torch.distributed all-reduce over the gloo backend, on one machine.

Run it in a virtual environment outside the repository (pip install torch), never in the tests:
    python Scripts/bench/ddp_torch.py w4 --world 2 --threads 1     # W4, 2 processes x 1 thread, global batch 128
    python Scripts/bench/ddp_torch.py w4 --world 1 --threads 2     # W4, 1 process x 2 threads, batch 128
    python Scripts/bench/ddp_torch.py allreduce                    # all-reduce of 1, 25 and 100 MB float32, 2 processes

The protocols match the Nabla side: W4's CNN (Benchmarks/WORKLOADS.md) on synthetic 28x28 images, Adam 1e-3,
global batch 128 split over the processes, median of --repeats timings of --steps steps after 5 warm-up steps;
all-reduce (sum) medians of 7 after one warm-up, each timed call preceded by a barrier. Prints one JSON line each.
"""
import argparse
import json
import os
import socket
import statistics
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def w4_model(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def worker(rank, args, port):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(args.threads)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=args.world)
    out = None
    if args.what == "w4":
        torch.manual_seed(0)
        model = w4_model(torch)
        net = torch.nn.parallel.DistributedDataParallel(model) if args.world > 1 else model
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        per_rank = 128 // args.world
        g = torch.Generator().manual_seed(rank)
        x = torch.randn(per_rank * 8, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (per_rank * 8,), generator=g)
        loss_fn = torch.nn.CrossEntropyLoss()

        def run(n):
            for k in range(n):
                rows = (k % 8) * per_rank
                opt.zero_grad()
                loss_fn(net(x[rows:rows + per_rank]), y[rows:rows + per_rank]).backward()
                opt.step()

        run(5)
        rates = []
        for _ in range(args.repeats):
            dist.barrier()
            t0 = time.perf_counter()
            run(args.steps)
            dist.barrier()
            rates.append(args.steps * 128 / (time.perf_counter() - t0))
        out = {"workload": "W4-ddp", "impl": "torch-ddp-gloo", "processes": args.world, "threads": args.threads,
               "global_batch": 128, "samples_per_s_median": statistics.median(rates), "samples_per_s": rates,
               "torch": torch.__version__}
    else:
        results = []
        for mb in (1, 25, 100):
            n = mb * (1 << 20) // 4
            t = torch.zeros(n, dtype=torch.float32)
            dist.all_reduce(t)
            times = []
            for _ in range(7):
                dist.barrier()
                t0 = time.perf_counter()
                dist.all_reduce(t)
                times.append(time.perf_counter() - t0)
            s = statistics.median(times)
            bus = 2 * (args.world - 1) / args.world * n * 4 / s / 1e9
            results.append({"mb": mb, "ms_median": s * 1e3, "bus_gb_per_s": bus})
        out = {"workload": "allreduce", "impl": "torch-gloo", "processes": args.world, "results": results,
               "torch": torch.__version__}
    if rank == 0:
        print(json.dumps(out), flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["w4", "allreduce"])
    ap.add_argument("--world", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import torch.multiprocessing as mp
    mp.spawn(worker, args=(args, free_port()), nprocs=args.world, join=True)


if __name__ == "__main__":
    main()
