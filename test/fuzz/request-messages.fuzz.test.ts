import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientReadableStream, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import type {
  Batch,
  DataSplit,
  GetSampleRequest,
  SamplingOptions,
  StreamBatchesRequest,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { baseStreamRequest, getSample } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { healthStatus } from '../support/standard-services.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { fuzzParameters } from './fuzz-support.js';

/*
 * StreamBatches and GetSample requests with every field at its extremes, against a real in-process server:
 * a table of hand-picked extremes, then fast-check combinations of them with valid values. Every call must end
 * with OK or a status a client can act on (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE,
 * RESOURCE_EXHAUSTED) whose details name a field the request got wrong; never INTERNAL, UNKNOWN or a deadline
 * (a hang). Streams are cancelled after their first batch so every call stays small. Afterwards the server
 * still serves and is SERVING on the health service.
 */

const CALL_DEADLINE_MS = 10_000;
const ACCEPTED: ReadonlySet<status> = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  // Valid on its own but impossible with this data set, e.g. a split part that holds no series.
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.RESOURCE_EXHAUSTED,
]);
/** Small limits, so that extremes meet them quickly and a valid call stays a few KiB. */
const LIMITS = {
  maxCropVoxels: 16 * 16 * 16,
  maxBatchBytes: 1 << 20,
  maxBatchSize: 64,
  maxWorldSize: 1024,
  maxStreams: 10_000,
  maxStreamsPerPeer: 10_000,
};

const U32 = [0, 1, 2, 3, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const U64 = [0n, 1n, 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n];
const ENUMS = [-1, 0, 1, 2, 3, 4, 99, 2 ** 31 - 1, -(2 ** 31)];
const FLOAT32_MAX = 3.4028234663852886e38;
const FLOATS = [
  0,
  -0,
  0.5,
  1,
  -1,
  255,
  256,
  1e-45,
  FLOAT32_MAX,
  -FLOAT32_MAX,
  Number.NaN,
  Infinity,
  -Infinity,
];
const TEN_KB = 'x'.repeat(10 * 1024);
const STRINGS = ['', 'no-such-dataset', TEN_KB, 'ünïcødé ✓', 'nul\u0000byte', '../../etc/passwd'];
const CROP_SIZES: number[][] = [
  [],
  [8],
  [8, 8],
  [1, 1, 1],
  [8, 8, 8],
  [16, 16, 16],
  [17, 16, 16],
  [0, 8, 8],
  [2 ** 32 - 1, 1, 1],
  [2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1],
  [8, 8, 8, 8],
  Array.from({ length: 10_000 }, () => 8),
];

let dataset: TempDataset;
let server: TestServer;

before(async () => {
  dataset = await createPhantomDataset({ series: 3, shape: [16, 24, 24], seed: 5n });
  server = await startTestServer({ data: dataset.dir, limits: LIMITS });
});

after(async () => {
  await server?.close();
  await dataset?.cleanup();
});

// ---------------------------------------------------------------------------------------------------------
// Calls and their outcomes.

interface Outcome {
  readonly code: status;
  readonly details: string;
  readonly batch?: Batch;
}

function deadline(): Date {
  return new Date(Date.now() + CALL_DEADLINE_MS);
}

/** One GetSample call, its status and (when OK) its batch. */
function callGetSample(request: GetSampleRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    server.client.getSample(request, new Metadata(), { deadline: deadline() }, (error, batch) =>
      resolve(
        error
          ? { code: error.code, details: error.details }
          : { code: status.OK, details: '', batch: batch! },
      ),
    );
  });
}

/** One StreamBatches call, cancelled after its first batch: OK with that batch, or the status it ended with. */
function callStream(request: StreamBatchesRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const call: ClientReadableStream<Batch> = server.client.streamBatches(request, new Metadata(), {
      deadline: deadline(),
    });
    let first: Batch | undefined;
    call.on('data', (batch: Batch) => {
      if (first !== undefined) return;
      first = batch;
      call.cancel();
    });
    call.on('error', (error: ServiceError) => {
      if (first !== undefined && error.code === status.CANCELLED)
        resolve({ code: status.OK, details: '', batch: first });
      else resolve({ code: error.code, details: error.details });
    });
    call.on('end', () => resolve({ code: status.OK, details: '', ...(first ? { batch: first } : {}) }));
  });
}

/** Field names a refusal may name, for each field that differs from the valid base request. */
function namesFor(field: string): string[] {
  const names: Record<string, string[]> = {
    dataset: ['data set'],
    seed: ['seed'],
    epoch: ['epoch'],
    rank: ['rank'],
    worldSize: ['world_size', 'rank'],
    batchSize: ['batch_size'],
    cropSize: ['crop_size', 'crop '],
    sampling: ['sampling', 'probabilities'],
    dtype: ['dtype', 'batch_size or crop_size'],
    includeMask: ['batch_size or crop_size'],
    startStep: ['start_step', 'step'],
    maxSteps: ['max_steps'],
    split: ['split', 'series'],
    rankGroups: ['rank_groups'],
    index: ['index'],
  };
  return names[field] ?? [field];
}

