import { loadControlPlaneConfig } from '@kaskade/control-plane';
import { loadEdgeConfig } from '@kaskade/edge';
import { ConfigError } from '@kaskade/node-toolkit';
import { loadRelayConfig } from '@kaskade/relay';
import { describe, expect, it } from 'vitest';

const operatorToken = 'o'.repeat(32);
const edgeBase = { KASKADE_JWT_SECRET: 'x'.repeat(32), KASKADE_OPERATOR_TOKEN: operatorToken };
const relayBase = {
  KASKADE_NATS_URL: 'nats://127.0.0.1:4222',
  KASKADE_NATS_INSECURE: 'true',
  KASKADE_OPERATOR_TOKEN: operatorToken,
};
const controlPlaneBase = {
  KASKADE_NATS_URL: 'nats://127.0.0.1:4222',
  KASKADE_NATS_INSECURE: 'true',
  KASKADE_REDIS_URL: 'redis://kaskade:pw@127.0.0.1:6379',
  KASKADE_JWT_SECRET: 'x'.repeat(32),
  KASKADE_APP_JWT_SECRET: 'y'.repeat(32),
  KASKADE_OPERATOR_TOKEN: operatorToken,
};

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the operator API options', () => {
  it('every process requires a token of at least 32 characters', () => {
    const { KASKADE_OPERATOR_TOKEN: _, ...edgeWithout } = edgeBase;
    const { KASKADE_OPERATOR_TOKEN: __, ...relayWithout } = relayBase;
    const { KASKADE_OPERATOR_TOKEN: ___, ...cpWithout } = controlPlaneBase;
    for (const load of [
      () => loadEdgeConfig(edgeWithout),
      () => loadRelayConfig(relayWithout),
      () => loadControlPlaneConfig(cpWithout),
    ])
      expect(problemsOf(load)).toEqual([expect.stringMatching(/^KASKADE_OPERATOR_TOKEN is required/)]);
    expect(problemsOf(() => loadEdgeConfig({ ...edgeBase, KASKADE_OPERATOR_TOKEN: 'short' }))).toEqual([
      expect.stringMatching(/KASKADE_OPERATOR_TOKEN=.*at least 32 characters/),
    ]);
  });

  it('defaults to loopback, on a port of its own per process, next to the public one', () => {
    const edge = loadEdgeConfig(edgeBase);
    const relay = loadRelayConfig(relayBase);
    const cp = loadControlPlaneConfig(controlPlaneBase);
    expect([edge.operatorHost, relay.operatorHost, cp.operatorHost]).toEqual([
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
    ]);
    expect([edge.httpPort, edge.operatorPort]).toEqual([7880, 7881]);
    expect([relay.httpPort, relay.operatorPort]).toEqual([7890, 7891]);
    expect([cp.httpPort, cp.operatorPort]).toEqual([7800, 7801]);
  });
});

