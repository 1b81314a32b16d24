import { createHash, timingSafeEqual } from 'node:crypto';
import {
  status as GrpcStatus,
  Metadata,
  ResponderBuilder,
  ServerInterceptingCall,
  type ServerInterceptor,
  ServerListenerBuilder,
} from '@grpc/grpc-js';
import { tokenFingerprint } from '@voxelfeed/common/token-file.js';
import type { Logger } from '../log/logger.js';

/**
 * The one service callable without a token: Kubernetes' gRPC probes and Docker's HEALTHCHECK cannot send
 * metadata, and SERVING / NOT_SERVING tells nobody anything about the data. Server reflection is guarded
 * like the data methods: the schema is no secret (the .proto files are public), but an open endpoint is one
 * more thing to reason about, and grpcurl (`-H`) and ghz (`--reflect-metadata`) can send the token.
 */
export const OPEN_SERVICE_PREFIXES: readonly string[] = ['/grpc.health.v1.Health/'];

export interface AuthInterceptorOptions {
  /** Accepted bearer tokens (several during a rotation); at least one. */
  readonly tokens: readonly string[];
  readonly log: Logger;
}

/** Why a call was refused: `details` goes to the client, `reason` to the log. */
export interface Refusal {
  readonly reason: 'missing' | 'malformed' | 'unknown token';
  readonly details: string;
  /** Fingerprint of the token the client sent, if it sent one: logs never hold a token. */
  readonly fingerprint?: string;
}

const HOW_TO_SEND =
  'send the metadata "authorization: Bearer <token>" with a token from the server\'s --auth-token-file ' +
  '(voxelfeed train --auth-token-file FILE; the client option token; grpcurl -H "authorization: Bearer $TOKEN")';

/**
 * A grpc-js server interceptor that lets a call through only with `authorization: Bearer <token>` naming one
 * of `tokens`; anything else ends with UNAUTHENTICATED before the handler runs or reads the request. The
 * health service (`OPEN_SERVICE_PREFIXES`) needs no token.
 *
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`: digests have one length, so neither the
 * comparison's time nor an early length check tells a client how long a token is or how much of it matched,
 * and every accepted token is compared on every call, so the time does not say which one matched either.
 */
export function createAuthInterceptor(options: AuthInterceptorOptions): ServerInterceptor {
  if (options.tokens.length === 0) throw new Error('createAuthInterceptor needs at least one token');
  const accepted = acceptedDigests(options.tokens);
  return (method, call) => {
    if (OPEN_SERVICE_PREFIXES.some((prefix) => method.path.startsWith(prefix))) {
      return new ServerInterceptingCall(call);
    }
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const refusal = checkBearer(metadata, accepted);
        if (refusal === null) {
          next(metadata);
          return;
        }
        options.log.warn(
          {
            method: method.path,
            peer: call.getPeer(),
            reason: refusal.reason,
            ...(refusal.fingerprint ? { tokenFingerprint: refusal.fingerprint } : {}),
          },
          'refused a call without a valid bearer token',
        );
        // Not passing the metadata on: the handler never starts and the request is never read.
        call.sendStatus({
          code: GrpcStatus.UNAUTHENTICATED,
          details: refusal.details,
          metadata: new Metadata(),
        });
      })
      .build();
    return new ServerInterceptingCall(
      call,
      new ResponderBuilder().withStart((next) => next(listener)).build(),
    );
  };
}

/** Null when the call carries an accepted token, else why not. */
export function checkBearer(metadata: Metadata, accepted: readonly Buffer[]): Refusal | null {
  const [value] = metadata.get('authorization');
  if (value === undefined) {
    return { reason: 'missing', details: `this server needs a bearer token; ${HOW_TO_SEND}` };
  }
  // RFC 6750: the scheme is case-insensitive, one or more spaces, then the token.
  const match = typeof value === 'string' ? /^bearer +(\S+) *$/i.exec(value) : null;
  if (match === null) {
    return {
      reason: 'malformed',
      details: `the authorization metadata is not of the form "Bearer <token>"; ${HOW_TO_SEND}`,
    };
  }
  const token = match[1]!;
  const presented = sha256(token);
  let found = false;
  for (const digest of accepted) {
    // No early exit: each call costs the same number of comparisons, whichever token it holds.
    if (timingSafeEqual(digest, presented)) found = true;
  }
  if (found) return null;
  return {
    reason: 'unknown token',
    details:
      'the bearer token is not one of the server\'s tokens; use a line of the server\'s --auth-token-file (the token alone, without "Bearer ")',
    fingerprint: tokenFingerprint(token),
  };
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The digests `checkBearer` compares against, for tests and callers that check metadata themselves. */
export function acceptedDigests(tokens: readonly string[]): Buffer[] {
  return tokens.map(sha256);
}
