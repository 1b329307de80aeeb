import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The Hive checkout the host runs from. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const HOST_MAIN = join(ROOT, "server", "terminals", "host", "main.ts");

/** Relative module specifiers: `from "./x.ts"`, `import("./x.ts")`, `new URL("./x.ts", import.meta.url)`. */
const LOCAL_MODULE = /(?:from|import\(|new URL\()\s*"(\.{1,2}\/[^"]+\.ts)"/g;

/**
 * What the PTY host runs, as a hash: every source file it loads (followed from its entry through their
 * relative imports) and the locked versions of its dependencies. The host outlives the web server, so a
 * server started after an upgrade can meet a host of an older Hive; comparing builds tells it so.
 */
export function hostBuild(): string {
  const hash = createHash("sha256");
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    hash.update(`${relative(ROOT, file)}\0${text}\0`);
    for (const m of text.matchAll(LOCAL_MODULE)) visit(resolve(dirname(file), m[1]!));
  };
  visit(HOST_MAIN);
  const lock = join(ROOT, "package-lock.json");
  if (existsSync(lock)) hash.update(readFileSync(lock));
  return hash.digest("hex").slice(0, 16);
}
