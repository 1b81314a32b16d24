import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * The FileDescriptorSets that reflection serves, written by `npm run gen` (scripts/gen-descriptors.sh) from
 * proto/voxelfeed/v1/voxelfeed.proto and from the health.proto that grpc-health-check implements. Resolved
 * through the proto package, so the compiled server finds them wherever that package is installed.
 */
export const DESCRIPTOR_SET_FILES: readonly string[] = ['voxelfeed.binpb', 'health.binpb'].map((name) =>
  fileURLToPath(import.meta.resolve(`@voxelfeed/proto/descriptors/${name}`)),
);

/**
 * Server reflection (v1 and v1alpha) over the descriptors that buf compiled at gen time, as protoc would.
 *
 * Not over @grpc/proto-loader's package definition: proto-loader goes through protobufjs, which serves
 * camelCase field names without json_name, renames the file after its package (`voxelfeed_v1.proto`) and
 * names map entries `Statuses` instead of `StatusesEntry`, so ghz and grpcurl refuse `crop_size` and
 * grpc.health.v1's HealthListResponse. @grpc/reflection reads only `fileDescriptorProtos` from each entry of
 * the definition it is given, and re-encodes each file with protobufjs's descriptor types, which keep every
 * field these files use (the reflection tests compare what is served with protoc's output).
 */
export async function createReflectionService(
  files: readonly string[] = DESCRIPTOR_SET_FILES,
): Promise<ReflectionService> {
  const definition: Record<string, { readonly fileDescriptorProtos: Buffer[] }> = {};
  for (const file of files) {
    for (const [i, fileDescriptorProto] of (await readDescriptorSet(file)).entries()) {
      definition[`${path.basename(file)}#${i}`] = { fileDescriptorProtos: [fileDescriptorProto] };
    }
  }
  // Each entry carries the one property ReflectionService reads; it never loads a definition into grpc-js.
  return new ReflectionService(definition as unknown as PackageDefinition);
}

/** The serialized FileDescriptorProtos of a FileDescriptorSet file, byte for byte (field 1, repeated). */
async function readDescriptorSet(file: string): Promise<Buffer[]> {
  const fix = 'run `npm run gen` in the voxelfeed checkout (or reinstall it)';
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `cannot read ${file}, the descriptors that server reflection serves (${(error as NodeJS.ErrnoException).code ?? String(error)}); ${fix}`,
      { cause: error },
    );
  }
  const out: Buffer[] = [];
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1 && wireType === WireType.LengthDelimited) out.push(Buffer.from(reader.bytes()));
      else reader.skip(wireType, field);
    }
  } catch (error) {
    throw new VoxelfeedError('DATA_LOSS', `${file} is no FileDescriptorSet (${String(error)}); ${fix}`, {
      cause: error,
    });
  }
  if (out.length === 0) throw new VoxelfeedError('DATA_LOSS', `${file} holds no file descriptors; ${fix}`);
  return out;
}
