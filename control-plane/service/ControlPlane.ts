import { Directory } from '@kaskade/directory';
import {
  Bus,
  createMetricsRegistry,
  HttpListener,
  KubernetesClient,
  metricsPlugin,
  OperatorListener,
  TokenVerifier,
} from '@kaskade/node-toolkit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RoomActionExecutor } from './actions/RoomActionExecutor.ts';
import { serveRoomActions } from './actions/serveRoomActions.ts';
import { adminPlugin } from './adminPlugin.ts';
import { apiAuthenticator } from './apiAuth.ts';
import { apiPlugin } from './apiPlugin.ts';
import { Autoscaler } from './autoscaling/Autoscaler.ts';
import { autoscaleSettings } from './autoscaling/settings.ts';
import { serveBreakoutMoves } from './breakoutMoves.ts';
import { serveBusCredentials } from './busCredentials/index.ts';
import { capacityPlugin } from './capacityPlugin.ts';
import { type ControlPlaneConfig, trustedEdgeUrls } from './config.ts';
import { ControlPlaneMetrics } from './controlPlaneMetrics.ts';
import { EdgeTickets } from './edgeTickets.ts';
import { joinPlugin } from './joinPlugin.ts';
import { serveMigrations } from './migrations.ts';
import { NodeRegistry } from './NodeRegistry.ts';
import { PodDeletionCosts } from './podDeletionCost/PodDeletionCosts.ts';
import { RoomEventWebhooks } from './webhooks/RoomEventWebhooks.ts';
import { noWebhooks, WebhookSender } from './webhooks/WebhookSender.ts';

/**
 * The control-plane service: join, placement and the application's room API on its
 * public listener, node registry, room actions (from moderators over the bus and from
 * the application), webhooks, and the operator views (nodes, rooms, metrics) on the
 * operator API. Stateless; run any number.
 */
export class ControlPlane {
  readonly registry: NodeRegistry;
  readonly #http: HttpListener;
  readonly #bus: Bus;
  readonly #directory: Directory;
  readonly #webhooks: { sender: WebhookSender; source: RoomEventWebhooks } | undefined;
  readonly #autoscaler: Autoscaler;
  #operator: OperatorListener | undefined;
  #podDeletionCosts: PodDeletionCosts | undefined;

  private constructor(
    http: HttpListener,
    bus: Bus,
    directory: Directory,
    registry: NodeRegistry,
    webhooks: { sender: WebhookSender; source: RoomEventWebhooks } | undefined,
    autoscaler: Autoscaler,
  ) {
    this.#http = http;
    this.#bus = bus;
    this.#directory = directory;
    this.registry = registry;
    this.#webhooks = webhooks;
    this.#autoscaler = autoscaler;
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
      roomStateTtlSeconds: config.roomStateTtlSeconds,
      roomStateGraceSeconds: config.roomStateGraceSeconds,
    });
    const registry = new NodeRegistry(bus, directory, logger, {
      timeoutMs: config.nodeTimeoutMs,
      sweepMs: config.livenessSweepMs,
      trustedUrls: trustedEdgeUrls(config),
      placementHoldMs: config.placementHoldMs,
    });
    registry.start();
    const tickets = new EdgeTickets({
      registry,
      directory,
      edgeJwtSecret: config.edgeJwtSecret,
      edgeTokenTtlSeconds: config.edgeTokenTtlSeconds,
    });
    serveMigrations({ bus, registry, directory, tickets, logger });
    const webhooks = startWebhooks(config, bus, directory, logger, metricsRegistry);
    const executor = new RoomActionExecutor({
      controlPlaneId: config.nodeId,
      bus,
      directory,
      tickets,
      webhooks: webhooks?.sender ?? noWebhooks,
      logger,
      registry: metricsRegistry,
    });
    serveRoomActions({ bus, directory, executor });
    serveBreakoutMoves({ bus, registry, directory, tickets, executor, logger });
    const http = new HttpListener({
      logger,
      notReadyReason: () => (directory.status === 'ready' ? null : `redis ${directory.status}`),
    });
    // Desired node counts for the autoscaler (KEDA or an HPA), from heartbeats and reservations.
    const autoscaler = new Autoscaler({
      nodes: registry,
      reservations: directory.capacity,
      settings: autoscaleSettings(config),
      intervalMs: config.autoscaleIntervalMs,
      registry: metricsRegistry,
      logger: logger.child({ component: 'autoscaler' }),
    });
    autoscaler.start();
    const cp = new ControlPlane(http, bus, directory, registry, webhooks, autoscaler);
    try {
      if (config.podDeletionCost)
        cp.#podDeletionCosts = new PodDeletionCosts({
          nodes: () => registry.entries().map((e) => e.heartbeat),
          client: KubernetesClient.inCluster(process.env, {
            serviceAccountDir: config.k8sServiceAccountDir,
            ...(config.k8sNamespace ? { namespace: config.k8sNamespace } : {}),
          }),
          intervalMs: config.podDeletionCostIntervalMs,
          logger,
          registry: metricsRegistry,
        });
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
      const authenticate = apiAuthenticator({
        keys: [config.appApiKey, config.appApiPreviousKey].filter((k) => k !== undefined),
        perAddress: { perSecond: config.apiRequestsPerSecondPerAddress, burst: config.apiBurstPerAddress },
        rateLimitKeys: config.rateLimitKeys,
      });
      await http.app.register(apiPlugin, {
        authenticate,
        executor,
        directory,
        maxBodyBytes: config.maxBodyBytes,
      });
      await http.app.register(capacityPlugin, {
        authenticate,
        reservations: directory.capacity,
        autoscaler,
        maxBodyBytes: config.maxBodyBytes,
      });
      await serveBusCredentials(http.app, config);
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
    await this.#podDeletionCosts?.close();
    this.#autoscaler.close();
    this.#webhooks?.source.close();
    this.#webhooks?.sender.close();
    await this.#http.close();
    await this.#operator?.close();
    await this.#bus.close();
    await this.#directory.close();
  }
}

/** The webhook sender and the room events it hears, when the application set a webhook URL. */
function startWebhooks(
  config: ControlPlaneConfig,
  bus: Bus,
  directory: Directory,
  logger: Logger,
  registry: Registry,
): { sender: WebhookSender; source: RoomEventWebhooks } | undefined {
  if (!config.webhookUrl || !config.webhookSecret) return undefined;
  const sender = new WebhookSender({
    url: config.webhookUrl,
    secrets: [config.webhookSecret, config.webhookPreviousSecret].filter((s) => s !== undefined),
    maxQueue: config.webhookQueueMax,
    concurrency: config.webhookConcurrency,
    timeoutMs: config.webhookTimeoutMs,
    retry: {
      maxAttempts: config.webhookMaxAttempts,
      baseDelayMs: config.webhookRetryBaseMs,
      maxDelayMs: config.webhookRetryMaxMs,
    },
    logger,
    registry,
  });
  return { sender, source: new RoomEventWebhooks({ bus, directory, webhooks: sender, logger }) };
}
