import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress } from '../../client/parse-address.js';

describe('parseAddress', () => {
  it('reads host:port, [IPv6]:port and dns: targets with or without a resolver', () => {
    assert.deepEqual(parseAddress('127.0.0.1:50051'), { host: '127.0.0.1', port: 50051, dns: false });
    assert.deepEqual(parseAddress('voxelfeed.ml.svc:1'), { host: 'voxelfeed.ml.svc', port: 1, dns: false });
    assert.deepEqual(parseAddress('[::1]:65535'), { host: '[::1]', port: 65535, dns: false });
    assert.deepEqual(parseAddress('dns:///voxelfeed:50051'), { host: 'voxelfeed', port: 50051, dns: true });
    assert.deepEqual(parseAddress('dns://10.0.0.10:53/voxelfeed:7'), {
      host: 'voxelfeed',
      port: 7,
      dns: true,
    });
  });

  it('refuses ports outside 1..65535, naming the port and the range', () => {
    for (const [text, port] of [
      ['127.0.0.1:99999', '99999'],
      ['[::1]:0', '0'],
      ['dns:///voxelfeed:65536', '65536'],
    ]) {
      assert.deepEqual(parseAddress(text!), {
        problem: `port ${port} is out of range: a port is 1 to 65535`,
      });
    }
  });

  it('refuses what is not an address, naming the forms it takes', () => {
    for (const text of [
      'voxelfeed',
      'dns:///voxelfeed',
      'http://voxelfeed:50051',
      'a b:1',
      ':50051',
      'h:1e3',
    ]) {
      const parsed = parseAddress(text);
      assert.ok('problem' in parsed, text);
      assert.match(parsed.problem, /expected HOST:PORT or dns:\/\/\/NAME:PORT/, text);
    }
    const v6 = parseAddress('::1:50051');
    assert.ok('problem' in v6);
    assert.match(v6.problem, /put an IPv6 address in brackets, e.g\. \[::1\]:50051/);
  });
});
