#!/usr/bin/env python3
"""Nabla against its peers, workload by workload, in one sitting (`make bench-compare`).

    python3 Scripts/bench/compare.py --nabla .build/release/nabla-bench [--workloads W2,W8] [--repeats 3]
    python3 Scripts/bench/compare.py --workloads W3C,W4C,W7C        # compiled training steps (issue 17)

For each workload in turn, each peer runs it and then Nabla does, `--repeats` times over (PyTorch, Nabla,
PyTorch, Nabla, ...), so that all sides see the same machine load. W3C, W4C and W7C compare the compiled training
steps of W3, W4 and W7: each round runs PyTorch eager, torch.compile (bench_torch.py's W3C...), JAX with the whole
step under jax.jit (bench_jax.py), Nabla eager (`nabla-bench W3`) and Nabla compiled (`nabla-bench W3-compiled`),
in that order. Every run's raw JSON is kept under Benchmarks/results/<date>-<cpu>/ (`torch-W2-1.json`,
`nabla-W2-1.json`, `torch-compile-W3C-1.json`, ...) together with `comparison.md`: for each metric, every impl's
median over its runs and the speed of Nabla (eager, and compiled where it ran) relative to it. The same table
replaces the section between the `bench-compare` markers of BENCHMARKS.md (`--no-benchmarks-md` leaves it alone).

The peers are installed into virtual environments outside the repository the first time they are needed: PyTorch
(its CPU build, else PyPI's torch) into $HOME/.cache/nabla-bench/venv-torch (`--venv`; `--torch-python` uses an
existing interpreter instead), JAX (jax[cpu] and optax, the versions of JAX_PACKAGES) into
$HOME/.cache/nabla-bench/venv-jax (`--jax-venv`; or `--jax-python`). `--epochs N` and `--max-steps N` shorten W3/W4
runs to check that everything runs; their figures are not the workloads'. Nothing here runs in `make test`. Uses
only the standard library.
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

PLAIN = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]
# The compiled-step workloads: id -> the workload they time (nabla-bench's "<W>-compiled", bench_torch.py's "<W>C").
COMPILED = {"W3C": "W3", "W4C": "W4", "W7C": "W7"}
WORKLOADS = PLAIN + list(COMPILED)
JAX_WORKLOADS = {"W3", "W4", "W7"}  # bench_jax.py's
# Nabla's impls, whose speed over every other impl the table gives (in this column order).
SUBJECTS = ["nabla", "nabla-compiled"]
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# The versions bench_jax.py's notes on threads were checked with.
JAX_PACKAGES = ["jax[cpu]==0.10.2", "optax==0.2.8", "numpy"]
# PyPI's torch brings CUDA wheels of several GB; the CPU index's are about 200 MB; jaxlib about 100 MB.
MIN_FREE_GB_CPU_INDEX = 2
MIN_FREE_GB_PYPI = 12
MIN_FREE_GB_JAX = 2
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


def venv_python(venv, modules):
    """The Python of `venv` if it imports `modules` (e.g. "torch, numpy"), else None."""
    py = os.path.join(venv, "bin", "python")
    ok = os.path.exists(py) and subprocess.run([py, "-c", f"import {modules}"], capture_output=True).returncode == 0
    return py if ok else None


def new_venv(venv, what, need_gb, flags):
    """Creates `venv` (outside the tree, with `need_gb` free) for `what`; returns its pip install command."""
    venv_abs = os.path.abspath(venv)
    if venv_abs == ROOT or venv_abs.startswith(ROOT + os.sep):
        sys.exit(f"compare: the venv {venv} (for {what}) lies inside the repository; choose one outside it ({flags[0]})")
    have = free_gb(venv_abs)
    if have < need_gb:
        sys.exit(f"compare: installing {what} needs about {need_gb} GB free near {venv_abs}, only {have:.1f} GB are; "
                 f"free space or pass {flags[1]}")
    log(f"creating {venv_abs} and installing {what}")
    subprocess.run([sys.executable, "-m", "venv", venv_abs], check=True)
    return [os.path.join(venv_abs, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check"]


def ensure_torch(venv):
    """The Python of a venv with torch and numpy, creating it (outside the tree) if needed."""
    py = venv_python(venv, "torch, numpy")
    if py:
        return py
    cpu_index = reachable(TORCH_CPU_INDEX + "/torch/")
    pip = new_venv(venv, f"torch from {TORCH_CPU_INDEX if cpu_index else 'PyPI (CUDA wheels)'}",
                   MIN_FREE_GB_CPU_INDEX if cpu_index else MIN_FREE_GB_PYPI, ("--venv", "--torch-python"))
    subprocess.run(pip + ["numpy"], check=True)
    subprocess.run(pip + (["--index-url", TORCH_CPU_INDEX] if cpu_index else []) + ["torch"], check=True)
    return os.path.join(venv, "bin", "python")


def ensure_jax(venv):
    """The Python of a venv with jax, optax and numpy, creating it (outside the tree) if needed."""
    py = venv_python(venv, "jax, optax, numpy")
    if py:
        return py
    pip = new_venv(venv, " ".join(JAX_PACKAGES) + " from PyPI", MIN_FREE_GB_JAX, ("--jax-venv", "--jax-python"))
    subprocess.run(pip + JAX_PACKAGES, check=True)
    return os.path.join(venv, "bin", "python")


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
                if r.get("workload") != wl or (impl and r.get("impl") != impl) or r.get(metric) is None:
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


def speed(mine, theirs, higher):
    """Nabla's speed over a peer from both sides' runs: rates Nabla ÷ peer, times peer ÷ Nabla; "-" without both."""
    if not mine or not theirs:
        return "-"
    a, b = statistics.median(mine), statistics.median(theirs)
    if a <= 0 or b <= 0:
        return "-"
    r = a / b if higher else b / a
    text = f"{r:.2f}×" if r < 10 else f"{r:.1f}×"
    return text + ("" if higher else f" ({1 / r:.3f}× the time)")


def impl_order(impl):
    """Peers first (alphabetically), then Nabla eager, then Nabla compiled."""
    return (SUBJECTS.index(impl) + 1 if impl in SUBJECTS else 0, impl)


def comparison_table(files):
    """Markdown: per metric, one row per impl with its median [min-max] (runs) and Nabla's speed over it, for
    Nabla eager ("nabla") and, where the files have it, Nabla compiled ("nabla-compiled").

    The impls are all those in the files: `torch`, `torch-compile`, `jax-jit`, W1's `numpy` and
    `openblas-debian`, W8's `torch-0d-tensors` and `python-micrograd`, and Nabla's own."""
    table = collect(files)
    info = {(m[0], m[3]): m for m in METRICS}
    order = {(m[0], m[3]): i for i, m in enumerate(METRICS)}
    subjects = [s for s in SUBJECTS if any(s in impls for impls in table.values())] or SUBJECTS[:1]
    names = {"nabla": "Nabla's speed over it", "nabla-compiled": "Nabla compiled's speed over it"}
    lines = ["| workload | what | unit | impl | median [min–max] (runs) | " + " | ".join(names[s] for s in subjects) + " |",
             "|---|---|---|---|---|" + "---|" * len(subjects)]
    cell = lambda vs: f"{fmt(statistics.median(vs))} [{fmt(min(vs))}–{fmt(max(vs))}] ({len(vs)})" if vs else "-"
    for k in sorted(table, key=lambda k: (k[0], order[(k[0], k[2])], k[1])):
        wl, kv, metric = k
        _, _, keys, _, label, unit, higher = info[(wl, metric)]
        what = label.strip() + (f" n={kv[0]}" if kv else "")
        for impl in sorted(table[k], key=impl_order):
            ratios = ["—" if impl == s else "-" if unit == "acc" else speed(table[k].get(s), table[k][impl], higher)
                      for s in subjects]
            lines.append(f"| {wl} | {what} | {unit} | {impl} | {cell(table[k][impl])} | " + " | ".join(ratios) + " |")
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


def runs_of(w, nabla, torch_py, jax_py, short):
    """The runs of one round of workload id `w`: (file tag, command), peers first, Nabla last. `short`: the extra
    arguments of a check for the W3/W4 runs, (python peers', nabla-bench's)."""
    base = COMPILED.get(w, w)
    py_args, nabla_args = short if base in ("W3", "W4") else ([], [])
    torch_cmd = lambda only: [torch_py, os.path.join(HERE, "bench_torch.py"), "--only", only] + py_args
    if w not in COMPILED:
        return [("torch", torch_cmd(w)), ("nabla", [nabla, w] + nabla_args)]
    runs = [("torch", torch_cmd(base)), ("torch-compile", torch_cmd(w))]
    if base in JAX_WORKLOADS:
        runs.append(("jax", [jax_py, os.path.join(HERE, "bench_jax.py"), "--only", base] + py_args))
    return runs + [("nabla", [nabla, base] + nabla_args), ("nabla-compiled", [nabla, base + "-compiled"] + nabla_args)]


def version_of(py, module):
    if not py:
        return ""
    return subprocess.run([py, "-c", f"import {module}; print({module}.__version__)"], capture_output=True,
                          text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nabla", default=os.path.join(ROOT, ".build", "release", "nabla-bench"), help="nabla-bench binary")
    ap.add_argument("--workloads", default=",".join(PLAIN), help="comma-separated, from " + ",".join(WORKLOADS))
    ap.add_argument("--repeats", type=int, default=3, help="runs of each side per workload (medians need >= 3)")
    ap.add_argument("--venv", default=os.path.join(os.path.expanduser("~"), ".cache", "nabla-bench", "venv-torch"))
    ap.add_argument("--torch-python", help="use this Python (with torch and numpy) instead of the managed venv")
    ap.add_argument("--jax-venv", default=os.path.join(os.path.expanduser("~"), ".cache", "nabla-bench", "venv-jax"))
    ap.add_argument("--jax-python", help="use this Python (with jax, optax and numpy) instead of the managed venv")
    ap.add_argument("--epochs", type=int, help="W3/W4 epochs of every side (a check: not the workloads' figures)")
    ap.add_argument("--max-steps", type=int, help="end the peers' W3/W4 epochs after N steps (a check)")
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
    jax_py = None
    if any(COMPILED.get(w) in JAX_WORKLOADS for w in workloads):
        jax_py = os.path.expanduser(args.jax_python) if args.jax_python else ensure_jax(os.path.expanduser(args.jax_venv))
    short = ([], [])
    if args.epochs:
        short = (["--epochs", str(args.epochs)], ["--epochs", str(args.epochs)])
    if args.max_steps:
        short = (short[0] + ["--max-steps", str(args.max_steps)], short[1])

    stamp = datetime.datetime.now(datetime.timezone.utc)
    out_dir = args.out_dir or os.path.join(ROOT, "Benchmarks", "results", f"{stamp:%Y-%m-%d}-{cpu_slug()}")
    os.makedirs(out_dir, exist_ok=True)
    files, order = [], []
    for w in workloads:
        for r in range(1, args.repeats + 1):
            for tag, cmd in runs_of(w, args.nabla, torch_py, jax_py, short):
                out = os.path.join(out_dir, f"{tag}-{w}-{r}.json")
                order += [tag] if tag not in order else []
                if run_json(cmd + ["--out", out], out, ROOT):
                    files.append(out)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    raw_dir = os.path.relpath(out_dir, ROOT) if os.path.abspath(out_dir).startswith(ROOT + os.sep) else out_dir
    versions = f"PyTorch {version_of(torch_py, 'torch')}" + (f", JAX {version_of(jax_py, 'jax')}" if jax_py else "")
    head = (f"Sitting of {stamp:%Y-%m-%d %H:%M} UTC on {cpu_slug()} ({os.cpu_count()} CPUs), Nabla at `{commit}`, "
            f"{versions}; {args.repeats} alternating runs per side and workload, in the order {', '.join(order)}. "
            f"Raw JSON: `{raw_dir}/`. Nabla's speed over an impl: for rates Nabla ÷ it, for "
            f"times it ÷ Nabla (above 1 is faster).")
    if args.epochs or args.max_steps:
        head += (f" CHECK RUN ({'--epochs ' + str(args.epochs) if args.epochs else ''}"
                 f"{' --max-steps ' + str(args.max_steps) if args.max_steps else ''}): not the workloads' figures.")
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
