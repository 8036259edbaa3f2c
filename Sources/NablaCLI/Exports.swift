// A program that imports NablaCLI gets the whole stack it builds on (tensors, layers, optimizers, data).
@_exported import NablaData
@_exported import NablaOptim
