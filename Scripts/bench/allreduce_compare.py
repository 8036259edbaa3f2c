#!/usr/bin/env python3
"""All-reduce (sum) of 1, 25 and 100 MB float32 between 2 processes on this machine: Nabla against
torch.distributed's gloo backend, in one sitting, alternating the implementations round after round.

Each round runs, in this order:
  - nabla-ring: `mpirun -np 2 nabla-ddp-check bandwidth` (NABLA_ALLREDUCE=auto: Nabla's ring from 256 KB up)
  - nabla-mpi:  the same with NABLA_ALLREDUCE=mpi (Open MPI's MPI_Allreduce for every size: Nabla before the ring)
  - torch-gloo: `python Scripts/bench/ddp_torch.py allreduce`
Nabla's ranks keep Open MPI's default binding for 2 ranks (`--bind core`: each bound to one core, as in the tests);
`--bind none` runs them unbound, as torch.multiprocessing starts gloo's processes (on a machine shared with other
work, binding ties each rank to one busy core; unbound, the two ranks may share one).
Each run reports the median of 7 calls (each after a barrier, after one warm-up call). The table gives, per size,
the median over the rounds [min-max] and Nabla's speed over gloo (gloo's time / Nabla's, above 1 is faster).

Run it with the Python of a virtual environment outside the repository that has torch, after a release build:
    swift build -c release --product nabla-ddp-check
    ~/torch-venv/bin/python Scripts/bench/allreduce_compare.py --rounds 5 [--json results.json]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZES = (1, 25, 100)
LINE = re.compile(r"allReduce (\d+) MB float32: ([0-9.]+) ms")


def run_nabla(check, algorithm, bind, timeout):
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_btl", "self,vader,tcp")   # no InfiniBand probing in containers
    env.setdefault("PMIX_MCA_gds", "hash")
    with tempfile.TemporaryDirectory(prefix="nabla-allreduce-") as session:
        env["OMPI_MCA_orte_tmpdir_base"] = session
        out = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2",
                              "--bind-to", bind, "-x", f"NABLA_ALLREDUCE={algorithm}", check, "bandwidth"],
                             env=env, capture_output=True, text=True, timeout=timeout)
    times = {int(m.group(1)): float(m.group(2)) for m in LINE.finditer(out.stdout)}
    if out.returncode != 0 or sorted(times) != list(SIZES):
        sys.exit(f"nabla-ddp-check bandwidth ({algorithm}) failed:\n{out.stdout}\n{out.stderr}")
    return times


def run_torch(timeout):
    script = os.path.join(ROOT, "Scripts", "bench", "ddp_torch.py")
    out = subprocess.run([sys.executable, script, "allreduce"], capture_output=True, text=True, timeout=timeout)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    if out.returncode != 0 or not lines:
        sys.exit(f"ddp_torch.py allreduce failed:\n{out.stdout}\n{out.stderr}")
    return {r["mb"]: r["ms_median"] for r in json.loads(lines[-1])["results"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--check", default=os.path.join(ROOT, ".build", "release", "nabla-ddp-check"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--bind", choices=["none", "core"], default="core", help="mpirun --bind-to for Nabla's ranks")
    ap.add_argument("--json", help="also write every run's medians to this file")
    args = ap.parse_args()
    runs = {"nabla-ring": [], "nabla-mpi": [], "torch-gloo": []}
    for r in range(args.rounds):
        runs["nabla-ring"].append(run_nabla(args.check, "auto", args.bind, args.timeout))
        runs["nabla-mpi"].append(run_nabla(args.check, "mpi", args.bind, args.timeout))
        runs["torch-gloo"].append(run_torch(args.timeout))
        print(f"round {r + 1}: " + "; ".join(
            f"{impl} " + " ".join(f"{mb} MB {t[mb]:.2f} ms" for mb in SIZES) for impl, ts in runs.items() for t in ts[-1:]),
            file=sys.stderr, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": os.getloadavg(), "bind": args.bind, "runs": runs}, f, indent=1)

    def cell(impl, mb):
        ts = [t[mb] for t in runs[impl]]
        return statistics.median(ts), min(ts), max(ts)

    print(f"| all-reduce (2 processes) | torch gloo, ms | Nabla ring (auto), ms | Nabla MPI_Allreduce, ms "
          f"| ring's speed over gloo | MPI_Allreduce's speed over gloo |")
    print("|---|---|---|---|---|---|")
    for mb in SIZES:
        g, n, m = cell("torch-gloo", mb), cell("nabla-ring", mb), cell("nabla-mpi", mb)
        fmt = lambda c: f"{c[0]:.3g} [{c[1]:.3g}–{c[2]:.3g}]"
        print(f"| {mb} MB | {fmt(g)} | {fmt(n)} | {fmt(m)} | {g[0] / n[0]:.2f}× | {g[0] / m[0]:.2f}× |")
    print(f"({args.rounds} rounds, Nabla's ranks bound to {args.bind}; load average at the end {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
