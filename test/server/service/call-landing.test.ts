import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { callLanding } from '../../../server/service/call-landing.js';

function withUserAgent(userAgent: string | null): Metadata {
  const metadata = new Metadata();
  if (userAgent !== null) metadata.set('user-agent', userAgent);
  return metadata;
}

describe('callLanding', () => {
  it('is byte 5 for grpc-js, alone or after a primary user-agent', () => {
    assert.equal(callLanding(withUserAgent('grpc-node-js/1.14.7')), 5);
    assert.equal(callLanding(withUserAgent('voxelfeed-trainer/0.1 grpc-node-js/1.14.7')), 5);
    assert.equal(callLanding(withUserAgent('grpc-python/1.51.1 grpc-node-js/1.14.7 extra/2')), 5);
  });

  it('is byte 0 for grpcio, Go clients (grpcurl, ghz) and calls without a user-agent', () => {
    for (const userAgent of [
      'grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)',
      'grpc-go/1.64.0',
      'grpcurl/1.9.1',
    ]) {
      assert.equal(callLanding(withUserAgent(userAgent)), 0, userAgent);
    }
    assert.equal(callLanding(withUserAgent(null)), 0);
  });
});
