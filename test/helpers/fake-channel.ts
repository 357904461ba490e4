import type { SignalingChannel } from '@kaskade/client-sdk';

type Listener = (data: unknown) => void;

/**
 * The SDK's side of a signaling channel for unit tests of pure logic: the test fires the
 * edge's notifications and sets the answers to requests (`{}` when none is set).
 */
export class FakeChannel {
  readonly #listeners = new Map<string, Listener[]>();
  readonly requests: { method: string; data: unknown }[] = [];
  answers: Record<string, unknown> = {};

  on(name: string, listener: Listener): () => void {
    this.#listeners.set(name, [...(this.#listeners.get(name) ?? []), listener]);
    return () => {};
  }

  fire(name: string, data: unknown): void {
    for (const l of this.#listeners.get(name) ?? []) l(data);
  }

  async request(method: string, data: unknown): Promise<unknown> {
    this.requests.push({ method, data });
    return this.answers[method] ?? {};
  }

  /** Typed as the SDK's channel, for the collaborators under test. */
  get asChannel(): SignalingChannel {
    return this as unknown as SignalingChannel;
  }
}
