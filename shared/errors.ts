import { z } from "zod";

/** Every error Hive reports has one of these codes; the transport maps each to an HTTP status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  CONFIG_INVALID: 422,
  TEMPLATE_NOT_FOUND: 404,
  TEMPLATE_INVALID: 422,
  WORKSPACE_NOT_FOUND: 404,
  WORKSPACE_INVALID: 422,
  WORKSPACE_EXISTS: 409,
  /** A workspace with cells (archived ones too) cannot be removed. */
  WORKSPACE_BUSY: 409,
  CELL_NOT_FOUND: 404,
  CELL_BUSY: 409,
  CELL_STATE: 409,
  REF_INVALID: 422,
  PATH_OUTSIDE_WORKTREE: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** A delete stopped rather than remove work it could not keep. */
  WORK_NOT_KEPT: 409,
  TERMINAL_CLOSED: 409,
  /** Closing would end a program running in the terminal; close it with `force` to end it anyway. */
  TERMINAL_BUSY: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ApiErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** An error as a value: a code a program can switch on and a message a person can act on. */
export class HiveError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "HiveError";
  }
}

/**
 * How a schema's complaints read to people (pass to `safeParse`): a missing field says "required" instead of
 * "Invalid input: expected string, received undefined".
 */
export const readableIssues: z.core.$ZodErrorMap = (issue) =>
  issue.code === "invalid_type" && issue.input === undefined ? "required" : undefined;
