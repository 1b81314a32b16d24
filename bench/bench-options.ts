import { command, option } from '../common/cli/command-spec.js';
import { formatHelp } from '../common/cli/format-help.js';
import { choice, decimal, flag } from '../common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '../common/cli/parse-command-line.js';

/** The parts `--only` runs alone (the letters in the summary below say what each measures). */
const BENCH_PARTS = [
  'cache-window',
  'grpc',
  'torch',
  'tiles',
  'allreduce',
  'augment',
  'allocations',
  'same-host',
  'wire',
  'cold-epoch',
] as const;

export interface BenchOptions {
  /** 8 series and shorter runs: a smoke test, not a measurement. */
  readonly quick: boolean;
  readonly seconds: number;
  /** One part alone; null: every measurement. */
  readonly only: (typeof BENCH_PARTS)[number] | null;
}

/** `npm run bench`: its options, defaults and help lines. */
export const BENCH_COMMAND = command({
  name: 'npm run bench --',
  usage: `Usage: npm run bench [-- --quick] [-- --seconds N] [-- --only ${BENCH_PARTS.join('|')}]`,
  summary: `Measures the data server on phantom data written once under .voxelfeed/bench:
  (a) crops/s assembled in-process from a warm cache      (64 series of 128x192x192, crops 16x96x96, batch 8)
  (b) crops/s received by one client over loopback gRPC   (same data, a separate server process)
  (c) seconds from starting serve to the first batch      (888 series of 16x48x48)
  (d) volume loads per series in the first epoch when the cache holds the data set
  (f) the cost of metrics: (b) with the server's metrics off and on, alternating
  (e) trainer GPU idle share with a simulated device (20 ms per batch of 8), steady state from a warm cache
  and the baseline it replaces: decoding a whole scan for every crop.
  (g) cache hit ratio and volume loads per epoch, full shuffle against shuffle_window, cache = 10% of the data
  (h) 2 replicas (10% cache each), 4 ranks pinned by rank affinity, windowed order: rank_groups 1 against 2
  (i) crops/s delivered as torch tensors into one Python process (/usr/bin/python3 with torch and grpc;
      skipped without): VoxelFeedDataset against the original PyTorch Dataset, with and without lru_cache
      (16 series of 96x160x160, 3 alternating rounds; bench/python/torch_loader_bench.py --help)
  (j) voxelfeed infer on one whole 300x512x512 scan with the identity model: tiles 16x96x96, overlap 0.5,
      Gaussian weighting, batch 8; seconds per scan cold and warm, tiles/s, peak merge bytes against a
      whole-volume float32 buffer (only with --only tiles; a 60x128x128 scan with --quick)
  (k) ring all-reduce of trainer gradients between two processes on loopback: MB/s for the tiny and the
      paper V-Net's parameter counts, and the per-step overhead (one value); sizes alternate over 3 rounds
      (only with --only allreduce; --quick: one round, the paper size cut by 16)
  (l) in-process crops/s, uint8 and float32, without and with the usual augmentation (mirror, quarter turns,
      scale, shift, gamma, noise at nnU-Net's probabilities), 3 alternating rounds (only with --only augment)
  (m) bytes allocated per batch on the JS heap and in ArrayBuffers, garbage collections and their share of
      time and CPU: the in-process pipeline from a warm cache (uint8, float32, augmented, and through the
      streaming call's write path), 5 alternating rounds of 200 batches, then where the bytes are allocated
      (sampled; 16 series of 128x192x192; only with --only allocations; --quick: 8 series, 3 rounds of 40)
  (n) MB/s and CPU s/GB of one stream on the same-host path (shared memory) against the normal stream, to
      a TypeScript client (a new buffer per batch, and with reuseBuffers) and to the Python client, and raw
      TCP loopback; 3 alternating rounds (only with --only same-host)
  (o) the wire: one stream of one batch's size (8 uint8 crops 16x96x96 with masks) over raw TCP, Node http2,
      plain grpc-js and voxelfeed, each sender and receiver its own process; sender CPU s/GB and GC share;
      voxelfeed with 1, 2, 4, 8 client processes; in-process assembly against a memcpy of the same bytes;
      3 alternating rounds of --seconds / 2 per window (only with --only wire; 2 rounds with --quick)
  (p) the crop workers (--workers): one first epoch from an empty cache with 1 and 2 worker threads (and 0),
      and (q) in-process crops/s, uint8 and float32, from a warm cache with 0 (the main thread), 1 and 2, each
      with the main thread's busy time; pool sizes alternate over 3 rounds (only with --only cold-epoch)
Prints tables, then one JSON line.`,
  options: {
    quick: option({
      kind: flag(),
      default: false,
      help: 'use 8 series and shorter runs (a smoke test, not a measurement)',
    }),
    seconds: option({
      kind: decimal({ min: 0, max: 3600, aboveMin: true, placeholder: 'N', example: '10' }),
      default: null,
      help: 'seconds per timed measurement (default 10; 1 with --quick)',
    }),
    only: option({
      kind: choice(BENCH_PARTS, { placeholder: BENCH_PARTS.join('|') }),
      default: null,
      help: "cache-window runs (g) and (h) alone; grpc runs (b) alone (16 MiB window), for before/after comparisons of the server's send path; torch runs (i) alone; tiles runs (j) alone; allreduce runs (k) alone; augment runs (l) alone; allocations runs (m) alone; same-host runs (n) alone; wire runs (o) alone; cold-epoch runs (p) and (q) alone",
    }),
  },
});

export const BENCH_HELP = formatHelp(BENCH_COMMAND);

/** The benchmark's command line; every problem at once in one UsageError. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  const line = parseCommandLine(BENCH_COMMAND, argv, {});
  if (line === 'help') return 'help';
  throwIfProblems(BENCH_COMMAND, line.problems);
  const { quick, seconds, only } = line.values;
  return { quick, seconds: seconds ?? (quick ? 1 : 10), only };
}
