import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { LoadedSeriesVolume } from '../dataset/loading/load-series-volume.js';
import { VoxelfeedError } from '../errors.js';
import { fromWorkerError } from './worker-error.js';
import {
  type CutTask,
  isWorkerLoadedMessage,
  type LoadTask,
  type WorkerAnswer,
  type WorkerTask,
} from './worker-tasks.js';

/** Tasks a thread holds at once: the one it runs and the next (see the pool's options). */
const TASKS_PER_THREAD = 2;

/** The longest close() waits for threads still loading their code. */
const LOAD_WAIT_MS = 10_000;

export interface CropWorkersOptions {
  /** Worker threads, at least 1 (`--workers`). */
  readonly threads: number;
  /** A worker that failed outside any task (its task, if any, fails on its own); the pool starts another. */
  readonly onWorkerError?: (error: unknown) => void;
  /** The threads' module instead of crop-worker's (tests give one that cannot start). */
  readonly workerFilename?: string;
}

/**
 * A pool of worker threads (piscina) that cut batches' crops into their shared buffers and read and decode
 * volumes into shared memory, so the main thread only plans, frames and writes. Tasks are pure functions of
 * what they are given: a batch's bytes are the same whichever thread cut which series, and with no pool.
 *
 * A worker that dies (an uncaught error, terminated, out of memory) fails only the tasks it held (the one it
 * ran and the next, if any), with UNAVAILABLE; piscina starts another thread in its place.
 */
export class CropWorkers {
  private readonly pool: Piscina;
  readonly threads: number;
  /** The ids of the threads that have loaded their code and not ended since. */
  private readonly loadedThreads = new Set<number>();
  /** Called whenever a thread has loaded its code. */
  private readonly loadedListeners = new Set<() => void>();
  /** The latest error of a thread outside any task, for `started`'s message. */
  private lastWorkerError: unknown = undefined;
  /** Tasks handed to the pool and not yet answered. */
  private unanswered = 0;

