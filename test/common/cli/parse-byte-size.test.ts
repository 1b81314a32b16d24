import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytes, parseByteSize } from '../../../common/cli/parse-byte-size.js';

describe('parseByteSize', () => {
  it('reads plain integers and decimal and binary units in any case', () => {
    const cases: Array<[string, number]> = [
      ['0', 0],
      ['1073741824', 1024 ** 3],
      ['10B', 10],
      ['2k', 2000],
      ['2KB', 2000],
      ['3M', 3_000_000],
      ['1.5GB', 1_500_000_000],
      ['1T', 1e12],
      ['64KiB', 64 * 1024],
      ['512MiB', 512 * 1024 ** 2],
      ['2GiB', 2 * 1024 ** 3],
      ['2gib', 2 * 1024 ** 3],
      ['2Gi', 2 * 1024 ** 3],
      ['1Ti', 1024 ** 4],
      [' 4 MiB ', 4 * 1024 ** 2],
    ];
    for (const [text, bytes] of cases) assert.equal(parseByteSize(text), bytes, text);
  });

  it('returns null for anything else', () => {
    for (const text of ['', 'GiB', '-1', '1e9', '2 GiB 3', '2XB', '0x10', '.5G', '1,000', '9'.repeat(20)]) {
      assert.equal(parseByteSize(text), null, text);
    }
  });
});

describe('formatBytes', () => {
  it('prints the largest binary unit that keeps the number at least 1', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(24 * 1024 ** 2), '24.0 MiB');
    assert.equal(formatBytes(2 * 1024 ** 3), '2.00 GiB');
  });
});
