import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  skippedShare,
  skippedShareProblem,
  skippedShareWarning,
} from '../../../../server/dataset/catalog/skipped-share.js';

/** A catalog's counts only: `served` series kept, `skipped` left out. */
function counts(served: number, skipped: number) {
  return {
    source: '/data/luna16',
    series: Array.from({ length: served }, () => ({})) as never[],
    skipped: Array.from({ length: skipped }, (_, i) => ({ uid: `s${i}`, reason: 'r' })),
  };
}

function assertMentions(text: string | null, fragments: readonly string[]): void {
  assert.ok(text !== null, 'expected a message');
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

describe('skippedShare', () => {
  it('is skipped over served plus skipped, 0 for an empty data set', () => {
    assert.equal(skippedShare(counts(3, 21)), 21 / 24);
    assert.equal(skippedShare(counts(0, 0)), 0);
    assert.equal(skippedShare(counts(0, 2)), 1);
  });
});

describe('skippedShareProblem', () => {
  it('refuses more than the limit with the share, the limit, the flag, the variable and the fix', () => {
    const serve = skippedShareProblem(counts(3, 21), 0.1, 'serve');
    assertMentions(serve, [
      '21 of 24 series in /data/luna16 are skipped (87.5%)',
      'more than --max-skipped 0.1 (10%, VOXELFEED_MAX_SKIPPED)',
      'run voxelfeed index /data/luna16',
      '--max-skipped 1',
    ]);
    assert.ok(!serve!.includes('\n'));
    assertMentions(skippedShareProblem(counts(3, 21), 0.1, 'index'), [
      'listed under skipped',
      '--max-skipped 1',
    ]);
  });

  it('allows a share equal to the limit, any share under 1, and none at all under 0', () => {
    assert.equal(skippedShareProblem(counts(9, 1), 0.1, 'serve'), null);
    assert.notEqual(skippedShareProblem(counts(8, 2), 0.1, 'serve'), null);
    assert.equal(skippedShareProblem(counts(1, 99), 1, 'serve'), null);
    assert.equal(skippedShareProblem(counts(5, 0), 0, 'serve'), null);
    assert.notEqual(skippedShareProblem(counts(999, 1), 0, 'serve'), null);
  });
});

describe('skippedShareWarning', () => {
  it('warns with the share and the limit when some series are skipped within the limit', () => {
    assertMentions(skippedShareWarning(counts(23, 1), 0.1, 'serve'), [
      'warning: 1 of 24 series in /data/luna16 are skipped (4.17%)',
      'within --max-skipped 0.1 (10%)',
      'run voxelfeed index /data/luna16 to see why',
    ]);
  });

  it('says nothing when none is skipped, or when the share is refused instead', () => {
    assert.equal(skippedShareWarning(counts(24, 0), 0.1, 'serve'), null);
    assert.equal(skippedShareWarning(counts(3, 21), 0.1, 'serve'), null);
  });
});
