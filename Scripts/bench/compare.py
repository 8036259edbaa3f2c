#!/usr/bin/env python3
"""Nabla against its peers, workload by workload, in one sitting (`make bench-compare`).

    python3 Scripts/bench/compare.py --nabla .build/release/nabla-bench [--workloads W2,W8] [--repeats 3]

For each workload in turn, each peer runs it and then Nabla does, `--repeats` times over (PyTorch, Nabla,
PyTorch, Nabla, ...), so that both sides see the same machine load. Every run's raw JSON is kept under
Benchmarks/results/<date>-<cpu>/ (`torch-W2-1.json`, `nabla-W2-1.json`, ...) together with `comparison.md`: the
median of the runs of each metric for both sides and Nabla's speed relative to the peer. The same table replaces
the section between the `bench-compare` markers of BENCHMARKS.md (`--no-benchmarks-md` leaves it alone).

The peer (PyTorch's CPU build, else PyPI's torch) is installed into a virtual environment outside the repository,
$HOME/.cache/nabla-bench/venv-torch by default (`--venv`), the first time it is needed; `--torch-python` uses an
existing interpreter instead. Nothing here runs in `make test`. Uses only the standard library.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from summarize import METRICS  # noqa: E402  (the one list of metrics and their direction)

WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# PyPI's torch brings CUDA wheels of several GB; the CPU index's are about 200 MB.
MIN_FREE_GB_CPU_INDEX = 2
MIN_FREE_GB_PYPI = 12
BEGIN_MARK = "<!-- bench-compare:begin -->"
END_MARK = "<!-- bench-compare:end -->"


def log(msg):
    print(f"# compare: {msg}", file=sys.stderr, flush=True)


def reachable(url, timeout=8):
    """Whether `url` answers at all (any HTTP status counts: the host resolves and connects)."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout)
        return True
    except urllib.error.HTTPError:
        return True
    except Exception:  # DNS failure, refused, timeout, proxy error
        return False


def free_gb(path):
    while not os.path.exists(path):
        path = os.path.dirname(path) or "/"
    return shutil.disk_usage(path).free / 1e9


