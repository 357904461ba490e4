import pino from 'pino';
import { ConfigError } from '../../control-plane/common/errors.ts';
import { loadRelayConfig } from './config.ts';
import { RelayNode } from './RelayNode.ts';

/** Entry point of a relay node. */
let config: ReturnType<typeof loadRelayConfig>;
try {
  config = loadRelayConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`kaskade relay: ${error.message}`);
  process.exit(78);
}

const logger = pino({ level: config.logLevel, base: { node: config.nodeId } });
const node = await RelayNode.start(config, logger).catch((error: unknown) => {
  logger.fatal({ err: error }, 'relay failed to start');
  process.exit(1);
});
logger.info({ region: config.region }, 'relay ready');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    node.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
