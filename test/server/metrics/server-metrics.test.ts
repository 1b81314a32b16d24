import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import { ServerMetrics } from '../../../server/metrics/server-metrics.js';
import type { Volume } from '../../../server/sampling/types.js';
import { TrainerStatsStore } from '../../../server/service/trainer-stats-store.js';

const IDLE_CACHE = { bytesHeld: () => 0, capacityBytes: 1024, loadsRunning: () => 0, loadsQueued: () => 0 };
/** The four rpcs of proto/voxelfeed/v1/voxelfeed.proto, written out here rather than read from the code. */
const METHODS = ['GetDatasetInfo', 'StreamBatches', 'GetSample', 'ReportTrainerStats'];

async function freshPage(): Promise<string> {
  return new ServerMetrics(IDLE_CACHE, new TrainerStatsStore(60_000)).registry.metrics();
}

describe('ServerMetrics', () => {
  it('exposes the stream end codes that alerts watch at 0 before any stream has ended', async () => {
    const page = await freshPage();
    for (const code of ['OK', 'CANCELLED', 'DATA_LOSS', 'INTERNAL', 'RESOURCE_EXHAUSTED']) {
      assert.match(page, new RegExp(`^voxelfeed_stream_ends_total\\{code="${code}"\\} 0$`, 'm'), code);
    }
  });

  it('exposes every method with RESOURCE_EXHAUSTED and UNAUTHENTICATED at 0 before any call', async () => {
    const page = await freshPage();
    for (const method of METHODS) {
      for (const code of ['OK', 'RESOURCE_EXHAUSTED', 'UNAUTHENTICATED']) {
        const series = `voxelfeed_requests_total{method="${method}",code="${code}"} 0`;
        assert.ok(page.split('\n').includes(series), `missing ${series}`);
      }
    }
  });

  it('counts a refused call on top of its zero series', async () => {
    const metrics = new ServerMetrics(IDLE_CACHE, new TrainerStatsStore(60_000));
    metrics.callEnded('GetSample', 'UNAUTHENTICATED');
    metrics.streamStarted();
    metrics.streamEnded('RESOURCE_EXHAUSTED');
    const lines = (await metrics.registry.metrics()).split('\n');
    assert.ok(lines.includes('voxelfeed_requests_total{method="GetSample",code="UNAUTHENTICATED"} 1'));
    assert.ok(lines.includes('voxelfeed_requests_total{method="StreamBatches",code="RESOURCE_EXHAUSTED"} 1'));
    assert.ok(lines.includes('voxelfeed_stream_ends_total{code="RESOURCE_EXHAUSTED"} 1'));
    assert.ok(lines.includes('voxelfeed_requests_total{method="GetDatasetInfo",code="UNAUTHENTICATED"} 0'));
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
    const metrics = new ServerMetrics(
      {
        bytesHeld: () => cache.bytesHeld,
        capacityBytes: cache.maxBytes,
        loadsRunning: () => cache.loadsRunning,
        loadsQueued: () => cache.loadsQueued,
      },
      new TrainerStatsStore(60_000),
    );
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
