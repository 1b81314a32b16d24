import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A float32 tensor by name: weights, or one slot of the optimizer's state. */
export interface NamedValues {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** Where training stands: the next batch to train on is step `step` of epoch `epoch`. */
export interface DataCursor {
  readonly epoch: number;
  readonly step: number;
}

export interface Checkpoint {
  readonly cursor: DataCursor;
  /** Steps trained so far, over all epochs. */
  readonly globalStep: number;
  /** Anything the trainer needs to check that a resume is compatible (model config, batch, crop, seed...). */
  readonly meta: Readonly<Record<string, unknown>>;
  readonly variables: readonly NamedValues[];
  readonly optimizer: readonly NamedValues[];
}

const FORMAT = 'voxelfeed-checkpoint-v1';
const LATEST = 'latest.json';

interface TensorEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/**
 * Writes a checkpoint as `step-<globalStep>/` (state.json + weights.bin + optimizer.bin, float32 little endian)
 * and then points `latest.json` at it. Each file is written under a temporary name and renamed, so a crash at
 * any moment leaves the previous checkpoint intact and `latest.json` naming a complete one. Keeps the newest
 * `keep` checkpoints.
 */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint, keep = 3): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `step-${String(checkpoint.globalStep).padStart(9, '0')}`;
  const staging = path.join(dir, `.${name}.${process.pid}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  const weights = pack(checkpoint.variables);
  const optimizer = pack(checkpoint.optimizer);
  await writeFile(path.join(staging, 'weights.bin'), weights.bytes);
  await writeFile(path.join(staging, 'optimizer.bin'), optimizer.bytes);
  const state = {
    format: FORMAT,
    cursor: checkpoint.cursor,
    globalStep: checkpoint.globalStep,
    meta: checkpoint.meta,
    variables: weights.entries,
    optimizer: optimizer.entries,
  };
  await writeFile(path.join(staging, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  const final = path.join(dir, name);
  await rm(final, { recursive: true, force: true });
  await rename(staging, final);
  const latestTemp = path.join(dir, `.${LATEST}.${process.pid}.tmp`);
  await writeFile(latestTemp, `${JSON.stringify({ checkpoint: name })}\n`);
  await rename(latestTemp, path.join(dir, LATEST));
  await prune(dir, keep);
  return final;
}

/** The checkpoint `latest.json` names, or null when the folder holds none. */
export async function loadLatestCheckpoint(dir: string): Promise<Checkpoint | null> {
  let latest: { checkpoint?: unknown };
  try {
    latest = JSON.parse(await readFile(path.join(dir, LATEST), 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(
      `${path.join(dir, LATEST)} is unreadable (${(error as Error).message}); delete it to start over`,
    );
  }
  if (typeof latest.checkpoint !== 'string' || !/^step-\d+$/.test(latest.checkpoint)) {
    throw new Error(`${path.join(dir, LATEST)} does not name a checkpoint; delete it to start over`);
  }
  const folder = path.join(dir, latest.checkpoint);
  const state = JSON.parse(await readFile(path.join(folder, 'state.json'), 'utf8'));
  if (state.format !== FORMAT) {
    throw new Error(`${folder}/state.json has format ${state.format}, expected ${FORMAT}`);
  }
  const [weights, optimizer] = await Promise.all([
    readFile(path.join(folder, 'weights.bin')),
    readFile(path.join(folder, 'optimizer.bin')),
  ]);
  return {
    cursor: state.cursor,
    globalStep: state.globalStep,
    meta: state.meta,
    variables: unpack(weights, state.variables, folder),
    optimizer: unpack(optimizer, state.optimizer, folder),
  };
}

function pack(tensors: readonly NamedValues[]): { bytes: Buffer; entries: TensorEntry[] } {
  const total = tensors.reduce((sum, tensor) => sum + tensor.values.length * 4, 0);
  const bytes = Buffer.alloc(total);
  const entries: TensorEntry[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    const expected = tensor.shape.reduce((product, size) => product * size, 1);
    if (expected !== tensor.values.length) {
      throw new Error(`tensor ${tensor.name} has shape [${tensor.shape}] but ${tensor.values.length} values`);
    }
    for (let i = 0; i < tensor.values.length; i++) bytes.writeFloatLE(tensor.values[i]!, offset + i * 4);
    entries.push({ name: tensor.name, shape: [...tensor.shape], offset, length: tensor.values.length });
    offset += tensor.values.length * 4;
  }
  return { bytes, entries };
}

function unpack(bytes: Buffer, entries: readonly TensorEntry[], folder: string): NamedValues[] {
  return entries.map((entry) => {
    if (entry.offset + entry.length * 4 > bytes.length) {
      throw new Error(
        `${folder}: tensor ${entry.name} runs past the end of its file; the checkpoint is truncated`,
      );
    }
    const values = new Float32Array(entry.length);
    for (let i = 0; i < entry.length; i++) values[i] = bytes.readFloatLE(entry.offset + i * 4);
    return { name: entry.name, shape: entry.shape, values };
  });
}

async function prune(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((name) => /^step-\d+$/.test(name)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    await rm(path.join(dir, name), { recursive: true, force: true });
  }
}
