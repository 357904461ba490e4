import { flushCompileCache } from 'node:module';
import pino, { type Logger } from 'pino';
import { ConfigError } from './config-error.ts';

export interface ProcessSpec<C extends { logLevel: string }, S extends { stop(): Promise<void> }> {
  /** Names the process in messages, e.g. "edge". */
  name: string;
  loadConfig: () => C;
  /** Fields every log line of the process carries. */
  base: (config: C) => Record<string, unknown>;
  start: (config: C, logger: Logger) => Promise<S>;
  /** Resolves when the service stopped by itself (an operator's drain): the process then exits 0. */
  stopped?: (service: S) => Promise<void>;
}

/**
 * The one way a Kaskade process starts and stops: configuration from the environment
 * (a bad value exits 78, EX_CONFIG, naming every problem), then the service, and
 * SIGTERM or SIGINT stop it in order (exit 0, or 1 if the stop failed).
 */
export async function runProcess<C extends { logLevel: string }, S extends { stop(): Promise<void> }>(
  spec: ProcessSpec<C, S>,
): Promise<void> {
  let config: C;
  try {
    config = spec.loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`kaskade ${spec.name}: ${error.message}`);
    process.exit(78);
  }
  const logger = pino({ level: config.logLevel, base: spec.base(config) });
  // With a compile cache (NODE_COMPILE_CACHE), Node writes the code it compiled at exit:
  // from a cold cache, hundreds of files, which on a busy disk took longer than the grace
  // a SIGTERM gets (the process was killed, wrote nothing, and the next start was cold
  // again). The modules are loaded by now: written before serving, the exit stays quick.
  flushCompileCache();
  const service = await spec.start(config, logger).catch((error: unknown) => {
    logger.fatal({ err: error }, `${spec.name} failed to start`);
    process.exit(error instanceof ConfigError ? 78 : 1);
  });
  logger.info(`${spec.name} ready`);
  spec.stopped?.(service).then(
    () => process.exit(0),
    () => process.exit(1), // the stop's caller logged it
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      service.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }
}
