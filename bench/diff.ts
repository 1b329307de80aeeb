/**
 * bench/diff: a cell with 2,000 changed files and 200,000 changed lines. Time to the diff summary and
 * to the first file's content over HTTP, against `git diff --stat <base>` in the same worktree and run;
 * then the live path: a write in the worktree until its `files.changed` event (what the `files:`
 * channel sends), with the big diff already open.
 *
 *   npm run bench -- diff
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHive } from "../server/app.ts";
import { git } from "../server/worktrees/git.ts";
import type { DiffSummary } from "../shared/diffs.ts";
import type { Cell } from "../shared/records.ts";
import { median } from "./_stats.ts";

const FILES = 2000;
const LINES = 100;
/** Lines replaced per file: 50 deleted + 50 added = 100 changed lines, 200,000 in all. */
const REPLACED = 50;
const RUNS = 5;
const EDITS = 30;
const GOAL =
  "summary and first file over HTTP <= 1.5x git diff --stat <base>; write -> files: event p99 < 300 ms";

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const round = (x: number) => Math.round(x * 10) / 10;
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const fileText = (f: number, tag: string) =>
  `${Array.from({ length: LINES }, (_, l) => `${l < REPLACED ? tag : "base"} line ${l} of file ${f}: some code here;`).join("\n")}\n`;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "hive-bench-diff-"));
  const repo = join(root, "repo");
  const env = {
    GIT_AUTHOR_NAME: "b",
    GIT_AUTHOR_EMAIL: "b@b",
    GIT_COMMITTER_NAME: "b",
    GIT_COMMITTER_EMAIL: "b@b",
  };
  mkdirSync(repo);
  await git(["init", "-q", "-b", "main"], { cwd: repo });
  const paths: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const rel = `src/m${f % 20}/file${f}.ts`;
    mkdirSync(join(repo, `src/m${f % 20}`), { recursive: true });
    writeFileSync(join(repo, rel), fileText(f, "base"));
    paths.push(rel);
  }
  await git(["add", "-A"], { cwd: repo });
  await git(["-c", "gc.auto=0", "commit", "-qm", "base"], { cwd: repo, env });

  const hive = await createHive({ home: join(root, "home"), host: "127.0.0.1", port: 0, workspaces: [repo] });
  try {
    const url = await hive.listen();
    const headers = { authorization: `Bearer ${hive.auth.token()}`, "content-type": "application/json" };
    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const workspaceId = hive.workspaces.list()[0]!.id;
    let cell = await api<Cell>("POST", "/api/cells", { workspaceId, templateId: "basic", name: "bench" });
    while (cell.status !== "ready") {
      if (cell.status === "error") throw new Error(`cell failed: ${cell.lastSetupError}`);
      await new Promise((r) => setTimeout(r, 100));
      cell = await api<Cell>("GET", `/api/cells/${cell.id}`);
    }
    // The agent warms up beside the cell; let it settle so it does not share the measured seconds.
    for (let i = 0; i < 300 && cell.agentStatus === "starting"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      cell = await api<Cell>("GET", `/api/cells/${cell.id}`);
    }
    const wt = cell.worktreePath!;
    for (let f = 0; f < FILES; f++) writeFileSync(join(wt, paths[f]!), fileText(f, "changed"));

    const gitStat = () => git(["diff", "--stat", cell.baseCommit!], { cwd: wt });
    const summary = () => api<DiffSummary>("GET", `/api/cells/${cell.id}/diff`);
    const firstFile = async () => {
      const s = await summary();
      await api("GET", `/api/cells/${cell.id}/diff/file?path=${encodeURIComponent(s.files[0]!.path)}`);
      return s;
    };

    const coldSummaryMs = await time(summary); // first look: nothing of this diff cached anywhere
    const check = await summary();
    const changedLines = check.totals.additions + check.totals.deletions;
    console.log(
      `diff of ${check.totals.files} files, ${changedLines} changed lines; cold summary ${round(coldSummaryMs)} ms`,
    );
    const gitMs: number[] = [];
    const summaryMs: number[] = [];
    const firstFileMs: number[] = [];
    await gitStat(); // warm the page cache for both
    for (let i = 0; i < RUNS; i++) {
      gitMs.push(await time(gitStat));
      summaryMs.push(await time(summary));
      firstFileMs.push(await time(firstFile));
    }
    console.log(
      "git diff --stat ms:",
      gitMs.map(round),
      "summary ms:",
      summaryMs.map(round),
      "first file ms:",
      firstFileMs.map(round),
    );

    // Live: the big diff is open (subscribed); each write must reach the channel as an event.
    const seen = new Map<string, () => void>();
    const off = hive.bus.on("files.changed", ({ event }) => {
      for (const f of event.changed) seen.get(f.path)?.();
    });
    await hive.files.subscribe(cell.id);
    const lat: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const rel = paths[(i * 61) % FILES]!;
      const done = new Promise<void>((resolve) => seen.set(rel, resolve));
      const t0 = performance.now();
      writeFileSync(join(wt, rel), `${fileText(i, "changed")}edit ${i}\n`);
      await done;
      lat.push(performance.now() - t0);
      seen.delete(rel);
    }
    off();
    await hive.files.unsubscribe(cell.id);
    console.log("write -> files: event ms:", lat.map(round));

    // A change far past any limit still lists: 55,000 new files (names and counts, no patches).
    for (let d = 0; d < 550; d++) {
      mkdirSync(join(wt, "gen", `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++)
        writeFileSync(join(wt, "gen", `d${d}`, `f${f}.txt`), `generated ${d}/${f}\n`);
    }
    const t55 = performance.now();
    const huge = await summary();
    const hugeMs = performance.now() - t55;
    const hugeCollapsed = huge.files.filter((f) => f.collapsed !== null).length;
    console.log(
      `${huge.totals.files} files listed in ${round(hugeMs)} ms (${hugeCollapsed} collapsed past the limits)`,
    );

    const metrics = {
      files: check.totals.files,
      changedLines,
      gitDiffStatMs: round(median(gitMs)),
      summaryMs: round(median(summaryMs)),
      coldSummaryMs: round(coldSummaryMs),
      firstFileMs: round(median(firstFileMs)),
      summaryRatio: ratio(median(summaryMs), median(gitMs)),
      firstFileRatio: ratio(median(firstFileMs), median(gitMs)),
      coldRatio: ratio(coldSummaryMs, median(gitMs)),
      eventP50Ms: round(pct(lat, 50)),
      eventP99Ms: round(pct(lat, 99)),
      files57kListed: huge.totals.files,
      files57kSummaryMs: round(hugeMs),
    };
    const met = metrics.summaryRatio <= 1.5 && metrics.firstFileRatio <= 1.5 && metrics.eventP99Ms < 300;
    console.log(JSON.stringify({ bench: "diff", metrics, goal: GOAL, met }));
  } finally {
    await hive.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 5 });
  }
}

await main();
