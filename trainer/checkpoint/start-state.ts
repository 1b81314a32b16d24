import type { DataCursor, NamedValues } from './checkpoint-store.js';

/**
 * What every rank starts from, as rank 0 sends it: the weights, the optimizer's slots (empty on a fresh start),
 * and where in the data training goes on. One buffer, so a single broadcast carries it.
 */
export interface StartState {
  readonly cursor: DataCursor;
  readonly globalStep: number;
  readonly variables: readonly NamedValues[];
  readonly optimizer: readonly NamedValues[];
}

interface Header {
  readonly cursor: DataCursor;
  readonly globalStep: number;
  readonly variables: readonly { name: string; shape: readonly number[] }[];
  readonly optimizer: readonly { name: string; shape: readonly number[] }[];
}

/**
 * Layout: a uint32 (little endian) header length, the JSON header padded with spaces to a multiple of 4
 * bytes, then every tensor's float32 values in header order (variables, then optimizer slots), so the values
 * are copied as aligned Float32Arrays, bit for bit.
 */
export function encodeStartState(state: StartState): Uint8Array {
  const header: Header = {
    cursor: state.cursor,
    globalStep: state.globalStep,
    variables: state.variables.map(({ name, shape }) => ({ name, shape })),
    optimizer: state.optimizer.map(({ name, shape }) => ({ name, shape })),
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 4) * 4;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, ' ')]);
  const tensors = [...state.variables, ...state.optimizer];
  const floats = tensors.reduce((sum, tensor) => sum + tensor.values.length, 0);
  const bytes = new Uint8Array(4 + padded + floats * 4);
  new DataView(bytes.buffer).setUint32(0, padded, true);
  bytes.set(json, 4);
  const values = new Float32Array(bytes.buffer, 4 + padded, floats);
  let offset = 0;
  for (const tensor of tensors) {
    values.set(tensor.values, offset);
    offset += tensor.values.length;
  }
  return bytes;
}

/** The state `encodeStartState` wrote; a truncated or foreign buffer is an error saying so. */
export function decodeStartState(bytes: Uint8Array): StartState {
  const corrupt = (why: string) =>
    new Error(
      `the start-up state rank 0 sent is unreadable (${why}); run every rank from the same voxelfeed version`,
    );
  if (bytes.length < 4) throw corrupt(`${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  if (headerLength % 4 !== 0 || 4 + headerLength > bytes.length)
    throw corrupt(`header of ${headerLength} bytes`);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(4, 4 + headerLength)).toString('utf8'));
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  // A copy, so the values are aligned whatever the offset of the received buffer.
  const values = new Float32Array(bytes.slice(4 + headerLength).buffer);
  let offset = 0;
  const take = (entries: Header['variables']): NamedValues[] =>
    entries.map(({ name, shape }) => {
      const length = shape.reduce((product, size) => product * size, 1);
      if (offset + length > values.length) throw corrupt(`tensor ${name} runs past the end`);
      const tensor = { name, shape, values: values.slice(offset, offset + length) };
      offset += length;
      return tensor;
    });
  const variables = take(header.variables);
  const optimizer = take(header.optimizer);
  return { cursor: header.cursor, globalStep: header.globalStep, variables, optimizer };
}
