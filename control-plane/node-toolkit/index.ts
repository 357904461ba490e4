// @kaskade/node-toolkit: what every Kaskade process stands on. The NATS bus with its
// trust rules, configuration from the environment, process lifecycle, the operator
// listener, Prometheus metrics, rate limits and join tokens.
export { Bus, connectionOptions } from './bus.ts';
export { ConfigError } from './config-error.ts';
export type { BusSettings } from './env-config.ts';
export {
  busSettingsProblems,
  commonOptions,
  describeEnvConfig,
  listenerProblems,
  livenessProblems,
  livenessTtlMs,
  loadEnvConfig,
  logLevelOption,
  mediaMetricsOptions,
  operatorOptions,
  option,
  portRangeOptions,
  portRangeProblems,
  redisCaProblems,
  Type,
} from './env-config.ts';
export { healthPlugin } from './health.ts';
export { createMetricsRegistry, metricsPlugin } from './metrics.ts';
export { OperatorListener } from './operator.ts';
export type { Rate } from './rate-limit.ts';
export { addressKey, RateLimiter } from './rate-limit.ts';
export { runProcess } from './run-process.ts';
export { issueToken, TokenVerifier } from './tokens.ts';
