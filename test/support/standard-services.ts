import { createRequire } from 'node:module';
import path from 'node:path';
import {
  type ChannelCredentials,
  type ChannelOptions,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type Metadata,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/*
 * Clients of the standard grpc.health.v1 and grpc.reflection.v1 services, built from those services' own .proto
 * files: they know nothing of voxelfeed's, as grpcurl, ghz and Kubernetes probes do.
 */

type ServiceClient = InstanceType<ServiceClientConstructor>;

const loaded = new Map<string, PackageDefinition>();

function serviceConstructor(file: string, options: Options, dotted: string): ServiceClientConstructor {
  let definition = loaded.get(file);
  if (!definition) {
    definition = loadSync(file, options);
    loaded.set(file, definition);
  }
  let node: unknown = loadPackageDefinition(definition) as GrpcObject;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ServiceClientConstructor;
}

/** A raw grpc.health.v1.Health client (statuses as enum names); its caller closes it. */
export function healthClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  options?: ChannelOptions,
): ServiceClient {
  const Health = serviceConstructor(
    'health/v1/health.proto',
    { includeDirs: [path.resolve(path.dirname(healthProtoPath), '../..')], enums: String },
    'grpc.health.v1.Health',
  );
  return new Health(address, creds, options);
}

/** What grpc.health.v1.Health/Check says of `service` ('' for the whole server): SERVING, NOT_SERVING... */
export async function healthStatus(
  address: string,
  service = '',
  creds?: ChannelCredentials,
): Promise<string> {
  const client = healthClient(address, creds);
  try {
    return await new Promise<string>((resolve, reject) =>
      client['Check']!({ service }, (error: Error | null, reply: { status: string }) =>
        error ? reject(error) : resolve(reply.status),
      ),
    );
  } finally {
    client.close();
  }
}

export interface ReflectionClient {
  /** Sends one request on a fresh ServerReflectionInfo call and resolves with the first reply. */
  ask(request: object): Promise<Record<string, unknown>>;
  /** The names of the services the server lists. */
  listServices(): Promise<string[]>;
  /** The serialized FileDescriptorProtos of the file that defines `symbol` and of those it imports. */
  fileDescriptors(symbol: string): Promise<Buffer[]>;
  /** The serialized FileDescriptorProtos of the file called `name` and of those it imports. */
  fileDescriptorsByName(name: string): Promise<Buffer[]>;
  close(): void;
}

/** The versions of the reflection protocol: grpcurl asks v1 first, ghz asks v1alpha. */
export type ReflectionVersion = 'v1' | 'v1alpha';

/**
 * A grpc.reflection.<version>.ServerReflection client; every call carries `metadata` when given. An
 * error_response from the server rejects with its message and code.
 */
export function reflectionClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  metadata?: Metadata,
  version: ReflectionVersion = 'v1',
): ReflectionClient {
  const root = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection/package.json')),
    'build',
    'proto',
  );
  const Reflection = serviceConstructor(
    `grpc/reflection/${version}/reflection.proto`,
    { includeDirs: [root] },
    `grpc.reflection.${version}.ServerReflection`,
  );
  const client = new Reflection(address, creds);
  const ask = (request: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const call = metadata ? client['ServerReflectionInfo']!(metadata) : client['ServerReflectionInfo']!();
      call.on('data', (reply: Record<string, unknown>) => {
        resolve(reply);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
  const files = async (request: object) => {
    const reply = await ask(request);
    const refused = reply['errorResponse'] as { errorCode: number; errorMessage: string } | undefined;
    if (refused) {
      throw new Error(
        `reflection refused ${JSON.stringify(request)}: ${refused.errorMessage} (code ${refused.errorCode})`,
      );
    }
    return (reply['fileDescriptorResponse'] as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
  };
  return {
    ask,
    listServices: async () => {
      const listed = await ask({ listServices: '' });
      return (listed['listServicesResponse'] as { service: Array<{ name: string }> }).service.map(
        (entry) => entry.name,
      );
    },
    fileDescriptors: (symbol) => files({ fileContainingSymbol: symbol }),
    fileDescriptorsByName: (name) => files({ fileByFilename: name }),
    close: () => client.close(),
  };
}
