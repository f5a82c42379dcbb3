/** A map from event name to the arguments its listeners get. */
export type EventMap = { [event: string]: unknown[] };

export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A small typed event emitter. A listener that throws never breaks the SDK nor the other listeners:
 * its error goes to `onListenerError` (the client's debug hook) and delivery goes on.
 */
export class Emitter<Events extends EventMap> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly onListenerError: (error: unknown, event: keyof Events & string) => void = () => undefined) {}

  /** Adds a listener; returns the function that removes it. */
  on<E extends keyof Events & string>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Adds a listener called at most once. */
  once<E extends keyof Events & string>(event: E, listener: Listener<Events[E]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<E extends keyof Events & string>(event: E, listener: Listener<Events[E]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Calls every listener of `event`, each isolated from the others' errors. */
  emit<E extends keyof Events & string>(event: E, ...args: Events[E]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[E]>)(...args);
      } catch (error) {
        try {
          this.onListenerError(error, event);
        } catch {
          // The error hook itself failed: nothing more can be done without risking the SDK.
        }
      }
    }
  }

  listenerCount(event: keyof Events & string): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  removeAll(): void {
    this.listeners.clear();
  }
}