  constructor(options: CropWorkersOptions) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) {
      throw new RangeError(`crop workers need at least 1 thread, got ${options.threads}`);
    }
    this.threads = options.threads;
    this.pool = new Piscina({
      // Another module (tests) runs with the same flags and loader as crop-worker's.
      ...workerEntry(),
      ...(options.workerFilename === undefined ? {} : { filename: options.workerFilename }),
      minThreads: options.threads,
      maxThreads: options.threads,
      // Threads stay for the life of the server: starting one costs tens of milliseconds.
      idleTimeout: Number.POSITIVE_INFINITY,
      // Between tasks a worker's event loop runs (piscina's Atomics wait would stop it), so its timer can
      // collect the handles of shared memory it holds (crop-worker.ts).
      atomics: 'disabled',
      // Each thread holds the next task in its port while it runs one, so it starts that task at once instead
      // of waking the main thread with its answer and waiting for the next to be handed over; a load's reads
      // and inflating (on libuv's threads) leave the thread free for another task meanwhile. Measured on 2
      // cores, one stream of 8 uint8 crops 16x96x96 from a warm cache: 6-12% more batches per second with 1
      // or 2 threads than 1 task per thread, at the same CPU per batch.
      concurrentTasksPerWorker: TASKS_PER_THREAD,
    });
    // Without a listener, an error of a worker between tasks would be an uncaught 'error' event.
    this.pool.on('error', (error: unknown) => {
      this.lastWorkerError = error;
      options.onWorkerError?.(error);
    });
    this.pool.on('message', (message: unknown) => {
      if (!isWorkerLoadedMessage(message)) return;
      this.loadedThreads.add(message.threadId);
      for (const listener of this.loadedListeners) listener();
    });
    // A thread that ends before it has loaded (its code failed) was never counted.
    this.pool.on('workerDestroy', (worker: { readonly id: number }) => {
      this.loadedThreads.delete(worker.id);
    });
  }

  /**
   * Resolves once every thread has loaded its code. A thread that cannot start (its code fails to load, the
   * process cannot make threads) fails and piscina starts another, without end, while tasks wait: so after
   * `timeoutMs` this rejects with UNAVAILABLE, naming the last error and the fix, for the server to stop at
   * start instead of leaving every stream waiting.
   */
  async started(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.loadedThreads.size < this.threads) {
      const left = deadline - performance.now();
      if (left <= 0) {
        const error = this.lastWorkerError;
        const reason =
          error === undefined ? '' : ` (${error instanceof Error ? error.message : String(error)})`;
        throw new VoxelfeedError(
          'UNAVAILABLE',
          `${this.loadedThreads.size} of ${this.threads} crop worker threads started within ${timeoutMs / 1000} s${reason}; ` +
            'start with --workers 0 (VOXELFEED_WORKERS=0) to cut crops on the main thread',
          { cause: error },
        );
      }
      await this.loadedOrAfter(Math.min(left, 100));
    }
  }

  /** Cuts some series' crops into the batch buffer; per part, the foreground voxels of each, in slot order. */
  cut(task: Omit<CutTask, 'kind'>): Promise<number[][]> {
    return this.run<number[][]>({ kind: 'cut', ...task });
  }

  /** loadSeriesVolume in a worker: the volume comes back in shared memory, not copied. */
  loadSeries(imagePath: string, maskPath: string): Promise<LoadedSeriesVolume> {
    const task: LoadTask = { kind: 'load', imagePath, maskPath };
    return this.run<LoadedSeriesVolume>(task);
  }

  /** The worker threads now running (tests end one to check that the pool and the server outlive it). */
  get workerThreads(): readonly Worker[] {
    return this.pool.threads;
  }

  /** Tasks the threads have finished since the pool started. */
  get completedTasks(): number {
    return this.pool.completed;
  }

  /**
   * Threads with no task of this pool's: the threads less the tasks handed over and not yet answered (each
   * thread takes up to two at once, so this is 0 as soon as there is one per thread).
   */
  get idleThreads(): number {
    return Math.max(0, this.threads - this.unanswered);
  }

  /** Tasks waiting for a free thread. */
  get queued(): number {
    return this.pool.queueSize;
  }

  /**
   * Ends every thread; tasks still queued or running fail. Threads still loading their code are waited for
   * (up to 10 s): Node 20 aborts the whole process when a worker is terminated while it instantiates an ES
   * module that it loads through require (as piscina does).
   */
  async close(): Promise<void> {
    const started = performance.now();
    while (this.loadedThreads.size < this.pool.threads.length && performance.now() - started < LOAD_WAIT_MS) {
      await this.loadedOrAfter(100);
    }
    await this.pool.destroy();
  }

  /** Waits until a thread has loaded its code, or `ms` have passed. */
  private loadedOrAfter(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.loadedListeners.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.loadedListeners.add(done);
    });
  }

  private async run<T>(task: WorkerTask): Promise<T> {
    let answer: WorkerAnswer<T>;
    this.unanswered += 1;
    try {
      // No abort signal: piscina would end the thread mid-task, which may still be writing into a buffer the
      // batch then gives back. Tasks are short; callers check their signal between them.
      answer = (await this.pool.run(task)) as WorkerAnswer<T>;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new VoxelfeedError(
        'UNAVAILABLE',
        `a crop worker thread stopped during a ${task.kind} task (${detail}); another takes its place, retry the call`,
        { cause: error },
      );
    } finally {
      this.unanswered -= 1;
    }
    if (!answer.ok) throw fromWorkerError(answer.error);
    return answer.value;
  }
}

/**
 * Where the worker's code is: the compiled crop-worker.js beside this file, or, when these are the
 * TypeScript sources (tests, benchmarks, `npm run dev`), crop-worker.ts with tsx's loader, which a worker
 * thread gets only from its execArgv, and the repository's tsconfig for its `@voxelfeed/*` paths.
 */
function workerEntry(): { filename: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } {
  const fromSources = import.meta.url.endsWith('.ts');
  const filename = new URL(`./crop-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href;
  if (!fromSources) return { filename };
  return {
    filename,
    execArgv: workerExecArgv(process.execArgv, import.meta.resolve('tsx')),
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)),
    },
  };
}

/**
 * The process's flags without its `--import` modules, then tsx's loader: a worker needs the loader and nothing
 * else a process was started with (a test's hook module would run again in every thread, and one that wraps
 * child_process breaks the loader's own esbuild service there, so the thread never starts).
 */
export function workerExecArgv(execArgv: readonly string[], tsx: string): string[] {
  const kept: string[] = [];
  for (let at = 0; at < execArgv.length; at++) {
    const arg = execArgv[at]!;
    if (arg === '--import') {
      at += 1;
      continue;
    }
    if (arg.startsWith('--import=')) continue;
    kept.push(arg);
  }
  return [...kept, '--import', tsx];
}