def ensure_torch(venv):
    """The Python of a venv with torch and numpy, creating it (outside the tree) if needed."""
    py = os.path.join(venv, "bin", "python")
    if os.path.exists(py) and subprocess.run([py, "-c", "import torch, numpy"], capture_output=True).returncode == 0:
        return py
    venv_abs = os.path.abspath(venv)
    if venv_abs == ROOT or venv_abs.startswith(ROOT + os.sep):
        sys.exit(f"compare: the peer venv {venv} lies inside the repository; choose one outside it (--venv)")
    cpu_index = reachable(TORCH_CPU_INDEX + "/torch/")
    need = MIN_FREE_GB_CPU_INDEX if cpu_index else MIN_FREE_GB_PYPI
    have = free_gb(venv_abs)
    if have < need:
        sys.exit(f"compare: installing torch from {'the CPU index' if cpu_index else 'PyPI'} needs about {need} GB "
                 f"free near {venv_abs}, only {have:.1f} GB are; free space or pass --torch-python")
    log(f"creating {venv_abs} and installing torch from {TORCH_CPU_INDEX if cpu_index else 'PyPI (CUDA wheels)'}")
    subprocess.run([sys.executable, "-m", "venv", venv_abs], check=True)
    pip = [os.path.join(venv_abs, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["numpy"], check=True)
    subprocess.run(pip + (["--index-url", TORCH_CPU_INDEX] if cpu_index else []) + ["torch"], check=True)
    return py


def cpu_slug():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return slug[:48] or "unknown-cpu"


def run_json(cmd, out, cwd):
    """Runs one benchmark process that writes `out`; returns its results (empty on failure, which is logged)."""
    log(" ".join(cmd))
    p = subprocess.run(cmd, cwd=cwd)
    if p.returncode != 0 or not os.path.exists(out):
        log(f"failed (exit {p.returncode}): {' '.join(cmd)}")
        return []
    with open(out) as f:
        return json.load(f).get("results", [])


def collect(files):
    """metric key -> {impl: [values]} over result files; key = (workload, key-field values, metric)."""
    table = {}
    for path in files:
        with open(path) as f:
            doc = json.load(f)
        for r in doc.get("results", []):
            for wl, impl, keys, metric, _, _, _ in METRICS:
                if r.get("workload") != wl or (impl and r.get("impl") != impl) or metric not in r:
                    continue
                k = (wl, tuple(r.get(x) for x in keys), metric)
                table.setdefault(k, {}).setdefault(r.get("impl"), []).append(float(r[metric]))
    return table


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    return f"{v:,.0f}" if a >= 1000 else f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else \
        f"{v:.2f}" if a >= 1 else f"{v:.3f}" if a >= 0.01 else f"{v:.2g}"


def comparison_table(files):
    """Markdown: per metric and peer, each side's median [min-max] (runs) and Nabla's speed over the peer's.

    The peers are every impl other than "nabla" in the files: `torch`, and where a workload has them, its own
    variants and references (W8's `torch-0d-tensors` and `python-micrograd`)."""
    table = collect(files)
    info = {(m[0], m[3]): m for m in METRICS}
    order = {(m[0], m[3]): i for i, m in enumerate(METRICS)}
    lines = ["| workload | what | unit | peer | peer: median [min–max] (runs) | Nabla: median [min–max] (runs) | Nabla's speed |",
             "|---|---|---|---|---|---|---|"]
    for k in sorted(table, key=lambda k: (k[0], order[(k[0], k[2])], k[1])):
        wl, kv, metric = k
        _, _, keys, _, label, unit, higher = info[(wl, metric)]
        what = label.strip() + (f" n={kv[0]}" if kv else "")
        mine = table[k].get("nabla")
        peers = sorted(p for p in table[k] if p != "nabla") or ["-"]
        for peer in peers:
            theirs = table[k].get(peer)
            cell = lambda vs: f"{fmt(statistics.median(vs))} [{fmt(min(vs))}–{fmt(max(vs))}] ({len(vs)})" if vs else "-"
            ratio = "-"
            if theirs and mine and unit != "acc":
                a, b = statistics.median(mine), statistics.median(theirs)
                if a > 0 and b > 0:
                    r = a / b if higher else b / a
                    ratio = f"{r:.2f}×" if r < 10 else f"{r:.1f}×"
                    if not higher:
                        ratio += f" ({1 / r:.3f}× the time)"
            lines.append(f"| {wl} | {what} | {unit} | {peer} | {cell(theirs)} | {cell(mine)} | {ratio} |")
    return "\n".join(lines)


def atomic_write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def update_benchmarks_md(path, section):
    """Replaces the text between the bench-compare markers (appending the markers the first time)."""
    with open(path) as f:
        text = f.read()
    block = f"{BEGIN_MARK}\n{section}\n{END_MARK}"
    if BEGIN_MARK in text and END_MARK in text:
        start, end = text.index(BEGIN_MARK), text.index(END_MARK) + len(END_MARK)
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n## Latest `make bench-compare`\n\n" + block + "\n"
    atomic_write(path, text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nabla", default=os.path.join(ROOT, ".build", "release", "nabla-bench"), help="nabla-bench binary")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, from " + ",".join(WORKLOADS))
    ap.add_argument("--repeats", type=int, default=3, help="runs of each side per workload (medians need >= 3)")
    ap.add_argument("--venv", default=os.path.join(os.path.expanduser("~"), ".cache", "nabla-bench", "venv-torch"))
    ap.add_argument("--torch-python", help="use this Python (with torch and numpy) instead of the managed venv")
    ap.add_argument("--out-dir", help="default: Benchmarks/results/<UTC date>-<cpu>")
    ap.add_argument("--note", default="", help="a line about the sitting (machine load, ...) kept in comparison.md")
    ap.add_argument("--no-benchmarks-md", action="store_true", help="do not touch BENCHMARKS.md")
    ap.add_argument("--table-only", nargs="*", metavar="JSON", help="only print the table of these result files")
    args = ap.parse_args()

    if args.table_only is not None:
        print(comparison_table(args.table_only))
        return
    workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        sys.exit(f"compare: unknown workloads {unknown}; choose from {WORKLOADS}")
    if args.repeats < 1:
        sys.exit("compare: --repeats must be at least 1")
    if not os.access(args.nabla, os.X_OK):
        sys.exit(f"compare: no nabla-bench at {args.nabla}; build it first (make build)")
    torch_py = os.path.expanduser(args.torch_python) if args.torch_python else ensure_torch(os.path.expanduser(args.venv))

    stamp = datetime.datetime.now(datetime.timezone.utc)
    out_dir = args.out_dir or os.path.join(ROOT, "Benchmarks", "results", f"{stamp:%Y-%m-%d}-{cpu_slug()}")
    os.makedirs(out_dir, exist_ok=True)
    files = []
    for w in workloads:
        for r in range(1, args.repeats + 1):
            t_out = os.path.join(out_dir, f"torch-{w}-{r}.json")
            if run_json([torch_py, os.path.join(HERE, "bench_torch.py"), "--only", w, "--out", t_out], t_out, ROOT):
                files.append(t_out)
            n_out = os.path.join(out_dir, f"nabla-{w}-{r}.json")
            if run_json([args.nabla, w, "--out", n_out], n_out, ROOT):
                files.append(n_out)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    torch_ver = subprocess.run([torch_py, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True).stdout.strip()
    head = (f"Sitting of {stamp:%Y-%m-%d %H:%M} UTC on {cpu_slug()} ({os.cpu_count()} CPUs), Nabla at `{commit}`, "
            f"PyTorch {torch_ver}; {args.repeats} alternating runs per side and workload, PyTorch first. "
            f"Raw JSON: `{os.path.relpath(out_dir, ROOT)}/`. Nabla's speed: for rates Nabla ÷ PyTorch, for times "
            f"PyTorch ÷ Nabla (above 1 is faster).")
    if args.note:
        head += " " + args.note
    table = comparison_table(files)
    atomic_write(os.path.join(out_dir, "comparison.md"), head + "\n\n" + table + "\n")
    print(head + "\n\n" + table)
    if not args.no_benchmarks_md:
        update_benchmarks_md(os.path.join(ROOT, "BENCHMARKS.md"), head + "\n\n" + table)
        log("updated BENCHMARKS.md")


if __name__ == "__main__":
    main()
