// 100 terminals each fed 10,000 lines of mixed colored output: growth of resident memory per terminal
// across Hive's processes (the server and the PTY host with its screen worker; the shells themselves are
// the user's and shown apart), and the time to replay one terminal (10,000 lines of scrollback and the
// screen) to a client that subscribes. Baseline: the same processes with one terminal, in the same run.
// Goals: at most 5 MB per terminal, replay under 100 ms.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../tests/helpers/repo.ts";
import { cpuSeconds, ptyHostPid, RawTerm, startBenchHive } from "./_term-session.ts";

const TERMINALS = Number(process.env.TERMINALS ?? 100);
const LINES = 10_000;
const GOAL = { mbPerTerminal: 5, replayMs: 100 };
const MB = 1024 * 1024;

const dir = tempDir("hive-bench-mem-");
const file = join(dir, "output.txt");
const lines: string[] = [];
for (let i = 0; i < LINES; i++) {
  lines.push(
    i % 5 === 0
      ? `\x1b[1;32mPASS\x1b[0m src/module-${i % 97}/feature.test.ts \x1b[2m(${(i * 7) % 900} ms)\x1b[0m`
      : i % 5 === 1
        ? `\x1b[33mwarning\x1b[0m: unused variable \x1b[1m\`value${i}\`\x1b[0m at src/lib/file${i % 41}.rs:${i % 300}:${i % 80}`
        : `${new Date(1_700_000_000_000 + i * 1000).toISOString()} INFO  worker-${i % 8} processed job ${i} in ${(i * 13) % 500}ms`,
  );
}
writeFileSync(file, `${lines.join("\n")}\n`);

const rss = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
const shellsRss = (hostPid: number) => {
  const pids = execFileSync("pgrep", ["-P", String(hostPid)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .filter(Boolean);
  return pids.reduce((n, p) => n + rss(Number(p)), 0);
};
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function untilIdle(pid: number): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const c0 = cpuSeconds(pid);
    await settle(1000);
    if (cpuSeconds(pid) - c0 < 0.05) return;
  }
}

const h = await startBenchHive();
try {
  const sock = await h.socket();
  const fill = async (term: RawTerm, i: number) => {
    term.input(`cat ${file}; echo "F$((${i}+1000))D"\r`);
    await term.until(`F${i + 1000}D`);
  };
  const first = await RawTerm.open(sock, h.cell.id);
  await fill(first, 0);
  await settle(3000);
  const server = h.hive.child.pid!;
  const host = ptyHostPid(h.home);
  const before = { server: rss(server), host: rss(host), shells: shellsRss(host) };

  const terms: RawTerm[] = [];
  for (let i = 1; i <= TERMINALS; i++) terms.push(await RawTerm.open(sock, h.cell.id));
  await Promise.all(terms.map((t, i) => fill(t, i + 1)));
  for (const t of terms) sock.send({ type: "unsubscribe", channel: `term:${t.termId}` });
  // Output reaches clients before the screen worker has parsed all of it: wait for the host to go idle.
  await untilIdle(host);
  await settle(2000);
  const after = { server: rss(server), host: rss(host), shells: shellsRss(host) };
  const perTerminal = (after.server + after.host - before.server - before.host) / TERMINALS / MB;

  // Replay: a new client subscribes to a full terminal and gets its screen and scrollback.
  const viewer = await h.socket();
  const replays: number[] = [];
  let replayBytes = 0;
  for (const t of terms.slice(0, 9)) {
    const t0 = performance.now();
    const snap = await viewer.subscribe(`term:${t.termId}`);
    replays.push(performance.now() - t0);
    replayBytes = (snap as { state: { screen: string } }).state.screen.length;
    viewer.send({ type: "unsubscribe", channel: `term:${t.termId}` });
  }
  const replayMs = replays.sort((a, b) => a - b)[Math.floor(replays.length / 2)]!;

  console.log(
    `terminals: ${TERMINALS} × ${LINES} lines (${(readFileSync(file).length / MB).toFixed(2)} MB each)`,
  );
  console.log(`server RSS  ${(before.server / MB).toFixed(0)} → ${(after.server / MB).toFixed(0)} MB`);
  console.log(`PTY host RSS ${(before.host / MB).toFixed(0)} → ${(after.host / MB).toFixed(0)} MB`);
  console.log(
    `shells (not Hive's; for scale) ${(before.shells / MB).toFixed(0)} → ${(after.shells / MB).toFixed(0)} MB`,
  );
  console.log(`per terminal: ${perTerminal.toFixed(2)} MB (goal ≤ ${GOAL.mbPerTerminal})`);
  console.log(
    `replay of one terminal: ${replayMs.toFixed(1)} ms median, ${(replayBytes / MB).toFixed(2)} MB serialized (goal < ${GOAL.replayMs})`,
  );
  console.log(
    JSON.stringify({
      bench: "terminal-memory",
      metrics: {
        terminals: TERMINALS,
        mbPerTerminal: +perTerminal.toFixed(2),
        replayMs: +replayMs.toFixed(1),
      },
      goal: `≤ ${GOAL.mbPerTerminal} MB per terminal with ${LINES} lines; replay < ${GOAL.replayMs} ms`,
      met: perTerminal <= GOAL.mbPerTerminal && replayMs < GOAL.replayMs,
    }),
  );
} finally {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
}
