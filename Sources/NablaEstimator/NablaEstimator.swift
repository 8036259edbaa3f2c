@_exported import NablaOptim
@_exported import NablaBoard
