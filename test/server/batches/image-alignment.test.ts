import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imagePaddingFieldBytes } from '../../../server/batches/image-alignment.js';

/** Where the message lands: grpcio and most libraries (0), grpc-js (5), and the other two residues. */
const LANDINGS = [0, 1, 2, 3, 5, 8, 13] as const;

describe('imagePaddingFieldBytes', () => {
  it('puts the image on a 4-byte boundary for every landing and every prefix length', () => {
    for (const landing of LANDINGS) {
      // An image prefix is a one-byte tag and a varint of 1 to 10 bytes; 0 stands for "nothing before".
      for (let precedingBytes = 0; precedingBytes <= 11; precedingBytes++) {
        const padding = imagePaddingFieldBytes(landing, precedingBytes);
        const where = `landing ${landing}, ${precedingBytes} bytes before the image`;
        assert.equal((landing + padding + precedingBytes) % 4, 0, where);
        assert.ok([0, 2, 3, 5].includes(padding), `${where}: ${padding} is not a field length (0, 2, 3, 5)`);
      }
    }
  });

  it('writes no field when the image is already aligned', () => {
    assert.equal(imagePaddingFieldBytes(0, 4), 0);
    assert.equal(imagePaddingFieldBytes(5, 3), 0);
    assert.equal(imagePaddingFieldBytes(0, 0), 0);
  });

  it('uses the shortest field: 2 for a tag and length 0, 3 with one zero, and 5 where 1 byte is missing', () => {
    // grpc-js (landing 5) with a 4-byte image prefix (tag, 3-byte length: images of 16 KiB to 2 MiB).
    assert.equal(imagePaddingFieldBytes(5, 4), 3);
    // grpc-js with a 5-byte prefix (2 MiB to 256 MiB, e.g. 8 float32 crops 16x96x96: 4.7 MB).
    assert.equal(imagePaddingFieldBytes(5, 5), 2);
    // grpcio (landing 0) with a 5-byte prefix.
    assert.equal(imagePaddingFieldBytes(0, 5), 3);
    // grpcio with a 3-byte prefix (128 B to 16 KiB).
    assert.equal(imagePaddingFieldBytes(0, 3), 5);
  });

  it('refuses a landing or length that is not a whole number of bytes, naming it', () => {
    assert.throws(() => imagePaddingFieldBytes(-1, 5), /landing is -1; it must be a whole number of bytes/);
    assert.throws(() => imagePaddingFieldBytes(0, 2.5), /precedingBytes is 2.5; it must be a whole number/);
    assert.throws(() => imagePaddingFieldBytes(Number.NaN, 5), /landing is NaN/);
  });
});
