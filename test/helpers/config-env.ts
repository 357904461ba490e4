/** The least environment a control plane loads its configuration from (an insecure bus, no files read). */
export const CONTROL_PLANE_BASE_ENV = {
  KASKADE_NATS_URL: 'nats://n:4222',
  KASKADE_NATS_INSECURE: 'true',
  KASKADE_REDIS_URL: 'redis://r:6379',
  KASKADE_JWT_SECRET: 'x'.repeat(32),
  KASKADE_APP_JWT_SECRET: 'y'.repeat(32),
  KASKADE_OPERATOR_TOKEN: 'o'.repeat(32),
};
