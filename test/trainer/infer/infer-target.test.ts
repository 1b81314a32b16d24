import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inferTarget } from '../../../trainer/infer/infer-target.js';

describe('inferTarget', () => {
  const none = { series: null, holdoutFraction: null };

  it('takes the series named, else --holdout, else the share the checkpoint records', () => {
    assert.deepEqual(inferTarget({ series: ['a'], holdoutFraction: null }, null), {
      kind: 'series',
      uids: ['a'],
    });
    assert.deepEqual(
      inferTarget({ series: null, holdoutFraction: 0.3 }, { dir: 'ck', holdoutFraction: 0.2 }),
      {
        kind: 'holdout',
        fraction: 0.3,
        source: '--holdout 0.3',
      },
    );
    assert.deepEqual(inferTarget(none, { dir: 'ck', holdoutFraction: 0.2 }), {
      kind: 'holdout',
      fraction: 0.2,
      source: "the checkpoint's --holdout 0.2",
    });
  });

  it('refuses to guess when nothing says which series were held out', () => {
    assert.throws(
      () => inferTarget(none, null),
      /--model identity has no checkpoint .* --series UID\[,UID\.\.\.\] or .* --holdout F/,
    );
    assert.throws(
      () => inferTarget(none, { dir: 'ck', holdoutFraction: undefined }),
      /--checkpoint ck does not record the share .* --holdout F/,
    );
    assert.throws(
      () => inferTarget(none, { dir: 'ck', holdoutFraction: 0 }),
      /--checkpoint ck was trained on every series .* --series/,
    );
  });
});
