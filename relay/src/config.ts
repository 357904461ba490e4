import { hostname } from 'node:os';
import type { Static } from 'typebox';
import { loadEnvConfig, logLevelOption, option, Type } from '../../control-plane/common/env-config.ts';

export const RelayConfigSchema = Type.Object({
  nodeId: option(
    Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', default: hostname() }),
    {
      env: 'KASKADE_NODE_ID',
      description: 'name of this relay node in the mesh',
      defaultText: 'the hostname',
    },
  ),
  region: option(
    Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', default: 'local' }),
    {
      env: 'KASKADE_REGION',
      description: 'region whose edges this relay feeds',
    },
  ),
  natsUrl: option(Type.String({ minLength: 1, pattern: '^nats://' }), {
    env: 'KASKADE_NATS_URL',
    description: 'NATS server(s), comma-separated',
  }),
  httpHost: option(Type.String({ minLength: 1, default: '127.0.0.1' }), {
    env: 'KASKADE_HTTP_HOST',
    description: 'address of the health and census endpoints',
  }),
  httpPort: option(Type.Integer({ minimum: 0, maximum: 65535, default: 7890 }), {
    env: 'KASKADE_HTTP_PORT',
    description: 'port of the health and census endpoints (0 picks a free one)',
  }),
  rtcListenIp: option(Type.String({ pattern: '^(\\d{1,3}\\.){3}\\d{1,3}$', default: '127.0.0.1' }), {
    env: 'KASKADE_RTC_LISTEN_IP',
    description: 'IPv4 address pipe transports listen on',
  }),
  rtcAnnouncedAddress: Type.Optional(
    option(Type.String({ minLength: 1, maxLength: 253 }), {
      env: 'KASKADE_RTC_ANNOUNCED_ADDRESS',
      description: 'address other nodes reach the pipe transports at',
    }),
  ),
  heartbeatMs: option(Type.Integer({ minimum: 100, maximum: 60_000, default: 2000 }), {
    env: 'KASKADE_HEARTBEAT_MS',
    description: 'how often the node reports itself over NATS',
  }),
  pipeLingerMs: option(Type.Integer({ minimum: 0, maximum: 600_000, default: 5000 }), {
    env: 'KASKADE_PIPE_LINGER_MS',
    description: 'how long a stream no downstream node takes is kept before its pipe closes',
  }),
  logLevel: logLevelOption(),
});
export type RelayConfig = Static<typeof RelayConfigSchema>;

export function loadRelayConfig(env: Record<string, string | undefined> = process.env): RelayConfig {
  return loadEnvConfig(RelayConfigSchema, env);
}
