// @kaskade/node-toolkit: what every Kaskade process stands on. The NATS bus with its
// trust rules, configuration from the environment (the mechanism, the option groups
// and the checks across options), process lifecycle, the HTTP listener every process
// serves with (health routes included), the operator listener, Prometheus metrics,
// rate limits, join tokens, webhook signatures and a small in-cluster Kubernetes API client.
export { Bus, connectionOptions } from './bus.ts';
export type { BusSettings, NamedPortRange } from './config-checks.ts';
export {
  busSettingsProblems,
  listenerProblems,
  livenessProblems,
  livenessTtlMs,
  pipePortRange,
  portRangeProblems,
  redisCaProblems,
  tokenKeyProblems,
} from './config-checks.ts';
export { ConfigError } from './config-error.ts';
export { describeEnvConfig, loadEnvConfig, option, Type } from './env-config.ts';
export { errorBody, HttpListener } from './http.ts';
export { type HttpsFailure, HttpsRequestError, httpsRequest } from './https-request.ts';
export type { KubernetesClientOptions } from './kubernetes.ts';
export {
  KubernetesApiError,
  KubernetesClient,
  KubernetesNode,
  KubernetesPod,
  SERVICE_ACCOUNT_DIR,
} from './kubernetes.ts';
export {
  createMetricsRegistry,
  labelCombinations,
  metricsPlugin,
  preinitialisedCounter,
  preinitialisedGauge,
  preinitialisedHistogram,
} from './metrics.ts';
export { OperatorListener } from './operator.ts';
export {
  commonOptions,
  httpOptions,
  logLevelOption,
  mediaMetricsOptions,
  operatorOptions,
  pipeAddresses,
  pipePortOptions,
  portRangeOptions,
  previousPublicKeyOption,
  rtcListenOptions,
  tokenKeyOptions,
} from './option-groups.ts';
export type { Rate } from './rate-limit.ts';
export { addressKey, RateLimiter } from './rate-limit.ts';
export { runProcess } from './run-process.ts';
export { settlesWithin } from './settles-within.ts';
export { issueToken, TokenVerifier } from './tokens.ts';
export type { WebhookCheck } from './webhook-signature.ts';
export { constantTimeEqual, signWebhook, verifyWebhook } from './webhook-signature.ts';
