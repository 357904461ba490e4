import pino from 'pino';
import { ConfigError } from '../../control-plane/common/errors.ts';
import { loadEdgeConfig } from './config.ts';
import { Edge } from './Edge.ts';

/** Entry point of the edge process: config from the environment, SIGTERM drains. */
let config: ReturnType<typeof loadEdgeConfig>;
try {
  config = loadEdgeConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`kaskade edge: ${error.message}`);
  process.exit(78); // EX_CONFIG
}

const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
const edge = await Edge.start(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'edge failed to start');
  process.exit(error instanceof ConfigError ? 78 : 1);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'draining');
    edge.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
