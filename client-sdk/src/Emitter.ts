type Listener = (...args: unknown[]) => void;

/** A minimal typed event emitter for the browser (no Node built-ins in the bundle). */
export class Emitter<Events extends Record<string, unknown[]>> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();

  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set<Listener>();
    this.#listeners.set(event, set);
    set.add(listener as unknown as Listener);
    return () => this.off(event, listener);
  }

  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    this.#listeners.get(event)?.delete(listener as unknown as Listener);
  }

  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(...args);
      } catch (error) {
        // An application listener must not break the SDK's own state handling.
        console.error(`kaskade: listener for "${String(event)}" threw`, error);
      }
    }
  }
}
