"""onnxruntime's side of W6-onnx: W6's protocol on an ONNX file (default: the committed TorchScript export of the
W4 CNN, Tests/Fixtures/onnx/cnn.torchscript17.onnx), onnxruntime limited to 2 intra-op threads (1 inter-op).

    ~/bench-venvs/ort/bin/pip install onnxruntime==1.32.0 numpy
    ~/bench-venvs/ort/bin/python Scripts/bench/bench_onnxruntime.py [--model FILE] [--repeats 3]

Batch-1 latency: median µs over 1000 calls after 50 warm-up calls, on the first Fashion-MNIST test images;
batch-256 throughput: 256 / median of 30 calls after 5 warm-up calls. With --repeats N the whole measurement runs N
times and the medians of the N results are reported (one JSON line per run, then one with the medians), matching
`nabla-bench W6-onnx` run N times.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import load_fashion_mnist  # noqa: E402  (reads the IDX files only; torch is not imported)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def measure(sess, name, images):
    lat = []
    for i in range(50):
        sess.run(None, {name: images[i : i + 1]})
    for i in range(1000):
        x = images[i : i + 1]
        t0 = time.perf_counter()
        sess.run(None, {name: x})
        lat.append((time.perf_counter() - t0) * 1e6)
    xb = images[:256]
    for _ in range(5):
        sess.run(None, {name: xb})
    tb = []
    for _ in range(30):
        t0 = time.perf_counter()
        sess.run(None, {name: xb})
        tb.append(time.perf_counter() - t0)
    return statistics.median(lat), 256 / statistics.median(tb)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "Tests/Fixtures/onnx/cnn.torchscript17.onnx"))
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    _, _, xte, _ = load_fashion_mnist()
    images = np.ascontiguousarray(xte.reshape(-1, 1, 28, 28))
    runs = []
    for _ in range(args.repeats):
        b1, b256 = measure(sess, name, images)
        runs.append((b1, b256))
        print(json.dumps({"workload": "W6-onnx", "impl": "onnxruntime", "b1_latency_us_median": b1,
                          "b256_images_per_s": b256}))
    print(json.dumps({"workload": "W6-onnx", "impl": "onnxruntime", "repeats": args.repeats,
                      "onnxruntime_version": ort.__version__, "intra_op_threads": 2,
                      "b1_latency_us_median_of_runs": statistics.median(r[0] for r in runs),
                      "b256_images_per_s_median_of_runs": statistics.median(r[1] for r in runs)}))


if __name__ == "__main__":
    main()
