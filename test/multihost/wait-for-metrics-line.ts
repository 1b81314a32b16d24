import type { NetnsProcess } from './netns-process.js';

/**
 * The metrics address from a server's second stdout line, "metrics on http://HOST:PORT/metrics", once it has
 * printed it; kills the server and rejects with its stderr when it exits first or takes over `timeoutMs`.
 */
export async function waitForMetricsLine(server: NetnsProcess, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const match = /metrics on (http:\/\/\S+)/.exec(server.stdout());
    if (match) return match[1]!;
    const exited = await Promise.race([server.exited.then(() => true), tick(100)]);
    if (exited) break;
  }
  await server.kill();
  throw new Error(`voxelfeed serve printed no metrics address within ${timeoutMs} ms:\n${server.stderr()}`);
}

function tick(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms));
}
