import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTriple } from '../../../common/cli/parse-triple.js';

describe('parseTriple', () => {
  it('reads three integers Z,Y,X, spaces around them allowed', () => {
    assert.deepEqual(parseTriple('16,96,96', 1), [16, 96, 96]);
    assert.deepEqual(parseTriple(' 8 , 16,32 ', 8), [8, 16, 32]);
  });

  it('refuses other counts, non-integers and sizes below the minimum, saying which', () => {
    assert.deepEqual(parseTriple('16,96', 1), { problem: 'give three sizes Z,Y,X separated by commas' });
    assert.deepEqual(parseTriple('96x96x96', 1), { problem: 'give three sizes Z,Y,X separated by commas' });
    for (const text of ['16,96,1e2', '16,-1,96', '16,9.5,96', '0,96,96', '16,,96']) {
      assert.deepEqual(parseTriple(text, 1), { problem: 'every size must be an integer >= 1' }, text);
    }
    assert.deepEqual(parseTriple('15,96,96', 16), { problem: 'every size must be an integer >= 16' });
  });
});
