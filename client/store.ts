import type { ReactiveController, ReactiveControllerHost } from "lit";

/** A value that tells its listeners when it changes: the one shape every client store has. */
export class Store<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set(value: T): void {
    this.current = value;
    for (const l of [...this.listeners]) l(value);
  }

  update(fn: (value: T) => T): void {
    this.set(fn(this.current));
  }

  /** Calls the listener on every change; returns the function that stops it. */
  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Anything a component can listen to for changes. */
export interface Subscribable {
  subscribe(listener: () => void): () => void;
}

/**
 * Re-renders a Lit component whenever one of the stores it reads changes, while it is connected.
 * The list is read again before every update, so stores that arrive later as properties (an element
 * upgraded after its chunk loaded) or change are followed too.
 */
export class StoreController implements ReactiveController {
  private current: Subscribable[] = [];
  private offs: (() => void)[] = [];
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly stores: () => (Subscribable | undefined)[],
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    this.sync();
  }

  hostUpdate(): void {
    if (this.connected) this.sync();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.unsubscribe();
  }

  private sync(): void {
    const next = this.stores().filter((s): s is Subscribable => s !== undefined);
    if (next.length === this.current.length && next.every((s, i) => s === this.current[i])) return;
    this.unsubscribe();
    this.current = next;
    this.offs = next.map((s) => s.subscribe(() => this.host.requestUpdate()));
  }

  private unsubscribe(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.current = [];
  }
}
