#!/usr/bin/env python3
"""Keras peer of `keras-fashion cnn` (Examples/KerasFashion): the same Sequential CNN, compile and fit, run by Keras 3
itself, for the Keras `fit` accuracy bar (test accuracy after 3 epochs).

Run it in a virtual environment outside the repository (pip install keras torch; KERAS_BACKEND=torch):
    KERAS_BACKEND=torch python Scripts/bench/keras_fashion.py --seeds 0,1,2

Keras' defaults throughout: glorot_uniform kernels, zero biases, Adam(1e-3, epsilon 1e-7), shuffling every epoch,
batch 128, sparse categorical cross-entropy on logits. Prints one JSON line per seed with the test accuracy after
each epoch.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_torch import load_fashion_mnist  # noqa: E402  (same reader and [0, 1] scaling as the PyTorch peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import keras
    if keras.backend.backend() == "torch":
        import torch
        torch.set_num_threads(args.threads)
    xtr, ytr, xte, yte = load_fashion_mnist()
    xtr, xte = xtr[..., None], xte[..., None]          # channels-last [N, 28, 28, 1]
    for seed in [int(s) for s in args.seeds.split(",")]:
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10),
        ])
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        h = model.fit(xtr, ytr, epochs=args.epochs, batch_size=128, validation_data=(xte, yte), verbose=0)
        print(json.dumps({"impl": f"keras-{keras.__version__}-{keras.backend.backend()}", "seed": seed,
                          "val_accuracy": h.history["val_accuracy"], "loss": h.history["loss"]}), flush=True)


if __name__ == "__main__":
    main()
