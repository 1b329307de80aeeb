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

/** Re-renders a Lit component whenever one of the stores it reads changes, while it is connected. */
export class StoreController implements ReactiveController {
  private offs: (() => void)[] = [];

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly stores: () => Subscribable[],
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.offs = this.stores().map((s) => s.subscribe(() => this.host.requestUpdate()));
  }

  hostDisconnected(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }
}
