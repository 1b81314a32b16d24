#!/usr/bin/env bash
# Writes the FileDescriptorSets that server reflection serves (gen/descriptors/*.binpb), compiled by buf as
# protoc would: the .proto file names, field names and json_name values as written, map entries as protoc
# names them. The server reads them at start (no compiler at run time); `npm run gen` runs this after
# `buf generate`. Comments (source info) are left out: reflection clients need none of them.
# Usage: scripts/gen-descriptors.sh [OUT_DIR]   (default gen/descriptors; buf from node_modules/.bin)
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/../gen/descriptors}")
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p "$out"
# voxelfeed's wire contract: voxelfeed.proto of the buf module in proto/ (buf.yaml); collective.proto is
# spoken between trainer ranks, never by the server, so reflection does not offer it.
buf build --path proto/voxelfeed/v1/voxelfeed.proto --as-file-descriptor-set --exclude-source-info -o "$out/voxelfeed.binpb"
# grpc.health.v1 as the grpc-health-check package ships and implements it.
health_root=$(node -p "require('node:path').resolve(require('grpc-health-check').protoPath, '../../..')")
buf build "$health_root" --as-file-descriptor-set --exclude-source-info -o "$out/health.binpb"
