import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DrainNotice } from '../../../server/batches/drain-notice.js';

describe('DrainNotice', () => {
  it('calls every subscriber once, in order, when draining starts, however many there are', () => {
    const notice = new DrainNotice();
    const calls: number[] = [];
    for (let i = 0; i < 1000; i++) notice.subscribe(() => calls.push(i));
    assert.equal(notice.subscribers, 1000);
    notice.start();
    notice.start();
    assert.deepEqual(
      calls,
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(notice.draining, true);
    assert.equal(notice.subscribers, 0);
  });

  it('forgets a subscriber that unsubscribed, and only that one, even for the same function twice', () => {
    const notice = new DrainNotice();
    let calls = 0;
    const listener = () => {
      calls += 1;
    };
    const first = notice.subscribe(listener);
    notice.subscribe(listener);
    first();
    first();
    assert.equal(notice.subscribers, 1);
    notice.start();
    assert.equal(calls, 1);
  });

  it('calls a late subscriber at once and holds nothing for it', () => {
    const notice = new DrainNotice();
    notice.start();
    let called = false;
    const unsubscribe = notice.subscribe(() => {
      called = true;
    });
    assert.equal(called, true);
    assert.equal(notice.subscribers, 0);
    unsubscribe();
  });
});
