import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerMetrics } from '../../../server/metrics/server-metrics.js';
import { TrainerStatsStore } from '../../../server/service/trainer-stats-store.js';

const IDLE_CACHE = { bytesHeld: () => 0, capacityBytes: 1024, loadsInFlight: () => 0 };
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
});
