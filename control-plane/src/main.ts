import pino from 'pino';
import { ConfigError } from '../common/errors.ts';
import { ControlPlane } from './ControlPlane.ts';
import { loadControlPlaneConfig } from './config.ts';

/** Entry point of the control-plane process. */
let config: ReturnType<typeof loadControlPlaneConfig>;
try {
  config = loadControlPlaneConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`kaskade control plane: ${error.message}`);
  process.exit(78);
}

const logger = pino({ level: config.logLevel, base: { component: 'control-plane' } });
const cp = await ControlPlane.start(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'control plane failed to start');
  process.exit(1);
});
logger.info({ url: cp.url }, 'control plane ready');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    cp.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
