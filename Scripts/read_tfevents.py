#!/usr/bin/env python3
"""Reads a TensorBoard log directory with TensorBoard's own EventAccumulator and prints JSON.

Used by Tests/NablaBoardTests to check that what NablaBoard writes is what TensorBoard reads.
Run with the project's venv (`make venv`): .build/venv/bin/python Scripts/read_tfevents.py LOGDIR

Output: {"runs": {"<run dir relative to LOGDIR, '.' for LOGDIR>": {
  "files": [...], "scalars": {tag: [[step, value, float32 bits], ...]},
  "histograms": {tag: [{"step", "min", "max", "num", "sum", "sum_squares", "bucket_limit", "bucket"}]},
  "images": {tag: [{"step", "width", "height", "decoded_width", "decoded_height", "mode", "pixels"}]},
  "texts": {tag: [[step, text], ...]}, "hparams": {...}, "graph": [{"name", "op", "input", "attr"}]}}}
"""
import io
import json
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def read_run(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={k: 0 for k in event_accumulator.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    tags = acc.Tags()
    run = {"files": sorted(f for f in os.listdir(path) if f.startswith("events.out.tfevents."))}
    # The float32 bit pattern too: JSON parsers may round decimal doubles.
    run["scalars"] = {t: [[e.step, e.value, float32_bits(e.value)] for e in acc.Scalars(t)] for t in tags["scalars"]}
    run["histograms"] = {
        t: [
            {
                "step": e.step,
                "min": e.histogram_value.min,
                "max": e.histogram_value.max,
                "num": e.histogram_value.num,
                "sum": e.histogram_value.sum,
                "sum_squares": e.histogram_value.sum_squares,
                "bucket_limit": list(e.histogram_value.bucket_limit),
                "bucket": list(e.histogram_value.bucket),
            }
            for e in acc.Histograms(t)
        ]
        for t in tags["histograms"]
    }
    run["images"] = {t: [image(e) for e in acc.Images(t)] for t in tags["images"]}
    texts = {}
    for t in tags["tensors"]:
        for e in acc.Tensors(t):
            if e.tensor_proto.dtype == 7:  # DT_STRING
                texts.setdefault(t, []).append([e.step, e.tensor_proto.string_val[0].decode("utf-8")])
    run["texts"] = texts
    try:
        run["hparams"] = hparams(acc.PluginTagToContent("hparams"))
    except KeyError:
        run["hparams"] = {}
    run["graph"] = []
    if tags["graph"]:
        g = acc.Graph()
        run["graph"] = [
            {"name": n.name, "op": n.op, "input": list(n.input), "attr": sorted(n.attr.keys())} for n in g.node
        ]
    return run


def float32_bits(value):
    return struct.unpack("<I", struct.pack("<f", value))[0]


def image(e):
    out = {"step": e.step, "width": e.width, "height": e.height}
    from PIL import Image  # a dependency of tensorboard

    img = Image.open(io.BytesIO(e.encoded_image_string))
    img.load()
    out["decoded_width"], out["decoded_height"] = img.size
    out["mode"] = img.mode
    out["pixels"] = [list(p) if isinstance(p, tuple) else [p] for p in img.getdata()]
    return out


def hparams(tag_to_content):
    out = {}
    for tag, content in tag_to_content.items():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        kind = data.WhichOneof("data")
        if kind == "experiment":
            out["experiment"] = {
                "hparams": sorted(h.name for h in data.experiment.hparam_infos),
                "metrics": sorted(m.name.tag for m in data.experiment.metric_infos),
            }
        elif kind == "session_start_info":
            values = {}
            for k, v in data.session_start_info.hparams.items():
                values[k] = getattr(v, v.WhichOneof("kind"))
            out["session_start_info"] = values
        elif kind == "session_end_info":
            out["session_end_info"] = {"status": data.session_end_info.status}
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_tfevents.py LOGDIR")
    root = sys.argv[1]
    runs = {}
    for dirpath, _, files in sorted(os.walk(root)):
        if any(f.startswith("events.out.tfevents.") for f in files):
            runs[os.path.relpath(dirpath, root)] = read_run(dirpath)
    json.dump({"runs": runs}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
