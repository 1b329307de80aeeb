import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, readFileSync, renameSync, type Stats, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessTokenSchema } from "../../shared/auth.ts";
import { HiveError } from "../../shared/errors.ts";
import type { HomeLayout } from "../home/home.ts";

/**
 * The access token lives in a 0600 file under the home's state/ (not hashed: the CLI prints it in
 * the start URL at every start). It is the one long-lived secret; browsers trade it for sessions.
 */
export function tokenFile(layout: HomeLayout): string {
  return join(layout.stateDir, "access-token");
}

function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The home's token, made on first start. */
export function readOrCreateToken(layout: HomeLayout): string {
  const file = tokenFile(layout);
  try {
    // "wx": two processes starting at once must not each write a different token.
    writeFileSync(file, `${generateToken()}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readToken(file);
}

/** Replaces the token file atomically with a fresh token and returns it. */
export function writeNewToken(layout: HomeLayout): string {
  const file = tokenFile(layout);
  const tmp = `${file}.${process.pid}.tmp`;
  const token = generateToken();
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return token;
}

function readToken(file: string): string {
  // A token file others can read is a token others have: tighten it rather than refuse to start.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const token = readFileSync(file, "utf8").trim();
  if (!AccessTokenSchema.safeParse(token).success) {
    throw new HiveError(
      "CONFIG_INVALID",
      `The access token file ${file} does not hold a valid token; run \`hive token --rotate\` to make a new one.`,
      { file },
    );
  }
  return token;
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s).digest();

/**
 * Checks presented tokens against the file, re-reading it when it changes so that a rotation by
 * `hive token --rotate` in another process takes effect on the very next attempt.
 */
export class TokenVerifier {
  private cachedStamp = "";
  private hash: Buffer = Buffer.alloc(0);

  constructor(private readonly layout: HomeLayout) {
    readOrCreateToken(layout);
  }

  /** Constant time: both sides are hashed to 32 bytes first, so length leaks nothing either. */
  matches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.current());
  }

  /** The current token, for the start URL. */
  token(): string {
    this.stamp();
    return readToken(tokenFile(this.layout));
  }

  /** Identifies the file's current content; a deleted file is made again (with a new token). */
  stamp(): string {
    const file = tokenFile(this.layout);
    let st: Stats;
    try {
      st = statSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      readOrCreateToken(this.layout);
      st = statSync(file);
    }
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  }

  private current(): Buffer {
    const stamp = this.stamp();
    if (stamp !== this.cachedStamp) {
      this.hash = sha256(readToken(tokenFile(this.layout)));
      this.cachedStamp = stamp;
    }
    return this.hash;
  }
}
