import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { receiverMessageOffset } from '../../../server/service/receiver-message-offset.js';

describe('receiverMessageOffset', () => {
  it('knows where grpc-js and grpcio put a received message, from their user-agents', () => {
    const cases: Array<[string | undefined, number | null]> = [
      ['grpc-node-js/1.14.7', 5],
      ['voxelfeed-trainer grpc-node-js/1.9.0', 5],
      ['grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)', 0],
      ['voxelfeed/0.1 grpc-python/1.60.0 grpc-c/37.0.0 (linux; chttp2)', 0],
      ['grpc-go/1.64.0', null],
      ['grpcurl/1.9.1 grpc-go/1.61.0', null],
      ['not-grpc-node-js/1.0', null],
      ['', null],
      [undefined, null],
    ];
    for (const [userAgent, expected] of cases)
      assert.equal(receiverMessageOffset(userAgent), expected, userAgent);
  });
});
