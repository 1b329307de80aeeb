import type { z } from "zod";
import { ApiErrorSchema } from "../shared/errors.ts";

/** An HTTP call that failed, with the server's code and message (or a transport error said plainly). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

type Listener = (failure: ApiFailure) => void;
const unauthorizedListeners = new Set<Listener>();

/** Called whenever the server answers 401: the session store turns it into the sign-in screen. */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** JSON over HTTP against Hive's API; the answer is checked against `schema` when one is given. */
export async function api<T = unknown>(
  method: "GET" | "POST" | "DELETE" | "PUT" | "PATCH",
  path: string,
  body?: unknown,
  schema?: z.ZodType<T>,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiFailure(
      0,
      "UNAVAILABLE",
      `could not reach Hive (${method} ${path}); is the server running?`,
    );
  }
  const text = await res.text();
  // JSON answers are parsed; plain text ones (the setup log) are returned as they are.
  let json: unknown = text;
  if (res.headers.get("content-type")?.includes("json")) {
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
  }
  if (!res.ok) {
    const parsed = ApiErrorSchema.safeParse(json);
    const failure = parsed.success
      ? new ApiFailure(
          res.status,
          parsed.data.error.code,
          parsed.data.error.message,
          parsed.data.error.details,
        )
      : new ApiFailure(
          res.status,
          `HTTP_${res.status}`,
          `${method} ${path} failed with ${res.status} ${res.statusText}`,
        );
    if (res.status === 401) for (const l of unauthorizedListeners) l(failure);
    throw failure;
  }
  if (!schema) return json as T;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiFailure(
      res.status,
      "BAD_RESPONSE",
      `${method} ${path} answered in an unexpected shape`,
      parsed.error,
    );
  }
  return parsed.data;
}
