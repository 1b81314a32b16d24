import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { type Batch, GetSampleRequest, StreamBatchesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { reflectionClient } from '../support/standard-services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const GHZ_DIR = fileURLToPath(new URL('../../deploy/ghz/', import.meta.url));

/**
 * Every key ghz reads from a `--config` JSON file: the json tags of `runner.Config`
 * (https://github.com/bojand/ghz/blob/master/runner/config.go, unchanged from v0.111 to v0.121), each the
 * long name of the flag documented at https://ghz.sh/docs/options (config files:
 * https://ghz.sh/docs/example_config). A key outside this list is silently ignored by ghz.
 */
const GHZ_CONFIG_KEYS = new Set([
  'proto',
  'protoset',
  'call',
  'cacert',
  'cert',
  'key',
  'count-errors',
  'skipTLS',
  'skipFirst',
  'cname',
  'authority',
  'insecure',
  'total',
  'async',
  'concurrency',
  'concurrency-schedule',
  'concurrency-start',
  'concurrency-end',
  'concurrency-step',
  'concurrency-step-duration',
  'concurrency-max-duration',
  'connections',
  'rps',
  'duration',
  'duration-stop',
  'max-duration',
  'timeout',
  'data',
  'data-file',
  'binary-file',
  'metadata',
  'metadata-file',
  'stream-interval',
  'stream-call-duration',
  'stream-call-count',
  'stream-dynamic-messages',
  'output',
  'format',
  'connect-timeout',
  'keepalive',
  'cpus',
  'import-paths',
  'name',
  'tags',
  'reflect-metadata',
  'debug',
  'host',
  'enable-compression',
  'load-schedule',
  'load-start',
  'load-end',
  'load-step',
  'load-step-duration',
  'load-max-duration',
  'lb-strategy',
  'max-recv-message-size',
  'max-send-message-size',
  'disable-template-functions',
  'disable-template-data',
]);

/** ghz config keys whose values are Go durations (`time.ParseDuration`). */
const DURATION_KEYS = [
  'concurrency-step-duration',
  'concurrency-max-duration',
  'duration',
  'max-duration',
  'timeout',
  'stream-interval',
  'stream-call-duration',
  'connect-timeout',
  'keepalive',
  'load-step-duration',
  'load-max-duration',
];

const EXPECTED_CONFIGS = ['get-sample.json', 'stream-batches-first-n.json', 'stream-batches.json'];

type GhzConfig = Record<string, unknown>;

/** Seconds of a Go duration string ("0s", "1m30s", "250ms"), or null when Go would refuse it. */
function goDurationSeconds(text: string): number | null {
  if (text === '0') return 0;
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) return null;
    total += Number(match[1]) * units[match[2]!]!;
    at = part.lastIndex;
  }
  return text.length > 0 ? total : null;
}

/** Bytes of a go-humanize size ("256MiB", "64 MB", "1048576"), or null when ghz would refuse it. */
function humanBytes(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)$/i.exec(text.trim());
  if (match === null) return null;
  const unit = match[2]!.toLowerCase();
  const power = ' kmgt'.indexOf(unit[0] ?? ' ');
  const base = unit.includes('i') ? 1024 : 1000;
  return Number(match[1]) * base ** Math.max(0, power);
}

/** Each field's json_name as reflection served it, by the field's full name (`.voxelfeed.v1.Foo.bar_baz`). */
type JsonNames = ReadonlyMap<string, string>;

/**
 * The protobufjs object for `value` read as protobuf JSON of `type`, as ghz's jsonpb reads call data: every
 * key must be a field's JSON name (its json_name in the served descriptor) or its .proto name, enums by name
 * or number, 64-bit integers as digit strings or numbers. protobufjs's own `fromObject` ignores unknown
 * keys, which ghz refuses, hence this walk. Throws an Error naming the path of the first bad value.
 */
