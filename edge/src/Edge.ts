import { Directory } from '@kaskade/directory';
import { MediaMetrics, mediaCodecs } from '@kaskade/media-node';
import {
  Bus,
  createMetricsRegistry,
  HttpListener,
  livenessTtlMs,
  metricsPlugin,
  OperatorListener,
  pipeAddresses,
  TokenVerifier,
} from '@kaskade/node-toolkit';
import type { Logger } from 'pino';
import type { EdgeConfig } from './config.ts';
import { Mesh } from './routing/Mesh.ts';
import { RoomManager } from './rtc/RoomManager.ts';
import { WorkerPool } from './rtc/WorkerPool.ts';
import { EdgeMetrics } from './service/edgeMetrics.ts';
import { nodePlugin } from './service/nodePlugin.ts';
import { signalingPlugin } from './service/signalingPlugin.ts';

export interface DrainReport {
  /** When the edge closes whoever is left (ms since the epoch). */
  deadline: number;
  /** Participants sent a `migrate` notice. */
  notified: number;
  /** Participants the control plane found no place for (they wait for the deadline). */
  unplaced: number;
}

/**
 * An edge SFU: mediasoup workers, the rooms on them, the public HTTP/WebSocket surface
 * (signaling, health) and the operator API (metrics, census). start() brings it up;
 * stop() drains it (no new sockets, participants get a grace period to leave), then
 * closes rooms, workers and the servers.
 */
export class Edge {
  readonly config: EdgeConfig;
  readonly pool: WorkerPool;
  readonly rooms: RoomManager;
  readonly media: MediaMetrics;
  readonly #http: HttpListener;
  readonly #logger: Logger;
  /** This node's place in the mesh; undefined for a standalone edge. */
  mesh: Mesh | undefined;
  #operator: OperatorListener | undefined;
  #meshParts: { bus: Bus; directory: Directory } | undefined;
  #draining = false;
  #drained: Promise<DrainReport> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #stopped = Promise.withResolvers<void>();

  private constructor(
    config: EdgeConfig,
    pool: WorkerPool,
    rooms: RoomManager,
    http: HttpListener,
    logger: Logger,
    media: MediaMetrics,
  ) {
    this.media = media;
    this.config = config;
    this.pool = pool;
    this.rooms = rooms;
    this.#http = http;
    this.#logger = logger;
    this.#stopped.promise.catch(() => undefined); // stop()'s caller hears the failure
  }

