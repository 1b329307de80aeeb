import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import { ERROR_STATUS, HiveError, readableIssues } from "../../../shared/errors.ts";

/** Validates one part of a request; the error names every field that was wrong and where. */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: "body" | "params" | "query",
): z.infer<S> {
  const r = schema.safeParse(value ?? {}, { error: readableIssues });
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].join("."),
    message: i.message,
  }));
  throw new HiveError(
    "BAD_REQUEST",
    `Invalid request ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    { issues },
  );
}

/** Wraps a route: errors reach the error handler, and a returned value is sent as JSON. */
export function route(fn: (req: Request, res: Response) => Promise<unknown> | unknown): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .then((value) => {
        if (!res.headersSent && value !== undefined && value !== res) res.json(value);
      })
      .catch(next);
  };
}

/** Maps errors to `{error:{code,message,details}}` with the status the code implies. */
export const errorHandler: ErrorRequestHandler = (err, _req, res, _next) => {
  if (err instanceof HiveError) {
    res
      .status(ERROR_STATUS[err.code])
      .json({ error: { code: err.code, message: err.message, details: err.details } });
    return;
  }
  // body-parser's errors (malformed JSON, too large) carry a status and a type.
  const e = err as { status?: number; type?: string; message?: string };
  if (e.type === "entity.parse.failed") {
    res
      .status(400)
      .json({ error: { code: "BAD_REQUEST", message: `Request body is not valid JSON: ${e.message}` } });
    return;
  }
  if (e.type === "entity.too.large") {
    res.status(413).json({ error: { code: "BAD_REQUEST", message: "Request body is too large." } });
    return;
  }
  // The details (paths, SQL) go to the log, not to the client.
  const ref = Math.random().toString(36).slice(2, 10);
  console.error(`[hive] unexpected error (ref ${ref}):`, err);
  res.status(500).json({
    error: { code: "INTERNAL", message: `Internal error (ref ${ref}); the server log has the details.` },
  });
};

export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: "NOT_FOUND", message: `No route ${req.method} ${req.path}.` } });
};
