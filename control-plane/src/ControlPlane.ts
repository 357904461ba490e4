import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { Bus } from '../common/bus.ts';
import { createMetricsRegistry, metricsPlugin } from '../common/metrics.ts';
import { TokenVerifier } from '../common/tokens.ts';
import { Directory } from '../directory/Directory.ts';
import { adminPlugin } from './adminPlugin.ts';
import type { ControlPlaneConfig } from './config.ts';
import { ControlPlaneMetrics } from './controlPlaneMetrics.ts';
import { joinPlugin } from './joinPlugin.ts';
import { NodeRegistry } from './NodeRegistry.ts';

/** The control-plane service: join and placement, node registry, operator views. Stateless; run any number. */
export class ControlPlane {
  readonly registry: NodeRegistry;
  readonly #app: FastifyInstance;
  readonly #bus: Bus;
  readonly #directory: Directory;

  private constructor(app: FastifyInstance, bus: Bus, directory: Directory, registry: NodeRegistry) {
    this.#app = app;
    this.#bus = bus;
    this.#directory = directory;
    this.registry = registry;
  }

  static async start(config: ControlPlaneConfig, logger: Logger): Promise<ControlPlane> {
    const appTokens = await TokenVerifier.create(
      { secret: config.appJwtSecret, publicKeyPem: config.appJwtPublicKey },
      { maxLifetimeSeconds: config.appTokenMaxTtlSeconds },
    );
    const metricsRegistry = createMetricsRegistry({
      node: config.nodeId,
      region: 'global',
      kind: 'control-plane',
    });
    const bus = await Bus.connect(config.natsUrl, logger, config.nodeId, metricsRegistry);
    const directory = new Directory(config.redisUrl, logger, { registry: metricsRegistry });
    const registry = new NodeRegistry(bus, directory, config.nodeTimeoutMs, logger, config.placementHoldMs);
    registry.start();
    const app = Fastify({
      loggerInstance: logger as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
    });
    const cp = new ControlPlane(app, bus, directory, registry);
    try {
      const metrics = new ControlPlaneMetrics(metricsRegistry, registry);
      await app.register(metricsPlugin, { registry: metricsRegistry });
      app.get('/livez', async () => ({ status: 'ok' }));
      app.get('/readyz', async (_request, reply) =>
        directory.redis.status === 'ready'
          ? { status: 'ready' }
          : reply.code(503).send({ status: 'unavailable', reason: `redis ${directory.redis.status}` }),
      );
      await app.register(joinPlugin, {
        appTokens,
        edgeJwtSecret: config.edgeJwtSecret,
        edgeTokenTtlSeconds: config.edgeTokenTtlSeconds,
        registry,
        directory,
        metrics,
        maxBodyBytes: config.maxBodyBytes,
        perAddress: { perSecond: config.joinsPerSecondPerAddress, burst: config.joinBurstPerAddress },
        perIdentity: { perSecond: config.joinsPerSecondPerIdentity, burst: config.joinBurstPerIdentity },
        rateLimitKeys: config.rateLimitKeys,
      });
      await app.register(adminPlugin, { registry, directory });
      await app.listen({ host: config.httpHost, port: config.httpPort });
    } catch (error) {
      await cp.stop();
      throw error;
    }
    return cp;
  }

  get url(): string {
    const address = this.#app.server.address();
    if (!address || typeof address === 'string') throw new Error('not listening');
    return `http://${address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    this.registry.stop();
    await this.#app.close();
    await this.#bus.close();
    await this.#directory.close();
  }
}