  static async start(config: EdgeConfig, logger: Logger): Promise<Edge> {
    const verifier = await TokenVerifier.create(
      {
        secret: config.jwtSecret,
        publicKeyPem: config.jwtPublicKey,
        previous: { secret: config.jwtPreviousSecret },
      },
      { maxLifetimeSeconds: config.tokenMaxTtlSeconds },
    );
    const pool = await WorkerPool.create({
      count: config.workers,
      listenIp: config.rtcListenIp,
      announcedAddress: config.rtcAnnouncedAddress,
      portBase: config.rtcPortBase,
      enableTcp: config.rtcEnableTcp,
      maxConsumers: config.workerMaxConsumers,
      allowPlainRtp: config.allowPlainRtp,
      plainPortRange: { min: config.plainPortMin, max: config.plainPortMax },
      iceConsentTimeoutSeconds: config.iceConsentTimeoutSeconds,
      logger,
    });
    const rooms = new RoomManager(
      pool,
      {
        emptyGraceMs: config.roomEmptyGraceMs,
        keyFrameRequestDelayMs: config.keyFrameRequestDelayMs,
        chat: {
          maxChars: config.chatMaxChars,
          historyMessages: config.chatHistoryMessages,
          rate: { perSecond: config.chatMessagesPerSecond, burst: config.chatMessageBurst },
        },
        speakers: {
          intervalMs: config.speakerIntervalMs,
          thresholdDbov: config.speakerThresholdDbov,
          marginDb: config.speakerMarginDb,
          holdMs: config.speakerHoldMs,
        },
      },
      logger,
    );
    const registry = createMetricsRegistry({ node: config.nodeId, region: config.region, kind: 'edge' });
    const metrics = new EdgeMetrics(registry, rooms);
    const media = new MediaMetrics({
      registry,
      region: config.region,
      workers: () => pool.workers,
      intervalMs: config.statsIntervalMs,
      maxStatsPerRound: config.statsMaxPerRound,
      maxBitrateBps: config.maxBitrateBps,
      loadShares: () => ({
        consumers: pool.consumerShare,
        participants: rooms.connectedParticipants / config.capacity,
      }),
      logger,
    });
    pool.on('workerdied', (index) => media.workerDied(index));
    const http = new HttpListener({
      logger,
      notReadyReason: (): string | null => (edge.#draining ? 'draining' : null),
    });
    const edge = new Edge(config, pool, rooms, http, logger, media);
    // The same codecs on every router, so any router's capabilities stand for all.
    const probe = await pool.workers[0]!.worker.createRouter({ mediaCodecs });
    const rtpCapabilities = probe.rtpCapabilities;
    probe.close();
    try {
      if (config.natsUrl && config.redisUrl) {
        const bus = await Bus.connect(
          { ...config, natsUrl: config.natsUrl },
          config.nodeId,
          logger,
          registry,
        );
        const directory = new Directory(config.redisUrl, logger, {
          ttlSeconds: config.directoryTtlSeconds,
          livenessTtlMs: livenessTtlMs(config),
          caFile: config.redisCaFile,
          registry,
          roomStateTtlSeconds: config.roomStateTtlSeconds,
          roomStateGraceSeconds: config.roomStateGraceSeconds,
        });
        edge.#meshParts = { bus, directory };
        edge.mesh = new Mesh({
          nodeId: config.nodeId,
          region: config.region,
          fanoutLimit: config.fanoutLimit,
          capacity: config.capacity,
          heartbeatMs: config.heartbeatMs,
          resyncMs: config.resyncMs,
          pipeLingerMs: config.pipeLingerMs,
          pipeSilenceMs: config.pipeSilenceMs,
          pipeFirstPacketTimeoutMs: config.pipeFirstPacketTimeoutMs,
          pipeSupersededMs: config.pipeSupersededMs,
          keyFrameRequestDelayMs: config.keyFrameRequestDelayMs,
          ...pipeAddresses(config),
          pipePortRange: { min: config.pipePortMin, max: config.pipePortMax },
          pipeSocketBufferBytes: config.pipeSocketBufferBytes,
          bus,
          directory,
          registry,
          media,
          pool,
          rooms,
          logger,
        });
      }
      const directory = edge.#meshParts?.directory;
      const bus = edge.#meshParts?.bus;
      await http.app.register(signalingPlugin, {
        accepting: () => !edge.#draining,
        maxSocketsPerAddress: config.wsMaxPerAddress,
        session: {
          nodeId: config.nodeId,
          metrics,
          rooms,
          verifier,
          rtpCapabilities,
          joinTimeoutMs: config.joinTimeoutMs,
          lobbyWaitMaxMs: config.lobbyWaitMaxSeconds * 1000,
          maxMessageBytes: config.maxMessageBytes,
          limits: {
            maxBufferedBytes: config.wsMaxBufferedBytes,
            requests: { perSecond: config.wsRequestsPerSecond, burst: config.wsRequestBurst },
            maxMessagesBeforeJoin: config.wsMaxMessagesBeforeJoin,
            maxConsumers: config.maxConsumersPerParticipant,
            lastNMax: config.lastNMax,
            consumes: { perSecond: config.consumesPerSecond, burst: config.consumeBurst },
            restartIce: { perSecond: config.restartIcePerSecond, burst: config.restartIceBurst },
          },
          useTokenOnce: directory && ((jti, expiresAt) => directory.useTokenOnce(jti, expiresAt)),
          act:
            bus && ((room, by, action, params) => bus.controlRpc('room.act', { room, by, action, params })),
          logger,
        },
      });
      // Before the public listener: once /readyz answers, the operator API does too.
      edge.#operator = await OperatorListener.start({
        settings: config,
        logger,
        routes: async (operator) => {
          await operator.register(metricsPlugin, { registry });
          await operator.register(nodePlugin, {
            nodeId: config.nodeId,
            pool,
            rooms,
            links: async () => (await edge.mesh?.pipes.census()) ?? [],
            drain: async () => {
              void edge.stop(); // exits once empty or at the deadline (main.ts: stopped)
              return edge.drain();
            },
          });
        },
      });
      await http.listen({ host: config.httpHost, port: config.httpPort });
      media.start();
      edge.mesh?.start(config.publicUrl ?? edge.url);
    } catch (error) {
      pool.close();
      await http.close();
      await edge.#operator?.close();
      await edge.#closeMesh();
      throw error;
    }
    logger.info({ url: edge.url, operatorUrl: edge.operatorUrl, workers: config.workers }, 'edge listening');
    return edge;
  }

  /** http://host:port the edge listens on. */
  get url(): string {
    return this.#http.url;
  }

  /** http://host:port of the operator API. */
  get operatorUrl(): string {
    if (!this.#operator) throw new Error('edge is not listening');
    return this.#operator.url;
  }

  /** Resolves once stop() finished, whoever called it (SIGTERM, or the operator's drain). */
  get stopped(): Promise<void> {
    return this.#stopped.promise;
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop().then(this.#stopped.resolve, (error: unknown) => {
      this.#stopped.reject(error);
      throw error;
    });
    return this.#stopping;
  }

  /**
   * Drain that moves people (once): the edge takes no more joins (not ready, draining
   * in its heartbeat), and every participant here gets a `migrate` notice with a place
   * on another edge from the control plane, same region first. Participants leave by
   * themselves once established there; stop() closes whoever is left at the deadline.
   */
  drain(): Promise<DrainReport> {
    this.#drained ??= this.#drain();
    return this.#drained;
  }

  async #drain(): Promise<DrainReport> {
    this.#draining = true;
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    const mesh = this.mesh;
    if (!mesh) return { deadline, notified: 0, unplaced: 0 };
    mesh.drain();
    const notices = this.rooms.openRooms().flatMap((room) =>
      [...room.participants()].map(async (participant) => {
        const { url, token } = await mesh.migrationFor(room, participant);
        participant.notify('migrate', { url, token, deadlineMs: Math.max(0, deadline - Date.now()) });
      }),
    );
    const results = await Promise.allSettled(notices);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    // Those stay until the deadline, then their socket closes (1001) and they rejoin as after a crash.
    if (failed.length > 0)
      this.#logger.warn(
        { err: failed[0], unplaced: failed.length },
        'drain: some participants got no migration',
      );
    this.#logger.info({ notified: results.length - failed.length }, 'drain: migrate notices sent');
    return { deadline, notified: results.length - failed.length, unplaced: failed.length };
  }

  async #stop(): Promise<void> {
    const { deadline } = await this.drain();
    while ((await this.rooms.participantCount()) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.rooms.closeAll();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the close frames (1001) go out
    await this.#http.close();
    await this.#operator?.close();
    await this.#closeMesh();
    this.media.stop();
    this.pool.close();
    this.#logger.info('edge stopped');
  }

  async #closeMesh(): Promise<void> {
    await this.mesh?.close();
    await this.#meshParts?.bus.close();
    await this.#meshParts?.directory.close();
  }
}
