// `npm run bench -- <name>` runs bench/<name>.ts; with no name it lists the benches.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dirname;
const name = process.argv[2];
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.slice(0, -3));
if (!name || !existsSync(join(dir, `${name}.ts`))) {
  console.error(`${name ? `No bench '${name}'. ` : ""}Benches: ${names.join(", ")}`);
  process.exit(name ? 1 : 0);
}
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", join(dir, `${name}.ts`), ...process.argv.slice(3)],
  {
    stdio: "inherit",
  },
);
process.exit(r.status ?? 1);