/** Asserts the outcome of a call whose fields `changed` differ from a valid request. */
function assertOutcome(what: string, outcome: Outcome, changed: readonly string[]): void {
  assert.ok(
    ACCEPTED.has(outcome.code),
    `${what} ended with ${status[outcome.code]} (${outcome.details}); expected OK or a status a client can act on`,
  );
  if (outcome.code === status.OK) {
    if (outcome.batch !== undefined) assertBatch(outcome.batch);
    return;
  }
  // grpc-js refuses a request over the server's 1 MiB receive limit itself, before any handler sees it.
  if (outcome.code === status.RESOURCE_EXHAUSTED && /larger than max/.test(outcome.details)) return;
  const names = changed.flatMap(namesFor);
  assert.ok(
    names.some((name) => outcome.details.includes(name)),
    `${what}: ${status[outcome.code]} "${outcome.details.slice(0, 300)}" names none of ${JSON.stringify(names)}`,
  );
}

/** A batch's tensors agree with its shape and dtype. */
function assertBatch(batch: Batch): void {
  const [b = 0, s0 = 0, s1 = 0, s2 = 0] = batch.shape;
  const voxels = b * s0 * s1 * s2;
  assert.ok(voxels > 0, `shape ${batch.shape}`);
  assert.equal(batch.image.length, voxels * (batch.dtype === 2 ? 4 : 1));
  assert.ok(batch.mask.length === 0 || batch.mask.length === voxels);
  assert.equal(batch.samples.length, b);
}

// ---------------------------------------------------------------------------------------------------------
// Requests.

const BASE_SAMPLING: SamplingOptions = {
  jitterProb: 0,
  negativeProb: 0,
  centerProb: 0,
  samplesPerNodule: 0,
  negativesPerEpoch: 0,
  padValue: 0,
  shuffleWindow: 0,
  augmentation: undefined,
  avoidForeground: false,
  backgroundMaxDraws: 0,
  foregroundShare: 0,
  keepLabels: false,
  labelRatios: [],
};
const BASE_STREAM: StreamBatchesRequest = baseStreamRequest({
  batchSize: 2,
  cropSize: [8, 8, 8],
  maxSteps: 1n,
});
const BASE_SAMPLE: GetSampleRequest = {
  dataset: '',
  seed: 1n,
  epoch: 0,
  index: 0n,
  cropSize: [8, 8, 8],
  sampling: undefined,
  dtype: 0,
  includeMask: true,
  split: undefined,
};

/** Sampling options with one field at an extreme (negatives_per_epoch capped: a million costs a second a plan). */
const samplingExtremes: SamplingOptions[] = [
  ...FLOATS.flatMap((value) =>
    (['jitterProb', 'negativeProb', 'centerProb', 'padValue'] as const).map((field) => ({
      ...BASE_SAMPLING,
      [field]: value,
    })),
  ),
  ...U32.flatMap((value) =>
    (['samplesPerNodule', 'shuffleWindow'] as const).map((field) => ({ ...BASE_SAMPLING, [field]: value })),
  ),
  ...[0, 1, 1_000_001, 2 ** 32 - 1].map((value) => ({ ...BASE_SAMPLING, negativesPerEpoch: value })),
  { ...BASE_SAMPLING, jitterProb: FLOAT32_MAX, negativeProb: FLOAT32_MAX, centerProb: FLOAT32_MAX },
  { ...BASE_SAMPLING, jitterProb: 1e-45 },
];
const splitExtremes: (DataSplit | undefined)[] = [
  undefined,
  ...FLOATS.flatMap((holdoutFraction) => ENUMS.slice(0, 5).map((part) => ({ holdoutFraction, part }))),
  ...ENUMS.map((part) => ({ holdoutFraction: 0.5, part })),
  { holdoutFraction: 0.999, part: 2 },
  { holdoutFraction: 1e-45, part: 2 },
];

/** Every extreme of every field of a request type, as [field, value] pairs (the hand-picked table). */
function streamExtremes(): [keyof StreamBatchesRequest, unknown][] {
  return [
    ...STRINGS.map((value) => ['dataset', value] as [keyof StreamBatchesRequest, unknown]),
    ...U64.map((value) => ['seed', value] as [keyof StreamBatchesRequest, unknown]),
    ...(['epoch', 'rank', 'worldSize', 'batchSize', 'rankGroups'] as const).flatMap((field) =>
      U32.map((value) => [field, value] as [keyof StreamBatchesRequest, unknown]),
    ),
    ...CROP_SIZES.map((value) => ['cropSize', value] as [keyof StreamBatchesRequest, unknown]),
    ...samplingExtremes.map((value) => ['sampling', value] as [keyof StreamBatchesRequest, unknown]),
    ...ENUMS.map((value) => ['dtype', value] as [keyof StreamBatchesRequest, unknown]),
    ...[true, false].map((value) => ['includeMask', value] as [keyof StreamBatchesRequest, unknown]),
    ...(['startStep', 'maxSteps'] as const).flatMap((field) =>
      U64.map((value) => [field, value] as [keyof StreamBatchesRequest, unknown]),
    ),
    ...splitExtremes.map((value) => ['split', value] as [keyof StreamBatchesRequest, unknown]),
  ];
}

