import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { acceptedDigests, checkBearer } from '../../../server/service/auth-interceptor.js';

const accepted = acceptedDigests(['first-token', 'second-token']);

function withAuthorization(...values: string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add('authorization', value);
  return metadata;
}

describe('checkBearer', () => {
  it('accepts every configured token, with the scheme in any case and spaces around', () => {
    for (const value of [
      'Bearer first-token',
      'bearer second-token',
      'BEARER  first-token',
      'Bearer first-token ',
    ]) {
      assert.equal(checkBearer(withAuthorization(value), accepted), null, value);
    }
  });

  it('calls a call without the metadata "missing" and says how to send a token', () => {
    const refusal = checkBearer(new Metadata(), accepted);
    assert.equal(refusal?.reason, 'missing');
    assert.match(refusal.details, /authorization: Bearer <token>.*--auth-token-file/);
    assert.equal(refusal.fingerprint, undefined);
  });

  it('calls a value that is not "Bearer <token>" malformed', () => {
    for (const value of [
      'first-token',
      'Basic first-token',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearerfirst-token',
    ]) {
      assert.equal(checkBearer(withAuthorization(value), accepted)?.reason, 'malformed', value);
    }
  });

  it('refuses a token that differs from every configured one, even by its length only, without echoing it', () => {
    for (const token of ['first-toke', 'first-token2', 'First-token', 'second-token-first-token']) {
      const refusal = checkBearer(withAuthorization(`Bearer ${token}`), accepted);
      assert.equal(refusal?.reason, 'unknown token', token);
      assert.ok(!refusal.details.includes(token), refusal.details);
      assert.match(refusal.fingerprint ?? '', /^[0-9a-f]{8}$/);
    }
  });

  it('looks at the first authorization value only', () => {
    assert.equal(
      checkBearer(withAuthorization('Bearer nope', 'Bearer first-token'), accepted)?.reason,
      'unknown token',
    );
  });
});
