import {
  busSettingsProblems,
  ConfigError,
  commonOptions,
  httpOptions,
  listenerProblems,
  livenessProblems,
  loadEnvConfig,
  logLevelOption,
  mediaMetricsOptions,
  operatorOptions,
  pipePortOptions,
  pipePortRange,
  portRangeProblems,
  redisCaProblems,
  rtcListenOptions,
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
  ...httpOptions(7890, 'the health server'),
  ...rtcListenOptions('the pipe transports'),
  ...pipePortOptions(),
  heartbeatMs: commonOptions.heartbeatMs(),
  livenessTtlMs: commonOptions.livenessTtlMs(),
  pipeLingerMs: commonOptions.pipeLingerMs(),
  pipeSilenceMs: commonOptions.pipeSilenceMs(),
  keyFrameRequestDelayMs: commonOptions.keyFrameRequestDelayMs(),
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
    ...portRangeProblems([pipePortRange(config)]),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
