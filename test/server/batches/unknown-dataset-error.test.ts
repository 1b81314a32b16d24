import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quoteShort, unknownDatasetError } from '../../../server/batches/unknown-dataset-error.js';

describe('unknownDatasetError', () => {
  it('is NOT_FOUND, quotes the requested name and lists the served names', () => {
    const error = unknownDatasetError('luna99', ['phantom', 'luna16']);
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.message, 'data set "luna99" is not served here; served: phantom, luna16');
  });

  it('shows a 64 KiB name with NULs as a short escaped prefix, never the raw bytes', () => {
    const name = 'a\u0000'.repeat(32 * 1024);
    const { message } = unknownDatasetError(name, new Map([['phantom', 1]]).keys());
    assert.ok(!message.includes('\u0000'), 'no raw NUL in the message');
    assert.match(message, /^data set "(a\\u0000)+a?"… is not served here; served: phantom$/);
    const shown = message.slice('data set '.length, message.indexOf(' is not served'));
    assert.ok(shown.length <= 80, `shown as ${shown.length} characters`);
  });
});

describe('quoteShort', () => {
  it('quotes a name that fits whole, escapes included, with no ellipsis', () => {
    assert.equal(quoteShort('luna16'), '"luna16"');
    assert.equal(quoteShort(''), '""');
    assert.equal(quoteShort('tab\there "q"'), '"tab\\there \\"q\\""');
    const fits = 'x'.repeat(78); // 78 + 2 quotes = 80
    assert.equal(quoteShort(fits), `"${fits}"`);
  });

  it('cuts a longer name to the longest prefix that fits in 80 characters with the ellipsis', () => {
    const shown = quoteShort('y'.repeat(79));
    assert.equal(shown, `"${'y'.repeat(77)}"…`);
    assert.equal(shown.length, 80);
    for (const length of [100, 1000, 65_536]) assert.equal(quoteShort('z'.repeat(length)).length, 80);
  });

  it('keeps an escape or a surrogate pair whole rather than cutting through it', () => {
    // 76 characters of "b" leave room for 1 more character, not a 6-character \u0000 escape.
    assert.equal(quoteShort(`${'b'.repeat(76)}\u0000${'b'.repeat(10)}`), `"${'b'.repeat(76)}"…`);
    const emoji = '\u{1F600}'; // two UTF-16 code units
    const shown = quoteShort(`${'c'.repeat(76)}${emoji}${'c'.repeat(10)}`);
    assert.equal(shown, `"${'c'.repeat(76)}"…`, 'the pair does not fit, and half of it is not shown');
    assert.equal(quoteShort(`${'c'.repeat(75)}${emoji}cc`), `"${'c'.repeat(75)}${emoji}"…`);
  });
});
