import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { pollUntil } from './poll-until.js';
import { findPrometheusTool } from './prometheus-tools.js';

/** One element of an instant vector from /api/v1/query. */
export interface PromVectorSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusProcess {
  /** e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** The `data` of a GET on the HTTP API, e.g. `api('/api/v1/targets')`; rejects on an error status. */
  api<T>(pathAndQuery: string): Promise<T>;
  /** An instant query evaluated now. */
  query(expr: string): Promise<PromVectorSample[]>;
  /** What Prometheus logged so far, for failure messages. */
  log(): string;
  /** SIGTERM (SIGKILL after 10 s), then removes its folder. */
  stop(): Promise<void>;
}

interface ApiResponse<T> {
  readonly status: 'success' | 'error';
  readonly data: T;
  readonly error?: string;
}

/**
 * Starts a real Prometheus on 127.0.0.1 with `config` as its prometheus.yml and `files` (rule files, by path
 * relative to the config) beside it, all in a fresh temp folder that also holds its storage. Resolves once
 * /-/ready answers; rejects with its log if it exits first or is not ready within `timeoutMs`.
 */
export async function startPrometheus(options: {
  config: string;
  files?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}): Promise<PrometheusProcess> {
  const binary = await findPrometheusTool('prometheus');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, options.config);
  for (const [relative, content] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
    await writeFile(path.join(dir, relative), content);
  }
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  // Not events.once: it would reject on a spawn 'error' with nobody listening.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`GET ${pathAndQuery}: ${body.error ?? response.status}`);
    return body.data;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode}:\n${log}`);
        }
        const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) });
        return response.ok ? true : undefined;
      },
      {
        timeoutMs: options.timeoutMs ?? 20_000,
        describe: () => `prometheus to be ready on ${url}; its log:\n${log}`,
      },
    );
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    api,
    query: async (expr) => {
      const data = await api<{
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`${expr} gave a ${data.resultType}, not a vector`);
      return data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
    },
    log: () => log,
    stop,
  };
}
