// The request decoder, the response writer, the signature types and `ServeError` live in NablaServeCore (no HTTP
// dependency, so the fuzz target can link them alone); an app that imports NablaServe sees them too.
@_exported import NablaServeCore
