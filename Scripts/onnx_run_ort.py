"""Runs an ONNX model in onnxruntime (2 intra-op threads, CPU) for the NablaONNX tests, after onnx.checker.

    .build/venv/bin/python Scripts/onnx_run_ort.py MODEL.onnx INPUT.npy OUTPUT.npy

Feeds INPUT.npy to the model's first input and writes its first output to OUTPUT.npy; prints the onnx and
onnxruntime versions. `make venv` installs the pinned onnx and onnxruntime into .build/venv.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, input_path, output_path = sys.argv[1:4]
    onnx.checker.check_model(onnx.load(model_path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    sess = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    y = sess.run(None, {sess.get_inputs()[0].name: np.load(input_path)})[0]
    np.save(output_path, y)
    print(f"onnx {onnx.__version__} onnxruntime {ort.__version__}")


if __name__ == "__main__":
    main()