function fromProtoJson(
  type: protobuf.Type,
  value: unknown,
  at: string,
  jsonNames: JsonNames,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${at} is ${JSON.stringify(value)}; expected a ${type.name} object`);
  }
  const jsonName = (field: protobuf.Field) => jsonNames.get(`${type.fullName}.${field.name}`);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const field = type.fieldsArray.find((entry) => entry.name === key || jsonName(entry) === key);
    if (field === undefined) {
      const names = type.fieldsArray.map((entry) => `${entry.name} (${jsonName(entry) ?? 'no json_name'})`);
      throw new Error(`${at}.${key} is not a field of ${type.name}; fields: ${names.join(', ')}`);
    }
    if (field.repeated) {
      if (!Array.isArray(item)) throw new Error(`${at}.${key} is ${JSON.stringify(item)}; expected an array`);
      out[field.name] = item.map((element, i) => fieldValue(field, element, `${at}.${key}[${i}]`, jsonNames));
    } else {
      out[field.name] = fieldValue(field, item, `${at}.${key}`, jsonNames);
    }
  }
  return out;
}

function fieldValue(field: protobuf.Field, value: unknown, at: string, jsonNames: JsonNames): unknown {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Type) return fromProtoJson(resolved, value, at, jsonNames);
  const fail = (expected: string) => new Error(`${at} is ${JSON.stringify(value)}; expected ${expected}`);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'string' && value in resolved.values) return value;
    if (typeof value === 'number' && value in resolved.valuesById) return value;
    throw fail(`one of ${Object.keys(resolved.values).join(', ')}`);
  }
  switch (field.type) {
    case 'uint64':
    case 'fixed64':
    case 'int64':
    case 'sint64':
    case 'sfixed64': {
      const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
      const signed = !field.type.startsWith('u') && field.type !== 'fixed64';
      if (typeof text !== 'string' || !(signed ? /^-?\d+$/ : /^\d+$/).test(text)) {
        throw fail(`a ${field.type} as a digit string or a safe integer`);
      }
      return text;
    }
    case 'uint32':
    case 'fixed32':
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      if (!Number.isInteger(value)) throw fail(`an integer (${field.type})`);
      if (field.type.startsWith('u') || field.type === 'fixed32') {
        if ((value as number) < 0 || (value as number) > 0xffff_ffff) throw fail('a uint32');
      }
      return value;
    case 'float':
    case 'double':
      if (typeof value !== 'number') throw fail(`a number (${field.type})`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw fail('true or false');
      return value;
    case 'string':
      if (typeof value !== 'string') throw fail('a string');
      return value;
    default:
      throw fail(`a value of type ${field.type}, which this check does not know`);
  }
}

/** `package.Service/Method` or `package.Service.Method`, as ghz's --call accepts. */
function splitCall(call: string): { service: string; method: string } {
  const cut = call.includes('/') ? call.lastIndexOf('/') : call.lastIndexOf('.');
  return { service: call.slice(0, cut), method: call.slice(cut + 1) };
}

function collect(stream: ClientReadableStream<Batch>, stopAfter: number | null): Promise<Batch[]> {
  return new Promise((resolve, reject) => {
    const batches: Batch[] = [];
    stream.on('data', (batch: Batch) => {
      batches.push(batch);
      if (stopAfter !== null && batches.length === stopAfter) {
        stream.cancel();
        resolve(batches);
      }
    });
    stream.on('error', (error: ServiceError) => {
      if (stopAfter === null || batches.length < stopAfter) reject(error);
    });
    stream.on('end', () => resolve(batches));
  });
}

interface Reflected {
  readonly services: string[];
  readonly root: protobuf.Root;
  /** protobufjs drops json_name when it builds a root from descriptors: kept here. */
  readonly jsonNames: JsonNames;
}

interface MessageDescriptor {
  name: string;
  field?: Array<{ name: string; jsonName?: string }>;
  nestedType?: MessageDescriptor[];
}

/** What the server's reflection says: its service names and a protobufjs root built from its descriptors. */
async function reflect(address: string): Promise<Reflected> {
  const reflection = reflectionClient(address);
  try {
    const services = await reflection.listServices();
    const files: Array<{ package?: string; messageType?: MessageDescriptor[] }> = [];
    for (const service of services) {
      const bytes = await reflection.fileDescriptors(service);
      files.push(
        ...bytes.map((entry) => descriptor.FileDescriptorProto.decode(entry) as (typeof files)[number]),
      );
    }
    const jsonNames = new Map<string, string>();
    const walk = (scope: string, messages: readonly MessageDescriptor[]) => {
      for (const message of messages) {
        const name = `${scope}.${message.name}`;
        for (const field of message.field ?? []) {
          if (field.jsonName !== undefined) jsonNames.set(`${name}.${field.name}`, field.jsonName);
        }
        walk(name, message.nestedType ?? []);
      }
    };
    for (const file of files) walk(file.package ? `.${file.package}` : '', file.messageType ?? []);
    // ext/descriptor adds Root.fromDescriptor at run time; its typings do not declare it.
    const withDescriptors = protobuf.Root as unknown as { fromDescriptor(set: object): protobuf.Root };
    return { services, root: withDescriptors.fromDescriptor({ file: files }), jsonNames };
  } finally {
    reflection.close();
  }
}

describe('ghz configs in deploy/ghz', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let reflected: Reflected;
  const configs = new Map<string, GhzConfig>();

  before(async () => {
    // The folder is named "phantom", so the data set is served as "phantom", like the embedded default.
    dataset = await createPhantomDataset({ series: 3, shape: [24, 48, 48] });
    server = await startTestServer({ data: dataset.dir });
    reflected = await reflect(server.address);
    for (const name of (await readdir(GHZ_DIR)).filter((file) => file.endsWith('.json')).sort()) {
      configs.set(name, JSON.parse(await readFile(path.join(GHZ_DIR, name), 'utf8')) as GhzConfig);
    }
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('holds a config for GetSample, for whole streams and for the first N batches of streams', () => {
    assert.deepEqual([...configs.keys()], EXPECTED_CONFIGS);
  });

  it('uses only keys that ghz documents for config files', () => {
    for (const [name, config] of configs) {
      const unknown = Object.keys(config).filter((key) => !GHZ_CONFIG_KEYS.has(key));
      assert.deepEqual(unknown, [], `${name} has keys ghz ignores`);
    }
  });

  it('connects in plaintext through server reflection, without a deadline, accepting the largest batch, for a set time', () => {
    // The server sends at most --max-batch-bytes of tensors plus 16 MiB of headers (create-grpc-server.ts).
    const largestMessage = DEFAULT_SERVICE_LIMITS.maxBatchBytes + 16 * 1024 * 1024;
    for (const [name, config] of configs) {
      assert.equal(config['insecure'], true, `${name}: insecure`);
      for (const key of ['proto', 'protoset', 'import-paths']) {
        assert.equal(key in config, false, `${name}: ${key} would bypass server reflection`);
      }
      assert.equal(goDurationSeconds(String(config['timeout'])), 0, `${name}: timeout must be 0 (none)`);
      for (const key of DURATION_KEYS.filter((entry) => entry in config)) {
        assert.notEqual(goDurationSeconds(String(config[key])), null, `${name}: ${key} is no Go duration`);
      }
      const limit = humanBytes(String(config['max-recv-message-size']));
      assert.ok(limit !== null && limit >= largestMessage, `${name}: max-recv-message-size ${limit}`);
      // Runs bounded in time. ghz ignores `total` whenever a duration is set, and `max-duration` is one
      // (it becomes `duration`), so a file with both would promise a count that ghz never stops at.
      assert.ok((goDurationSeconds(String(config['duration'])) ?? 0) > 0, `${name}: duration`);
      for (const key of ['total', 'max-duration']) {
        assert.equal(key in config, false, `${name}: ${key} beside duration, which ghz ignores or overrides`);
      }
      assert.equal(config['duration-stop'], 'ignore', `${name}: calls open at the end are not errors`);
    }
  });

  it('calls methods that the server lists through reflection, with stream-call-count only on streams', () => {
    for (const [name, config] of configs) {
      const { service, method } = splitCall(String(config['call']));
      assert.ok(reflected.services.includes(service), `${name}: ${service} not in ${reflected.services}`);
      const found = reflected.root.lookupService(service).methods[method];
      assert.ok(found, `${name}: ${service} has no method ${method}`);
      if ('stream-call-count' in config) {
        assert.equal(found.responseStream, true, `${name}: stream-call-count on a unary call`);
        assert.ok((config['stream-call-count'] as number) > 0, `${name}: stream-call-count`);
      }
    }
    assert.equal(configs.get('stream-batches-first-n.json')?.['stream-call-count'] !== undefined, true);
  });

  for (const name of EXPECTED_CONFIGS) {
    it(`sends request data in ${name} that decodes as the method's request and that the server answers`, async () => {
      const config = configs.get(name)!;
      const { service, method } = splitCall(String(config['call']));
      const rpc = reflected.root.lookupService(service).methods[method]!;
      rpc.resolve();
      const requestType = rpc.resolvedRequestType!;
      const messages = Array.isArray(config['data']) ? config['data'] : [config['data']];
      assert.ok(messages.length > 0, `${name}: no data`);
      for (const [i, message] of messages.entries()) {
        const bytes = requestType
          .encode(
            requestType.fromObject(fromProtoJson(requestType, message, `data[${i}]`, reflected.jsonNames)),
          )
          .finish();
        const data = message as Record<string, unknown>;
        if (method === 'GetSample') {
          const request = GetSampleRequest.decode(bytes);
          assert.deepEqual(request.cropSize, data['cropSize'], 'the crop size reached the request');
          const batch = await new Promise<Batch>((resolve, reject) =>
            server.client.getSample(request, (error: ServiceError | null, reply?: Batch) =>
              error ? reject(error) : resolve(reply!),
            ),
          );
          assert.equal(batch.samples[0]?.index, BigInt(String(data['index'])));
        } else {
          const request = StreamBatchesRequest.decode(bytes);
          assert.equal(request.batchSize, data['batchSize'], 'the batch size reached the request');
          const count = config['stream-call-count'] as number | undefined;
          // Whole streams must end by themselves (max_steps); first-N streams are cut after N, as ghz does.
          const batches = await collect(server.client.streamBatches(request), count ?? null);
          const bound = count ?? Number(request.maxSteps);
          assert.ok(bound > 0, `${name}: an unbounded stream (no max_steps, no stream-call-count)`);
          assert.equal(batches.length, bound, `${name}: batches received`);
          assert.ok(batches.every((batch) => batch.samples.length === request.batchSize));
        }
      }
    });
  }
});
