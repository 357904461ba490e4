import { loadControlPlaneConfig } from '@kaskade/control-plane';
import { loadEdgeConfig } from '@kaskade/edge';
import { ConfigError, livenessTtlMs } from '@kaskade/node-toolkit';
import { loadRelayConfig } from '@kaskade/relay';
import { describe, expect, it } from 'vitest';

const edgeBase = { KASKADE_JWT_SECRET: 'x'.repeat(32), KASKADE_OPERATOR_TOKEN: 'o'.repeat(32) };
const relayBase = {
  KASKADE_NATS_URL: 'nats://127.0.0.1:4222',
  KASKADE_NATS_INSECURE: 'true',
  KASKADE_OPERATOR_TOKEN: 'o'.repeat(32),
};

describe('liveness configuration', () => {
  it('an edge and a relay write three heartbeats of liveness unless told otherwise', () => {
    expect(livenessTtlMs(loadEdgeConfig(edgeBase))).toBe(6000);
    expect(livenessTtlMs(loadEdgeConfig({ ...edgeBase, KASKADE_HEARTBEAT_MS: '300' }))).toBe(900);
    expect(livenessTtlMs(loadRelayConfig({ ...relayBase, KASKADE_LIVENESS_TTL_MS: '2500' }))).toBe(2500);
  });

  it('a liveness TTL no longer than a heartbeat is refused (it would lapse between two beats)', () => {
    const tooShort = { KASKADE_HEARTBEAT_MS: '1000', KASKADE_LIVENESS_TTL_MS: '1000' };
    expect(() => loadEdgeConfig({ ...edgeBase, ...tooShort })).toThrow(ConfigError);
    expect(() => loadRelayConfig({ ...relayBase, ...tooShort })).toThrow(
      /KASKADE_LIVENESS_TTL_MS=1000 must be longer/,
    );
  });

  it('a relay takes Redis credentials like the edge, and checks its CA file the same way', () => {
    const relay = loadRelayConfig({ ...relayBase, KASKADE_REDIS_URL: 'redis://kaskade:pw@127.0.0.1:6379' });
    expect(relay.redisUrl).toBe('redis://kaskade:pw@127.0.0.1:6379');
    expect(loadRelayConfig(relayBase).redisUrl).toBeUndefined();
    expect(() =>
      loadRelayConfig({
        ...relayBase,
        KASKADE_REDIS_URL: 'redis://h:1',
        KASKADE_REDIS_CA_FILE: '/nonexistent',
      }),
    ).toThrow(/KASKADE_REDIS_CA_FILE is set but KASKADE_REDIS_URL is not rediss/);
  });

  it('the control plane sweeps liveness every 500 ms unless told otherwise', () => {
    const base = {
      KASKADE_NATS_URL: 'nats://127.0.0.1:4222',
      KASKADE_NATS_INSECURE: 'true',
      KASKADE_REDIS_URL: 'redis://kaskade:pw@127.0.0.1:6379',
      KASKADE_JWT_SECRET: 'x'.repeat(32),
      KASKADE_APP_JWT_SECRET: 'y'.repeat(32),
      KASKADE_OPERATOR_TOKEN: 'o'.repeat(32),
    };
    expect(loadControlPlaneConfig(base).livenessSweepMs).toBe(500);
    expect(loadControlPlaneConfig({ ...base, KASKADE_LIVENESS_SWEEP_MS: '250' }).livenessSweepMs).toBe(250);
    expect(() => loadControlPlaneConfig({ ...base, KASKADE_LIVENESS_SWEEP_MS: '5' })).toThrow(ConfigError);
  });
});