describe('port ranges', () => {
  it('defaults keep the pipe and plain ranges clear of the WebRTC ports and of each other', () => {
    const edge = loadEdgeConfig({ ...edgeBase, KASKADE_ALLOW_PLAIN_RTP: 'true', KASKADE_WORKERS: '256' });
    expect(edge.rtcPortBase + edge.workers - 1).toBeLessThan(edge.pipePortMin);
    expect(edge.pipePortMax).toBeLessThan(edge.plainPortMin);
    expect(loadRelayConfig(relayBase)).toMatchObject({
      pipePortMin: edge.pipePortMin,
      pipePortMax: edge.pipePortMax,
    });
  });

  it('refuses a range whose min is above its max', () => {
    expect(
      problemsOf(() =>
        loadEdgeConfig({ ...edgeBase, KASKADE_PIPE_PORT_MIN: '50010', KASKADE_PIPE_PORT_MAX: '50000' }),
      ),
    ).toEqual([expect.stringMatching(/KASKADE_PIPE_PORT_MIN\/MAX: min 50010 is above max 50000/)]);
    expect(
      problemsOf(() =>
        loadRelayConfig({ ...relayBase, KASKADE_PIPE_PORT_MIN: '50010', KASKADE_PIPE_PORT_MAX: '50000' }),
      ),
    ).toEqual([expect.stringMatching(/KASKADE_PIPE_PORT_MIN\/MAX: min 50010 is above max 50000/)]);
    expect(
      problemsOf(() =>
        loadEdgeConfig({
          ...edgeBase,
          KASKADE_ALLOW_PLAIN_RTP: 'true',
          KASKADE_PLAIN_PORT_MIN: '50010',
          KASKADE_PLAIN_PORT_MAX: '50000',
        }),
      ),
    ).toEqual([expect.stringMatching(/KASKADE_PLAIN_PORT_MIN\/MAX: min 50010 is above max 50000/)]);
  });

  it('refuses ranges that share ports with the WebRTC servers or with each other', () => {
    expect(
      problemsOf(() =>
        loadEdgeConfig({
          ...edgeBase,
          KASKADE_WORKERS: '4',
          KASKADE_RTC_PORT_BASE: '41998',
        }),
      ),
    ).toEqual([
      expect.stringMatching(/KASKADE_RTC_PORT_BASE \+ KASKADE_WORKERS \(41998-42001\) overlaps KASKADE_PIPE/),
    ]);
    expect(
      problemsOf(() =>
        loadEdgeConfig({
          ...edgeBase,
          KASKADE_ALLOW_PLAIN_RTP: 'true',
          KASKADE_PLAIN_PORT_MIN: '42500',
          KASKADE_PLAIN_PORT_MAX: '43500',
        }),
      ),
    ).toEqual([expect.stringMatching(/KASKADE_PIPE_PORT_MIN\/MAX \(41000-42999\) overlaps KASKADE_PLAIN/)]);
    // Without plain RTP its range is not used, so it is not checked.
    expect(
      problemsOf(() =>
        loadEdgeConfig({ ...edgeBase, KASKADE_PLAIN_PORT_MIN: '42500', KASKADE_PLAIN_PORT_MAX: '43500' }),
      ),
    ).toEqual([]);
  });
});

describe('listeners and the Redis CA, checked when the config loads (exit 78, not a crash later)', () => {
  it('the operator API may not take the public listener’s port', () => {
    expect(
      problemsOf(() =>
        loadEdgeConfig({ ...edgeBase, KASKADE_HTTP_PORT: '7000', KASKADE_OPERATOR_PORT: '7000' }),
      ),
    ).toEqual([expect.stringMatching(/cannot share the public listener's port 7000/)]);
    expect(
      problemsOf(() =>
        loadControlPlaneConfig({
          ...controlPlaneBase,
          KASKADE_CP_HTTP_PORT: '7000',
          KASKADE_OPERATOR_PORT: '7000',
        }),
      ),
    ).toEqual([expect.stringMatching(/KASKADE_OPERATOR_PORT/)]);
    // Another address, or both picked by the system, is fine.
    expect(
      problemsOf(() =>
        loadRelayConfig({
          ...relayBase,
          KASKADE_HTTP_PORT: '7000',
          KASKADE_OPERATOR_PORT: '7000',
          KASKADE_OPERATOR_HOST: '10.0.0.1',
        }),
      ),
    ).toEqual([]);
    expect(
      problemsOf(() => loadEdgeConfig({ ...edgeBase, KASKADE_HTTP_PORT: '0', KASKADE_OPERATOR_PORT: '0' })),
    ).toEqual([]);
  });

  it('a Redis CA file needs a rediss:// URL and must be readable', () => {
    const mesh = { ...controlPlaneBase };
    expect(
      problemsOf(() => loadControlPlaneConfig({ ...mesh, KASKADE_REDIS_CA_FILE: '/etc/hostname' })),
    ).toEqual([expect.stringMatching(/not rediss:\/\//)]);
    const tls = { ...mesh, KASKADE_REDIS_URL: 'rediss://kaskade:pw@127.0.0.1:6379' };
    expect(
      problemsOf(() => loadControlPlaneConfig({ ...tls, KASKADE_REDIS_CA_FILE: '/nonexistent/ca.pem' })),
    ).toEqual([expect.stringMatching(/cannot read \/nonexistent\/ca.pem/)]);
    expect(
      problemsOf(() => loadControlPlaneConfig({ ...tls, KASKADE_REDIS_CA_FILE: '/etc/hostname' })),
    ).toEqual([]);
  });
});
