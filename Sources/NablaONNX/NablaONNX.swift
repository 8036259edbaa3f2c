// NablaONNX: ONNX model import (`ONNXModel`). Re-exports Nabla, so `import NablaONNX` alone gives tensors too.
@_exported import Nabla
