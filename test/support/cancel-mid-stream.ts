import assert from 'node:assert/strict';

/**
 * Reads `messages`, releasing each, and aborts `abort` once `count` have been read; checks that the stream
 * then ends with the abort's reason, after exactly `count` messages.
 */
export async function cancelMidStream(
  messages: AsyncIterable<{ release(): void }>,
  count: number,
  abort: AbortController,
): Promise<void> {
  let read = 0;
  await assert.rejects(
    (async () => {
      for await (const ready of messages) {
        read += 1;
        ready.release();
        if (read === count) abort.abort(new Error('cancelled by the test'));
      }
    })(),
    /cancelled by the test/,
  );
  assert.equal(read, count);
}
