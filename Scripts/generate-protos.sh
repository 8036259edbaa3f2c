#!/usr/bin/env bash
# Regenerates Sources/<Target>/Generated/*.pb.swift from Sources/<Target>/Proto/*.proto for NablaBoard (TensorBoard's
# protos) and NablaONNX (onnx.proto, copied with its LICENSE from the onnx 1.23.2 wheel: `pip download onnx==1.23.2`,
# onnx/onnx.proto and onnx-1.23.2.dist-info/licenses/{LICENSE,NOTICE}).
#
# For maintainers only: the generated files are committed and the build never runs protoc.
# Needs `protoc` (Debian: apt-get install protobuf-compiler) and `protoc-gen-swift` built from
# swift-protobuf at the version Package.swift pins (keep them in sync):
#
#   git clone https://github.com/apple/swift-protobuf .build/swift-protobuf
#   git -C .build/swift-protobuf checkout 1.39.0
#   (cd .build/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   (or, reusing the package's own checkout: swift build -c release --product protoc-gen-swift, whose binary lands in
#   .build/release/protoc-gen-swift)
#   PROTOC_GEN_SWIFT=.build/swift-protobuf/.build/release/protoc-gen-swift Scripts/generate-protos.sh
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"

command -v protoc >/dev/null || { echo "generate-protos: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$plugin" ] || { echo "generate-protos: protoc-gen-swift not found; set PROTOC_GEN_SWIFT" >&2; exit 1; }
plugin="$(cd "$(dirname "$plugin")" && pwd)/$(basename "$plugin")"  # protoc runs in each Proto folder

for target in NablaBoard NablaONNX; do
  proto_dir="$root/Sources/$target/Proto"
  out_dir="$root/Sources/$target/Generated"
  rm -f "$out_dir"/*.pb.swift
  mkdir -p "$out_dir"
  # Internal visibility: the protobuf types are an implementation detail of each target.
  (cd "$proto_dir" && protoc --plugin=protoc-gen-swift="$plugin" \
    --swift_opt=Visibility=Internal \
    --swift_opt=FileNaming=DropPath \
    --swift_out="$out_dir" \
    -I . *.proto)
  echo "generate-protos: wrote $(ls "$out_dir"/*.pb.swift | wc -l) files to ${out_dir#$root/}"
done
