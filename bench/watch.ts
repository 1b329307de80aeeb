/**
 * bench/watch: how fast a worktree watcher gets ready, what it costs in memory, and how soon an edit is
 * reported, on a generated 100,000-file worktree. Hive's watcher (@parcel/watcher behind
 * WorktreeWatcher, with its debounce and .gitignore filter) against chokidar, the baseline, each in a
 * fresh child process so their memory does not mix.
 *
 *   npm run bench -- watch            (FILES=20000 for a quicker run)
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { git } from "../server/worktrees/git.ts";

const FILES = Number(process.env.FILES ?? 100_000);
const PER_DIR = 100;
const EDITS = 40;
const GOAL = "ready < 1 s and < 50 MB RSS for 100,000 files; write -> batch p99 < 300 ms";

interface Result {
  watcher: string;
  readyMs: number;
  rssMb: number;
  rssDeltaMb: number;
  p50Ms: number;
  p99Ms: number;
  mode?: string;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! * 10) / 10;
};

/** Runs in a child: start one watcher on `dir`, then time EDITS writes until each is reported. */
async function child(kind: string, dir: string): Promise<void> {
  const seen = new Map<string, () => void>();
  const report = (rel: string) => seen.get(rel)?.();
  const { WorktreeWatcher } = await import("../server/watch/worktree-watcher.ts");
  const { watch } = await import("chokidar");
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  const t0 = performance.now();
  let stop: () => Promise<void>;
  let mode: string | undefined;
  if (kind === "parcel") {
    const w = await WorktreeWatcher.start(dir, { onBatch: (b) => b.paths.forEach(report) });
    mode = w.mode;
    stop = () => w.stop();
  } else {
    const w = watch(dir, {
      ignored: (p: string) => /(^|\/)(\.git|node_modules)(\/|$)/.test(p),
      ignoreInitial: true,
    });
    await new Promise<void>((resolve) => w.on("ready", () => resolve()));
    w.on("all", (_e, p) => report(p.slice(dir.length + 1)));
    stop = () => w.close();
  }
  const readyMs = performance.now() - t0;
  const rss = process.memoryUsage().rss;
  const lat: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    const rel = `d${(i * 37) % Math.ceil(FILES / PER_DIR)}/f${i % PER_DIR}.txt`;
    const started = performance.now();
    const done = new Promise<void>((resolve) => seen.set(rel, resolve));
    writeFileSync(join(dir, rel), `edit ${kind} ${i}\n`);
    await done;
    lat.push(performance.now() - started);
    seen.delete(rel);
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  const r: Result = {
    watcher: kind,
    readyMs: Math.round(readyMs),
    rssMb: mb(rss),
    rssDeltaMb: mb(rss - baseRss),
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    mode,
  };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function runChild(kind: string, dir: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--child", kind, dir],
      {
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
      },
    );
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      reject(new Error(`${kind} watcher did not finish within 150 s`));
    }, 150_000);
    p.on("exit", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line) as Result);
      else reject(new Error(`${kind} child exited ${code}: ${out}`));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hive-bench-watch-"));
  try {
    const t0 = performance.now();
    await git(["init", "-q"], { cwd: dir });
    writeFileSync(join(dir, ".gitignore"), "dist/\n");
    for (let d = 0; d < Math.ceil(FILES / PER_DIR); d++) {
      mkdirSync(join(dir, `d${d}`));
      for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++)
        writeFileSync(join(dir, `d${d}`, `f${f}.txt`), `${d}/${f}\n`);
    }
    // Committed, like a real worktree: git then knows every file and lists untracked ones quickly.
    const env = {
      GIT_AUTHOR_NAME: "b",
      GIT_AUTHOR_EMAIL: "b@b",
      GIT_COMMITTER_NAME: "b",
      GIT_COMMITTER_EMAIL: "b@b",
    };
    await git(["add", "-A"], { cwd: dir, timeoutMs: 300_000 });
    // No background `gc --auto` after this big commit: it would still be writing when the tree is removed.
    await git(["-c", "gc.auto=0", "commit", "-qm", "tree"], { cwd: dir, env, timeoutMs: 300_000 });
    console.log(
      `generated and committed ${FILES} files in ${Math.round(performance.now() - t0)} ms at ${dir}`,
    );
    const parcel = await runChild("parcel", dir);
    console.log("hive (parcel):", parcel);
    const chokidar = await runChild("chokidar", dir);
    console.log("chokidar (baseline):", chokidar);
    const met =
      parcel.readyMs < 1000 && parcel.rssDeltaMb < 50 && parcel.p99Ms < 300 && parcel.mode === "events";
    const metrics = {
      files: FILES,
      readyMs: parcel.readyMs,
      rssDeltaMb: parcel.rssDeltaMb,
      rssMb: parcel.rssMb,
      eventP50Ms: parcel.p50Ms,
      eventP99Ms: parcel.p99Ms,
      chokidarReadyMs: chokidar.readyMs,
      chokidarRssDeltaMb: chokidar.rssDeltaMb,
      chokidarEventP99Ms: chokidar.p99Ms,
    };
    console.log(JSON.stringify({ bench: "watch", metrics, goal: GOAL, met }));
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

if (process.argv[2] === "--child") await child(process.argv[3]!, process.argv[4]!);
else await main();
