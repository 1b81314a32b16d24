import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchCache } from '../../../../../trainer/inspect/preview/browser/batch-cache.js';

describe('BatchCache', () => {
  it('fetches a key once however often it is asked, and forgets the least recently used', async () => {
    const fetched: string[] = [];
    const cache = new BatchCache<string>(2, async (key) => {
      fetched.push(key);
      return `batch ${key}`;
    });
    assert.equal(await cache.get('a'), 'batch a');
    await Promise.all([cache.get('b'), cache.get('b')]);
    await cache.get('a'); // a is now the most recent
    await cache.get('c'); // evicts b
    await cache.get('a');
    await cache.get('b');
    assert.deepEqual(fetched, ['a', 'b', 'c', 'b']);
  });

  it('drops a failed fetch so the next ask tries again', async () => {
    let calls = 0;
    const cache = new BatchCache<number>(4, async () => {
      calls++;
      if (calls === 1) throw new Error('server gone');
      return calls;
    });
    await assert.rejects(cache.get('a'), /server gone/);
    assert.equal(await cache.get('a'), 2);
  });
});
