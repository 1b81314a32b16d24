import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDnsTarget, resolveReplicas } from '../../client/replica-endpoints.js';

/** A resolver that knows a few names, and remembers what it was asked. */
function fakeLookup(records: Record<string, string[]>) {
  const asked: string[] = [];
  const lookupAll = async (host: string) => {
    asked.push(host);
    const addresses = records[host];
    if (addresses === undefined) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return addresses;
  };
  return { asked, lookupAll };
}

describe('parseDnsTarget', () => {
  it('reads host and port from dns:///name:port, with or without a resolver authority', () => {
    assert.deepEqual(parseDnsTarget('dns:///voxelfeed.ml.svc:50051'), {
      host: 'voxelfeed.ml.svc',
      port: '50051',
    });
    assert.deepEqual(parseDnsTarget('dns://10.0.0.10:53/voxelfeed:7'), { host: 'voxelfeed', port: '7' });
    assert.deepEqual(parseDnsTarget('dns:[::1]:50051'), { host: '[::1]', port: '50051' });
  });

  it('is null for anything that is not a dns: target with a port', () => {
    for (const target of ['voxelfeed:50051', 'dns:///voxelfeed', 'ipv4:1.2.3.4:5', 'unix:/tmp/sock']) {
      assert.equal(parseDnsTarget(target), null, target);
    }
  });
});

describe('resolveReplicas', () => {
  it('keeps a list of addresses as given, in its order, without resolving anything', async () => {
    const { asked, lookupAll } = fakeLookup({});
    const replicas = await resolveReplicas(['b.example:1', '10.0.0.1:1', 'dns:///a.example:2'], lookupAll);
    assert.deepEqual(replicas, [
      { target: 'b.example:1', hostName: null },
      { target: '10.0.0.1:1', hostName: null },
      { target: 'a.example:2', hostName: 'a.example' },
    ]);
    assert.deepEqual(asked, []);
  });

  it('expands one DNS name into its addresses, sorted and without repeats, so every rank agrees', async () => {
    const { lookupAll } = fakeLookup({ 'voxelfeed.svc': ['10.0.0.9', 'fd00::2', '10.0.0.3', '10.0.0.9'] });
    for (const address of ['dns:///voxelfeed.svc:50051', 'voxelfeed.svc:50051']) {
      assert.deepEqual(await resolveReplicas([address], lookupAll), [
        { target: '10.0.0.3:50051', hostName: 'voxelfeed.svc' },
        { target: '10.0.0.9:50051', hostName: 'voxelfeed.svc' },
        { target: '[fd00::2]:50051', hostName: 'voxelfeed.svc' },
      ]);
    }
  });

  it('leaves a single IP literal alone', async () => {
    const { asked, lookupAll } = fakeLookup({});
    assert.deepEqual(await resolveReplicas(['127.0.0.1:5'], lookupAll), [
      { target: '127.0.0.1:5', hostName: null },
    ]);
    assert.deepEqual(await resolveReplicas(['[::1]:5'], lookupAll), [{ target: '[::1]:5', hostName: null }]);
    assert.deepEqual(asked, []);
  });

  it('keeps a name that does not resolve, so the call fails as UNAVAILABLE and is retried', async () => {
    const { lookupAll } = fakeLookup({ empty: [] });
    assert.deepEqual(await resolveReplicas(['dns:///gone.svc:50051'], lookupAll), [
      { target: 'gone.svc:50051', hostName: 'gone.svc' },
    ]);
    assert.deepEqual(await resolveReplicas(['empty:1'], lookupAll), [
      { target: 'empty:1', hostName: 'empty' },
    ]);
  });
});
