"""Runs an ONNX model in onnxruntime (2 intra-op threads, CPU) for the NablaONNX tests, after onnx.checker.

    .build/venv/bin/python Scripts/onnx_run_ort.py MODEL.onnx INPUT.npy [INPUT2.npy ...] OUTPUT.npy

Feeds the INPUT files to the model's inputs in order and writes its first output to OUTPUT.npy; prints the onnx
and onnxruntime versions. `make venv` installs the pinned onnx and onnxruntime into .build/venv.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, input_paths, output_path = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
    onnx.checker.check_model(onnx.load(model_path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sess = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(path) for i, path in zip(sess.get_inputs(), input_paths)}
    y = sess.run(None, feeds)[0]
    np.save(output_path, y)
    print(f"onnx {onnx.__version__} onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main()
