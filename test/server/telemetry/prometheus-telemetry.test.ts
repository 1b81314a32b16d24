import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import type { Volume } from '../../../server/sampling/types.js';
import { TrainerStatsStore } from '../../../server/service/trainer-stats-store.js';
import { PrometheusTelemetry } from '../../../server/telemetry/prometheus-telemetry.js';
import type { WatchedState } from '../../../server/telemetry/telemetry.js';

/** The rpcs of proto/voxelfeed/v1/voxelfeed.proto, written out here rather than read from the code. */
const METHODS = ['GetDatasetInfo', 'StreamBatches', 'GetSample', 'ReportTrainerStats', 'StreamTiles'];

function idleState(cache: WatchedState['cache']): WatchedState {
  return {
    cache,
    boxMasks: { checkedSeries: 0, mismatchedSeries: 0 },
    batchMemory: {
      stats: () => ({
        budgetBytes: 1,
        heldBytes: 0,
        inUseBytes: 0,
        freeBytes: 0,
        waiting: 0,
        collections: 0,
      }),
    },
    trainers: new TrainerStatsStore(60_000),
  };
}

const IDLE_CACHE = { bytesHeld: 0, maxBytes: 1024, loadsRunning: 0, loadsQueued: 0, failedKeys: new Set() };

describe('PrometheusTelemetry', () => {
  it('exposes the codes that alerts watch for every method at 0 before any call', async () => {
    const lines = (await new PrometheusTelemetry().registry.metrics()).split('\n');
    for (const method of METHODS) {
      const type = method.startsWith('Stream') ? 'server_stream' : 'unary';
      for (const code of ['OK', 'Canceled', 'DataLoss', 'Internal', 'ResourceExhausted', 'Unauthenticated']) {
        const series = `grpc_server_handled_total{grpc_type="${type}",grpc_service="voxelfeed.v1.VoxelFeed",grpc_method="${method}",grpc_code="${code}"} 0`;
        assert.ok(lines.includes(series), `missing ${series}`);
      }
    }
  });

  it('counts a handled call on top of its zero series, and streams open and closed', async () => {
    const telemetry = new PrometheusTelemetry();
    const getSample = {
      grpc_type: 'unary',
      grpc_service: 'voxelfeed.v1.VoxelFeed',
      grpc_method: 'GetSample',
    };
    telemetry.calls.started(getSample);
    telemetry.calls.handled(getSample, 'Unauthenticated', 0.002);
    telemetry.streams.onStreamStart?.();
    telemetry.streams.onStreamStart?.();
    telemetry.streams.onStreamEnd?.('RESOURCE_EXHAUSTED', 0);
    const lines = (await telemetry.registry.metrics()).split('\n');
    const labels = 'grpc_type="unary",grpc_service="voxelfeed.v1.VoxelFeed",grpc_method="GetSample"';
    assert.ok(lines.includes(`grpc_server_handled_total{${labels},grpc_code="Unauthenticated"} 1`));
    assert.ok(lines.includes(`grpc_server_handled_total{${labels},grpc_code="OK"} 0`));
    assert.ok(lines.includes(`grpc_server_started_total{${labels}} 1`));
    assert.ok(lines.includes(`grpc_server_handling_seconds_bucket{le="0.005",${labels}} 1`));
    assert.ok(lines.includes('voxelfeed_open_streams 1'));
  });

  it('reads 0 for the server state until it is watched, then the state, and is watched once', async () => {
    const telemetry = new PrometheusTelemetry();
    const value = async (name: string) =>
      (await telemetry.registry.metrics())
        .split('\n')
        .find((line) => line.startsWith(`${name} `))
        ?.split(' ')[1];
    assert.equal(await value('voxelfeed_cache_capacity_bytes'), '0');
    assert.equal(await value('voxelfeed_batch_memory_capacity_bytes'), '0');
    const state = idleState({ ...IDLE_CACHE, failedKeys: new Set([3, 4]) });
    telemetry.watch(state);
    assert.equal(await value('voxelfeed_cache_capacity_bytes'), '1024');
    assert.equal(await value('voxelfeed_bad_series'), '2');
    assert.equal(await value('voxelfeed_batch_memory_capacity_bytes'), '1');
    assert.throws(() => telemetry.watch(state), /already watched/);
  });

  it('reports the loads of a real cache that run and those queued for a --max-loads slot apart', async () => {
    const finish = new Map<number, () => void>();
    const cache = new VolumeCache<number>({
      maxBytes: 10_000,
      maxConcurrentLoads: 2,
      load: (key) =>
        new Promise<Volume>((resolve) => {
          finish.set(key, () =>
            resolve({ shape: [1, 1, 10], image: new Uint8Array(10), mask: new Uint8Array(10) }),
          );
        }),
    });
    const metrics = new PrometheusTelemetry();
    metrics.watch(idleState(cache));
    const gauges = async () => {
      const lines = (await metrics.registry.metrics()).split('\n');
      const value = (name: string) => lines.find((line) => line.startsWith(`${name} `))?.split(' ')[1];
      return {
        running: value('voxelfeed_cache_loads_running'),
        queued: value('voxelfeed_cache_loads_queued'),
        inFlight: value('voxelfeed_cache_loads_in_flight'),
      };
    };
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await gauges(), { running: '0', queued: '0', inFlight: undefined });
    // Five misses (and a request that joins the first): two read, three wait for a slot.
    const gets = [1, 2, 3, 4, 5, 1].map((key) => cache.get(key));
    await settle();
    assert.deepEqual([...finish.keys()], [1, 2]);
    assert.deepEqual(await gauges(), { running: '2', queued: '3', inFlight: undefined });
    finish.get(1)!();
    await settle();
    assert.deepEqual(await gauges(), { running: '2', queued: '2', inFlight: undefined });
    for (let released = 2; released <= 5; released++) {
      finish.get(released)!();
      await settle();
    }
    await Promise.all(gets);
    assert.deepEqual(await gauges(), { running: '0', queued: '0', inFlight: undefined });
  });
});
