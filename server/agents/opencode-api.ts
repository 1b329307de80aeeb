import { HiveError } from "../../shared/errors.ts";
import type { OpencodeServer } from "./opencode-server.ts";
import { readSseData } from "./sse.ts";

/**
 * The few OpenCode HTTP calls Hive makes, each scoped to a cell's directory (OpenCode serves many
 * directories from one process and picks the instance from `?directory=`), plus the global event
 * stream that carries every directory's events on one connection.
 */

const GET_ATTEMPTS = 4;
const REQUEST_TIMEOUT_MS = 30_000;

export interface OpencodeEvent {
  directory?: string;
  type: string;
  properties: Record<string, unknown>;
}

export class OpencodeApi {
  constructor(private readonly server: OpencodeServer) {}

  async request<T>(method: string, path: string, directory: string, body?: unknown): Promise<T> {
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      // url() waits for a server that is (re)starting, so a retry reaches the new one.
      const base = await this.server.url();
      const url = `${base}${path}${path.includes("?") ? "&" : "?"}directory=${encodeURIComponent(directory)}`;
      try {
        res = await fetch(url, {
          method,
          headers: { authorization: this.server.authorization, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        break;
      } catch (e) {
        // A read that met a server just dying or restarting is safe to repeat; a write might have landed.
        if (method === "GET" && attempt < GET_ATTEMPTS && (e as Error).name !== "TimeoutError") {
          await new Promise((r) => setTimeout(r, 300 * attempt));
          continue;
        }
        throw new HiveError(
          "UNAVAILABLE",
          `OpenCode did not answer ${method} ${path}: ${(e as Error).message}.`,
        );
      }
    }
    const text = await res.text();
    if (!res.ok) {
      if (res.status === 404)
        throw new HiveError("NOT_FOUND", `OpenCode has no ${path} (${text.slice(0, 200)}).`);
      throw new HiveError(
        "UNAVAILABLE",
        `OpenCode answered ${res.status} to ${method} ${path}: ${text.slice(0, 300)}`,
      );
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Reads `/global/event` until the signal aborts or the stream ends (the server died). Events are
   * handed over one by one, in order, as soon as each SSE record is complete.
   */
  async readEvents(
    signal: AbortSignal,
    onEvent: (e: OpencodeEvent) => void,
    onOpen?: () => void,
  ): Promise<void> {
    const base = await this.server.url();
    const res = await fetch(`${base}/global/event`, {
      headers: { authorization: this.server.authorization, accept: "text/event-stream" },
      signal,
    });
    if (!res.ok || !res.body)
      throw new HiveError("UNAVAILABLE", `OpenCode's event stream answered ${res.status}.`);
    onOpen?.();
    await readSseData(res.body, (data) => {
      const parsed = JSON.parse(data) as {
        directory?: string;
        payload?: { type: string; properties?: Record<string, unknown> };
      };
      if (!parsed.payload || parsed.payload.type === "sync") return;
      onEvent({
        directory: parsed.directory,
        type: parsed.payload.type,
        properties: parsed.payload.properties ?? {},
      });
    });
  }
}
