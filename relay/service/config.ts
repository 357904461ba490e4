import {
  busSettingsProblems,
  ConfigError,
  commonOptions,
  listenerProblems,
  livenessProblems,
  loadEnvConfig,
  logLevelOption,
  mediaMetricsOptions,
  operatorOptions,
  option,
  portRangeOptions,
  portRangeProblems,
  redisCaProblems,
  Type,
} from '@kaskade/node-toolkit';
import type { Static } from 'typebox';

export const RelayConfigSchema = Type.Object({
  nodeId: commonOptions.nodeId('name of this relay node in the mesh'),
  region: commonOptions.region('region whose edges this relay feeds'),
  ...commonOptions.nats(),
  redisUrl: Type.Optional(
    commonOptions.redisUrl(
      'Redis the relay writes its liveness to (without it, the control plane judges the relay by its NATS heartbeats alone)',
    ),
  ),
  redisCaFile: Type.Optional(commonOptions.redisCaFile()),
  httpHost: option(Type.String({ minLength: 1, default: '127.0.0.1' }), {
    env: 'KASKADE_HTTP_HOST',
    description: 'address of the health endpoints',
  }),
  httpPort: option(Type.Integer({ minimum: 0, maximum: 65535, default: 7890 }), {
    env: 'KASKADE_HTTP_PORT',
    description: 'port of the health endpoints (0 picks a free one)',
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
  ...portRangeOptions('pipe', 'PIPE', 'pipe transports between media nodes', [41000, 42999]),
  heartbeatMs: commonOptions.heartbeatMs(),
  livenessTtlMs: commonOptions.livenessTtlMs(),
  pipeLingerMs: commonOptions.pipeLingerMs(),
  pipeSilenceMs: commonOptions.pipeSilenceMs(),
  shutdownTimeoutMs: commonOptions.shutdownTimeoutMs(
    'on SIGTERM, how long the edges have to take their streams elsewhere (make-before-break) before the relay closes its links',
  ),
  ...mediaMetricsOptions(),
  ...operatorOptions(7891),
  logLevel: logLevelOption(),
});
export type RelayConfig = Static<typeof RelayConfigSchema>;

export function loadRelayConfig(env: Record<string, string | undefined> = process.env): RelayConfig {
  const config = loadEnvConfig(RelayConfigSchema, env);
  const problems = [
    ...busSettingsProblems(config),
    ...listenerProblems(config),
    ...redisCaProblems(config.redisUrl, config.redisCaFile),
    ...livenessProblems(config),
    ...portRangeProblems([
      { name: 'KASKADE_PIPE_PORT_MIN/MAX', min: config.pipePortMin, max: config.pipePortMax },
    ]),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
