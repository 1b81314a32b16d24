#!/usr/bin/env bash
# Writes the FileDescriptorSets that server reflection serves (gen/descriptors/*.binpb), compiled by buf as
# protoc would: the .proto file names, field names and json_name values as written, map entries as protoc
# names them. The server reads them at start (no compiler at run time); `npm run gen` runs this after
# `buf generate`. Comments (source info) are left out: reflection clients need none of them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=gen/descriptors
mkdir -p "$out"
# voxelfeed's wire contract: the buf module in proto/ (buf.yaml).
buf build --as-file-descriptor-set --exclude-source-info -o "$out/voxelfeed.binpb"
# grpc.health.v1 as the grpc-health-check package ships and implements it.
health_root=$(node -p "require('node:path').resolve(require('grpc-health-check').protoPath, '../../..')")
buf build "$health_root" --as-file-descriptor-set --exclude-source-info -o "$out/health.binpb"
