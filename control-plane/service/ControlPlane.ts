import { Directory } from '@kaskade/directory';
import {
  Bus,
  createMetricsRegistry,
  HttpListener,
  metricsPlugin,
  OperatorListener,
  TokenVerifier,
} from '@kaskade/node-toolkit';
import type { Logger } from 'pino';
import { adminPlugin } from './adminPlugin.ts';
import { serveBreakoutMoves } from './breakoutMoves.ts';
import { type ControlPlaneConfig, trustedEdgeUrls } from './config.ts';
import { ControlPlaneMetrics } from './controlPlaneMetrics.ts';
import { joinPlugin } from './joinPlugin.ts';
import { serveMigrations } from './migrations.ts';
import { NodeRegistry } from './NodeRegistry.ts';

/**
 * The control-plane service: join and placement on its public listener, node registry,
 * and the operator views (nodes, rooms, metrics) on the operator API. Stateless; run any number.
 */
export class ControlPlane {
  readonly registry: NodeRegistry;
  readonly #http: HttpListener;
  readonly #bus: Bus;
  readonly #directory: Directory;
  #operator: OperatorListener | undefined;

  private constructor(http: HttpListener, bus: Bus, directory: Directory, registry: NodeRegistry) {
    this.#http = http;
    this.#bus = bus;
    this.#directory = directory;
    this.registry = registry;
  }

  static async start(config: ControlPlaneConfig, logger: Logger): Promise<ControlPlane> {
    const appTokens = await TokenVerifier.create(
      {
        secret: config.appJwtSecret,
        publicKeyPem: config.appJwtPublicKey,
        previous: { secret: config.appJwtPreviousSecret, publicKeyPem: config.appJwtPreviousPublicKey },
      },
      { maxLifetimeSeconds: config.appTokenMaxTtlSeconds },
    );
    const metricsRegistry = createMetricsRegistry({
      node: config.nodeId,
      region: 'global',
      kind: 'control-plane',
    });
    const bus = await Bus.connect(config, config.nodeId, logger, metricsRegistry);
    const directory = new Directory(config.redisUrl, logger, {
      registry: metricsRegistry,
      caFile: config.redisCaFile,
    });
    const registry = new NodeRegistry(bus, directory, logger, {
      timeoutMs: config.nodeTimeoutMs,
      sweepMs: config.livenessSweepMs,
      trustedUrls: trustedEdgeUrls(config),
      placementHoldMs: config.placementHoldMs,
    });
    registry.start();
    const tickets = {
      bus,
      registry,
      directory,
      edgeJwtSecret: config.edgeJwtSecret,
      edgeTokenTtlSeconds: config.edgeTokenTtlSeconds,
      logger,
    };
    serveMigrations(tickets);
    serveBreakoutMoves(tickets);
    const http = new HttpListener({
      logger,
      notReadyReason: () => (directory.status === 'ready' ? null : `redis ${directory.status}`),
    });
    const cp = new ControlPlane(http, bus, directory, registry);
    try {
      const metrics = new ControlPlaneMetrics(metricsRegistry, registry);
      await http.app.register(joinPlugin, {
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
      // Before the public listener: once /readyz answers, the operator API does too.
      cp.#operator = await OperatorListener.start({
        settings: config,
        logger,
        routes: async (operator) => {
          await operator.register(metricsPlugin, { registry: metricsRegistry });
          await operator.register(adminPlugin, { registry, directory });
        },
      });
      await http.listen({ host: config.httpHost, port: config.httpPort });
    } catch (error) {
      await cp.stop();
      throw error;
    }
    return cp;
  }

  get url(): string {
    return this.#http.url;
  }

  /** http://host:port of the operator API. */
  get operatorUrl(): string {
    if (!this.#operator) throw new Error('operator API is not listening');
    return this.#operator.url;
  }

  async stop(): Promise<void> {
    this.registry.stop();
    await this.#http.close();
    await this.#operator?.close();
    await this.#bus.close();
    await this.#directory.close();
  }
}
