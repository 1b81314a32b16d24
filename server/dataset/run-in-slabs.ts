/**
 * Splits a long loop on the event loop into slabs and yields between them (`setImmediate`), so decoding a
 * volume never blocks gRPC streams or metrics scrapes for more than one slab's time.
 */
export async function runInSlabs(
  total: number,
  perSlab: number,
  work: (start: number, end: number) => void,
): Promise<void> {
  const step = Math.max(1, Math.floor(perSlab));
  for (let start = 0; start < total; start += step) {
    if (start > 0) await yieldToEventLoop();
    work(start, Math.min(total, start + step));
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
