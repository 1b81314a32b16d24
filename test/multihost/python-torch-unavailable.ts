import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's Python, which has the packages the Python client needs (the `python3` on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/**
 * Why the Python client's example trainer cannot run here (no /usr/bin/python3, or no grpc, numpy or torch
 * with torch.distributed), or null when it can.
 */
export async function pythonTorchUnavailable(): Promise<string | null> {
  const check = 'import grpc, numpy, torch.distributed as d; assert d.is_available(), "no torch.distributed"';
  try {
    await run(PYTHON, ['-c', check], { timeout: 60_000 });
    return null;
  } catch (error) {
    const why =
      (error as { stderr?: string }).stderr?.trim().split('\n').at(-1) || String(error).split('\n')[0];
    return `${PYTHON} cannot run the PyTorch trainer (${why}); install python3-torch, python3-grpcio and python3-numpy with: sudo bash scripts/ensure-test-tools.sh`;
  }
}
