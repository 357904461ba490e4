import { randomUUID } from 'node:crypto';
import { labelCombinations, preinitialisedCounter, RateLimiter, signWebhook } from '@kaskade/node-toolkit';
import { type WebhookDataOf, type WebhookEvent, WebhookHeaders, type WebhookType } from '@kaskade/protocol';
import type { Logger } from 'pino';
import { type Counter, Gauge, type Registry } from 'prom-client';
import type { WebhookEmitter } from '../actions/RoomActionExecutor.ts';
import { type RetryPolicy, retryDelayMs } from './retry.ts';

export interface WebhookSenderOptions {
  url: string;
  /** The signing secrets: the current one, then the previous one during a rotation. */
  secrets: readonly string[];
  /** Events waiting or being retried at most; past it new events are dropped (counted). */
  maxQueue: number;
  /** Deliveries under way at once. */
  concurrency: number;
  /** How long one attempt may take before it counts as failed. */
  timeoutMs: number;
  retry: RetryPolicy;
  logger: Logger;
  registry?: Registry;
}

const RESULTS = ['delivered', 'retried', 'failed', 'dropped'] as const;
type Result = (typeof RESULTS)[number];

interface Pending {
  event: WebhookEvent;
  body: string;
  attempt: number;
}

/**
 * Delivers webhooks to the application: each event POSTed as JSON with its id, a
 * timestamp and an HMAC signature per secret (protocol/webhooks.ts); a non-2xx answer,
 * a network error or a timeout is retried with exponential backoff, a bounded number of
 * times. Memory is bounded: past maxQueue events (waiting, in flight or awaiting a
 * retry) a new event is dropped and counted, never queued without end.
 */
export class WebhookSender implements WebhookEmitter {
  readonly #options: WebhookSenderOptions;
  readonly #ready: Pending[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<AbortController>();
  readonly #results: Counter<'result'> | undefined;
  /** A full queue is said a few times a minute at most, not once per event. */
  readonly #dropLog = new RateLimiter({ perSecond: 0.05, burst: 3 }, { maxKeys: 1 });
  #pending = 0;
  #closed = false;

  constructor(options: WebhookSenderOptions) {
    this.#options = options;
    if (options.registry) {
      const registers = [options.registry];
      this.#results = preinitialisedCounter({
        name: 'kaskade_webhook_deliveries_total',
        help: 'Webhook attempts by result: delivered (2xx), retried (failed, tried again later), failed (out of attempts), dropped (queue full or closing)',
        labelNames: ['result'],
        registers,
        zeroed: labelCombinations({ result: [...RESULTS] }),
      });
      const depth = () => this.#pending;
      new Gauge({
        name: 'kaskade_webhook_queue_depth',
        help: 'Webhooks waiting, in flight or awaiting a retry',
        registers,
        collect() {
          this.set(depth());
        },
      });
    }
  }

  /** Webhooks not yet delivered or given up. */
  get depth(): number {
    return this.#pending;
  }

  emit<T extends WebhookType>(type: T, room: string, data: WebhookDataOf<T>): void {
    if (this.#closed || this.#pending >= this.#options.maxQueue) {
      this.#count('dropped');
      if (this.#dropLog.take() === 0)
        this.#options.logger.warn(
          { type, queued: this.#pending },
          'webhooks dropped: the queue is full or closed',
        );
      return;
    }
    const event = { id: randomUUID(), type, room, createdAt: Date.now(), data } as WebhookEvent;
    this.#pending++;
    this.#ready.push({ event, body: JSON.stringify(event), attempt: 1 });
    this.#pump();
  }

  /** Stops: nothing more is sent or retried; attempts under way are aborted. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const controller of this.#inFlight) controller.abort();
    const left = this.#pending;
    if (left > 0) this.#options.logger.warn({ left }, 'webhooks not delivered at shutdown');
  }

  #pump(): void {
    while (!this.#closed && this.#inFlight.size < this.#options.concurrency) {
      const next = this.#ready.shift();
      if (!next) return;
      void this.#attempt(next);
    }
  }

  async #attempt(pending: Pending): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.#options.timeoutMs);
    let problem: string | null;
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await fetch(this.#options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WebhookHeaders.id]: pending.event.id,
          [WebhookHeaders.timestamp]: String(timestamp),
          [WebhookHeaders.signature]: signWebhook(this.#options.secrets, timestamp, pending.body),
        },
        body: pending.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      await response.body?.cancel();
      problem = response.ok ? null : `status ${response.status}`;
    } catch (error) {
      problem = controller.signal.aborted ? 'timeout' : (error as Error).message;
    } finally {
      clearTimeout(timeout);
      this.#inFlight.delete(controller);
    }
    if (this.#closed) return;
    if (problem === null) {
      this.#settled('delivered');
    } else {
      this.#retryOrGiveUp(pending, problem);
    }
    this.#pump();
  }

  #retryOrGiveUp(pending: Pending, problem: string): void {
    const delay = retryDelayMs(pending.attempt, this.#options.retry);
    const { type, id } = pending.event;
    if (delay === null) {
      this.#options.logger.warn({ type, id, attempts: pending.attempt, problem }, 'webhook given up');
      this.#settled('failed');
      return;
    }
    this.#count('retried');
    this.#options.logger.debug(
      { type, id, attempt: pending.attempt, problem, delay },
      'webhook to be retried',
    );
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#ready.push({ ...pending, attempt: pending.attempt + 1 });
      this.#pump();
    }, delay);
    this.#timers.add(timer);
  }

  #settled(result: Result): void {
    this.#pending--;
    this.#count(result);
  }

  #count(result: Result): void {
    this.#results?.inc({ result });
  }
}

/** Where webhooks go when the application configured no URL: nowhere. */
export const noWebhooks: WebhookEmitter = { emit: () => {} };
