import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** How a service says it is ready, from its template: a pattern in its output, a URL, or its port. */
export type ReadyCheck =
  | { kind: "pattern"; pattern: RegExp }
  | { kind: "url"; url: string }
  | { kind: "port"; host: string; port: number }
  /** No check configured: ready once spawned. */
  | { kind: "spawned" };

export interface ReadySource {
  /** Subscribes to the service's output; returns the unsubscribe function. */
  onOutput(listener: (text: string) => void): () => void;
}

const POLL_MS = 150;
const PROBE_TIMEOUT_MS = 2000;
/** Output kept for matching a pattern that may span chunk boundaries. */
const PATTERN_WINDOW = 8 * 1024;
// biome-ignore lint/suspicious/noControlCharactersInRegex: colour codes are what it strips.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function describeCheck(check: ReadyCheck): string {
  switch (check.kind) {
    case "pattern":
      return `output matching /${check.pattern.source}/`;
    case "url":
      return `a 2xx answer from ${check.url}`;
    case "port":
      return `port ${check.port} accepting connections`;
    case "spawned":
      return "the process to start";
  }
}

/** Resolves once the check passes; rejects with the signal's reason when aborted. */
export async function waitReady(check: ReadyCheck, source: ReadySource, signal: AbortSignal): Promise<void> {
  switch (check.kind) {
    case "spawned":
      return;
    case "pattern":
      return waitForPattern(check.pattern, source, signal);
    case "url":
      return poll(() => urlAnswers(check.url, signal), signal);
    case "port":
      return poll(() => portAccepts(check.host, check.port), signal);
  }
}

function waitForPattern(pattern: RegExp, source: ReadySource, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let window = "";
    const done = (err?: unknown) => {
      unsubscribe();
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => done(signal.reason);
    const unsubscribe = source.onOutput((text) => {
      window = (window + text.replace(ANSI, "")).slice(-PATTERN_WINDOW);
      if (pattern.test(window)) done();
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort);
  });
}

async function poll(probe: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    if (await probe()) return;
    await sleep(POLL_MS, undefined, { signal });
  }
}

async function urlAnswers(url: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function portAccepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
    socket.once("timeout", () => finish(false));
  });
}
