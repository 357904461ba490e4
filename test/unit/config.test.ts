import { loadEdgeConfig } from '@kaskade/edge';
import { ConfigError, pipeAddresses } from '@kaskade/node-toolkit';
import { describe, expect, it } from 'vitest';

const base = { KASKADE_JWT_SECRET: 'x'.repeat(32), KASKADE_OPERATOR_TOKEN: 'o'.repeat(32) };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadEdgeConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('edge configuration from the environment', () => {
  it('fills defaults and coerces types', () => {
    const config = loadEdgeConfig({ ...base, KASKADE_HTTP_PORT: '9000', KASKADE_RTC_ENABLE_TCP: 'false' });
    expect(config.httpPort).toBe(9000);
    expect(config.rtcEnableTcp).toBe(false);
    expect(config.rtcListenIp).toBe('127.0.0.1');
    expect(config.rtcAnnouncedAddress).toBeUndefined();
    expect(config.workers).toBeGreaterThanOrEqual(1);
  });

  it('pipes listen and announce where WebRTC does, unless given their own address (a pod IP)', () => {
    const rtc = { ...base, KASKADE_RTC_LISTEN_IP: '0.0.0.0', KASKADE_RTC_ANNOUNCED_ADDRESS: '203.0.113.7' };
    expect(pipeAddresses(loadEdgeConfig(rtc))).toEqual({
      listenIp: '0.0.0.0',
      announcedAddress: '203.0.113.7',
    });
    expect(pipeAddresses(loadEdgeConfig({ ...rtc, KASKADE_PIPE_LISTEN_IP: '10.1.2.3' }))).toEqual({
      listenIp: '10.1.2.3',
      announcedAddress: undefined,
    });
    expect(
      pipeAddresses(loadEdgeConfig({ ...rtc, KASKADE_PIPE_ANNOUNCED_ADDRESS: 'edge-1.pipes.internal' })),
    ).toEqual({ listenIp: '0.0.0.0', announcedAddress: 'edge-1.pipes.internal' });
    expect(problemsOf({ ...rtc, KASKADE_PIPE_LISTEN_IP: 'pod-ip' }).join('\n')).toMatch(
      /KASKADE_PIPE_LISTEN_IP/,
    );
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({
      ...base,
      KASKADE_HTTP_PORT: 'eighty',
      KASKADE_WORKERS: '0',
      KASKADE_RTC_ENABLE_TCP: 'maybe',
      KASKADE_RTC_LISTEN_IP: 'localhost',
      KASKADE_LOG_LEVEL: 'loud',
    });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/KASKADE_HTTP_PORT="eighty" is not valid: expected an integer/);
    expect(problems.join('\n')).toMatch(/KASKADE_WORKERS="0".*>= 1/);
    expect(problems.join('\n')).toMatch(/KASKADE_LOG_LEVEL="loud".*one of "fatal"/);
  });

  it('requires a way to verify tokens', () => {
    expect(problemsOf({ KASKADE_OPERATOR_TOKEN: base.KASKADE_OPERATOR_TOKEN })).toEqual([
      expect.stringMatching(/KASKADE_JWT_SECRET or KASKADE_JWT_PUBLIC_KEY/),
    ]);
    expect(problemsOf({ ...base, KASKADE_JWT_SECRET: 'short' })[0]).toMatch(
      /KASKADE_JWT_SECRET.*at least 32/,
    );
  });
});
