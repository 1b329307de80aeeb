import { z } from "zod";

/** Sign-in and session records of the HTTP API (`/auth`, `/api/auth/...`). */

/** The access token: 32 random bytes, base64url. Anything else is refused before it is compared. */
export const AccessTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "an access token is 43 characters of letters, digits, '-' and '_'");

export const LoginBody = z.object({ token: AccessTokenSchema }).strict();
export type LoginBody = z.infer<typeof LoginBody>;

export const SessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  userAgent: z.string().nullable(),
  address: z.string().nullable(),
  /** True for the session the request was made with. */
  current: z.boolean(),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionListResponse = z.object({ sessions: z.array(SessionSchema) });
export type SessionListResponse = z.infer<typeof SessionListResponse>;

/** What `GET /api/auth/me` and `POST /api/auth/login` answer: how this request is signed in. */
export const AuthStatusSchema = z.object({
  via: z.enum(["cookie", "token", "open"]),
  sessionId: z.string().nullable(),
});
export type AuthStatus = z.infer<typeof AuthStatusSchema>;
