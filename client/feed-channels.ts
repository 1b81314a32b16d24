import { isIPv4, isIPv6 } from 'node:net';
import { type ChannelCredentials, type ChannelOptions, credentials, Metadata } from '@grpc/grpc-js';
import { channelOptionsFor } from './channel-options.js';
import type { ResolvedFeedClientOptions } from './feed-client-options.js';
import { FeedGrpcClient } from './feed-service.js';
import {
  type LookupAll,
  type ReplicaEndpoint,
  resolveReplicas,
  systemLookupAll,
} from './replica-endpoints.js';

/** One grpc-js client and the address(es) it reaches, for error messages. */
export interface FeedChannel {
  readonly client: FeedGrpcClient;
  readonly address: string;
}

/**
 * The grpc-js channel(s) of one feed client, and the metadata every call carries.
 *
 * Every channel balances round robin over what its target resolves to. Replicas given as IP literals share
 * one channel with a static list (`ipv4:a:p,b:q`), so grpc-js spreads calls and skips a replica that is down.
 * Host names cannot be listed in one grpc-js target, so each gets its own channel and calls rotate over them;
 * a call that finds its replica down fails over to the next one when it is retried.
 *
 * With rank affinity, streams do not rotate: rank r's stream calls replica (r + failed calls) mod K on a
 * channel of that replica alone, so each replica's cache holds the series of its own ranks, and a rank whose
 * replica fails moves on to the next one. Those channels are made when first needed and kept.
 */
export class FeedChannels {
  private readonly channels: FeedChannel[];
  private readonly replicaChannels = new Map<string, FeedChannel>();
  private readonly creds: ChannelCredentials;
  private readonly channelOptions: ChannelOptions;
  private turn = 0;

  constructor(
    private readonly options: ResolvedFeedClientOptions,
    private readonly lookupAll: LookupAll = systemLookupAll,
  ) {
    this.creds = channelCredentials(options);
    this.channelOptions = channelOptionsFor({
      initialBackoffMs: options.reconnect.initialBackoffMs,
      maxBackoffMs: options.reconnect.maxBackoffMs,
      roundRobin: true,
      overrides: options.channelOptions,
    });
    this.channels = channelTargets(options.addresses).map(({ target, address }) => ({
      client: new FeedGrpcClient(target, this.creds, this.channelOptions),
      address,
    }));
  }

  /** The channel for the next call. */
  next(): FeedChannel {
    const channel = this.channels[this.turn % this.channels.length]!;
    this.turn += 1;
    return channel;
  }

  /**
   * The channel for a stream's next call, after `failedCalls` failed calls of that stream: with rank affinity
   * replica (rank + failedCalls) mod K, the replicas resolved anew each time (a replaced pod has a new
   * address); else the next channel in turn.
   */
  async streamChannel(rank: number, failedCalls: number): Promise<FeedChannel> {
    if (!this.options.rankAffinity) return this.next();
    const replicas = await resolveReplicas(this.options.addresses, this.lookupAll);
    return this.replicaChannel(replicas[(rank + failedCalls) % replicas.length]!);
  }

  private replicaChannel(replica: ReplicaEndpoint): FeedChannel {
    const known = this.replicaChannels.get(replica.target);
    if (known) return known;
    // A replica found through a host name is dialled by address; TLS must still check the name.
    const named: ChannelOptions =
      replica.hostName === null
        ? {}
        : {
            'grpc.default_authority': replica.hostName,
            ...(this.options.tls === null ? {} : { 'grpc.ssl_target_name_override': replica.hostName }),
          };
    const channel = {
      client: new FeedGrpcClient(replica.target, this.creds, { ...this.channelOptions, ...named }),
      address: replica.hostName === null ? replica.target : `${replica.target} (${replica.hostName})`,
    };
    this.replicaChannels.set(replica.target, channel);
    return channel;
  }

  /** Every address, for messages that speak of all of them. */
  get description(): string {
    return this.options.addresses.join(', ');
  }

  /** Fresh metadata for one call (grpc-js may modify what it is given). */
  metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.token !== null) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  close(): void {
    for (const { client } of [...this.channels, ...this.replicaChannels.values()]) client.close();
  }
}

function channelCredentials(options: ResolvedFeedClientOptions): ChannelCredentials {
  if (options.tls === null) return credentials.createInsecure();
  return credentials.createSsl(options.tls.ca ?? null, options.tls.key ?? null, options.tls.cert ?? null);
}

/** The grpc-js targets for a list of addresses: one static list for IP literals, else one per address. */
export function channelTargets(addresses: readonly string[]): Array<{ target: string; address: string }> {
  if (addresses.length > 1) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      if (addresses.every((address) => ipFamily(address) === family)) {
        return [{ target: `${family}:${addresses.join(',')}`, address: addresses.join(', ') }];
      }
    }
  }
  return addresses.map((address) => ({ target: address, address }));
}

function ipFamily(address: string): 'ipv4' | 'ipv6' | null {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (v6) return isIPv6(v6[1]!) ? 'ipv6' : null;
  const v4 = /^([^:]+)(?::\d+)?$/.exec(address);
  return v4 && isIPv4(v4[1]!) ? 'ipv4' : null;
}