function sampleExtremes(): [keyof GetSampleRequest, unknown][] {
  return [
    ...STRINGS.map((value) => ['dataset', value] as [keyof GetSampleRequest, unknown]),
    ...U64.map((value) => ['seed', value] as [keyof GetSampleRequest, unknown]),
    ...U32.map((value) => ['epoch', value] as [keyof GetSampleRequest, unknown]),
    ...U64.map((value) => ['index', value] as [keyof GetSampleRequest, unknown]),
    ...CROP_SIZES.map((value) => ['cropSize', value] as [keyof GetSampleRequest, unknown]),
    ...samplingExtremes.map((value) => ['sampling', value] as [keyof GetSampleRequest, unknown]),
    ...ENUMS.map((value) => ['dtype', value] as [keyof GetSampleRequest, unknown]),
    ...[true, false].map((value) => ['includeMask', value] as [keyof GetSampleRequest, unknown]),
    ...splitExtremes.map((value) => ['split', value] as [keyof GetSampleRequest, unknown]),
  ];
}

/** A request with each field either its base value (most often) or one of its extremes. */
function combined<T extends object>(
  base: T,
  extremes: readonly [keyof T, unknown][],
): fc.Arbitrary<{ request: T; changed: string[] }> {
  const fields = [...new Set(extremes.map(([field]) => field))];
  const perField = fields.map((field) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...extremes.filter(([name]) => name === field).map(([, value]) => value)),
      },
    ),
  );
  return fc.tuple(...perField).map((values) => {
    const request = { ...base };
    const changed: string[] = [];
    values.forEach((value, i) => {
      if (value === undefined) return;
      (request as Record<string, unknown>)[fields[i] as string] = value;
      changed.push(fields[i] as string);
    });
    return { request, changed };
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('request messages at their extremes', () => {
  it('answers the base requests with OK', async () => {
    assertOutcome('base stream', await callStream(BASE_STREAM), []);
    assertOutcome('base sample', await callGetSample(BASE_SAMPLE), []);
  });

  it('answers StreamBatches with every field at each of its extremes with OK or a status naming the field', async () => {
    for (const [field, value] of streamExtremes()) {
      const outcome = await callStream({ ...BASE_STREAM, [field]: value });
      assertOutcome(`StreamBatches ${field}=${shown(value)}`, outcome, [field]);
    }
  });

  it('answers GetSample with every field at each of its extremes with OK or a status naming the field', async () => {
    for (const [field, value] of sampleExtremes()) {
      const outcome = await callGetSample({ ...BASE_SAMPLE, [field]: value });
      assertOutcome(`GetSample ${field}=${shown(value)}`, outcome, [field]);
    }
  });

  it('answers combinations of extremes in StreamBatches with OK or a status naming one of them', async () => {
    await fc.assert(
      fc.asyncProperty(combined(BASE_STREAM, streamExtremes()), async ({ request, changed }) => {
        assertOutcome(`StreamBatches ${changed.join(', ')}`, await callStream(request), changed);
      }),
      fuzzParameters(150),
    );
  });

  it('answers combinations of extremes in GetSample with OK or a status naming one of them', async () => {
    await fc.assert(
      fc.asyncProperty(combined(BASE_SAMPLE, sampleExtremes()), async ({ request, changed }) => {
        assertOutcome(`GetSample ${changed.join(', ')}`, await callGetSample(request), changed);
      }),
      fuzzParameters(150),
    );
  });

  it('refuses a crop_size too large for the 1 MiB request limit with RESOURCE_EXHAUSTED', async () => {
    const cropSize = Array.from({ length: 300_000 }, () => 2 ** 32 - 1);
    const outcome = await callGetSample({ ...BASE_SAMPLE, cropSize });
    assert.equal(outcome.code, status.RESOURCE_EXHAUSTED, outcome.details);
  });

  it('still streams, samples and reports SERVING after all of them', async () => {
    const stream = await callStream({ ...BASE_STREAM, maxSteps: 2n });
    assertOutcome('stream afterwards', stream, []);
    assert.ok(stream.batch !== undefined);
    const sample = await getSample(server.client, { cropSize: [8, 8, 8] });
    assertBatch(sample);
    assert.equal(await healthStatus(server.address, 'voxelfeed.v1.VoxelFeed'), 'SERVING');
  });
});

function shown(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}... (${value.length})` : value);
  if (Array.isArray(value)) return value.length > 8 ? `[${value.length} values]` : `[${value.join(', ')}]`;
  return JSON.stringify(value, (_, item: unknown) =>
    typeof item === 'bigint' ? String(item) : Number.isNaN(item) ? 'NaN' : item,
  );
}
