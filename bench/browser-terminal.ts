// In headless Chromium: `cat` of a 100 MB file in a cell's terminal through the real client, socket and
// flow control, against xterm.js writing the same bytes locally in the same page (the browser's own
// ceiling). While the flood runs, keystrokes go into a second terminal of the same cell and their echo
// is timed. Goal: ratio at least 0.8 (medians of ROUNDS alternating runs of each), and every keystroke
// echoing within 50 ms during the floods. For comparison, each round also floods plain xterm.js terminals
// over a bare relay in the same process layout (_plain-terminals.ts), and an idle process reports how
// long this machine held it up meanwhile.
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Cell } from "../shared/records.ts";
import { buildClientIfStale, useTempShellHome } from "../tests/browser/browser.ts";
import { makeRepo, tempDir } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
import { CdpPage } from "./_cdp-page.ts";
import { openPlainTerminals, type PlainTerminals, startPlainTerminals } from "./_plain-terminals.ts";
import { StallProbe } from "./_stall-probe.ts";
import { median, percentile } from "./_stats.ts";

const MB = 1024 * 1024;
const TOTAL_MB = Number(process.env.FLOOD_MB ?? 100);
const GOAL_RATIO = 0.8;
const GOAL_ECHO_MS = 50;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** One MiB of typical output (log lines, some colour), repeated to make the file. */
function block(): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < MB; i++) {
    const line =
      i % 7 === 0
        ? `\x1b[32m✓\x1b[0m test ${i} passed in ${(i % 97) + 3} ms\n`
        : `${String(i).padStart(6, "0")} INFO  request GET /api/items/${i * 31} 200 ${(i * 13) % 400}ms user=${i % 50}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join("").slice(0, MB);
}

const data = block();
const bytes = Buffer.byteLength(data);
const dir = tempDir("hive-bench-term-");
const file = join(dir, "flood.txt");
writeFileSync(file, data.repeat(TOTAL_MB));
const totalBytes = bytes * TOTAL_MB;
console.log(`flood file: ${(totalBytes / MB).toFixed(0)} MB`);
/** The flood's rate, given how long it took. */
const mbPerSecond = (ms: number) => totalBytes / MB / (ms / 1000);

const repo = makeRepo();
const restoreHome = useTempShellHome();
const h = await startHive(repo.path);
const created = await h.api<Cell>("POST", "/api/cells", {
  workspaceId: h.workspaceId,
  templateId: "basic",
  name: "bench",
});
await h.waitForCell(created.body.id, (c) => c?.status === "ready");
await buildClientIfStale();
const page = await CdpPage.launch();
/** The bench's own xterm.js, for the baseline and the plain terminals. */
const xtermJs = readFileSync(
  join(import.meta.dirname, "..", "node_modules", "@xterm", "xterm", "lib", "xterm.js"),
  "utf8",
);
let plainPage: CdpPage | undefined;
let plain: PlainTerminals | undefined;

try {
  await page.goto(h.hive.auth.startUrl(Number(new URL(h.url).port)));
  await page.goto(`${h.url}/cells/${created.body.id}`);
  await page.click("Open a terminal");
  await page.click("New terminal");
  // The flood goes to the first shell, in front; the second takes keystrokes behind it. Answers the size
  // and place of the first, for the plain terminals.
  const pane = await page.evaluate(async () => {
    const tabs = () =>
      document
        .querySelector("hive-app")
        ?.shadowRoot?.querySelector("hive-cell-view")
        ?.shadowRoot?.querySelector("hive-terminal-tabs")?.shadowRoot;
    while ((tabs()?.querySelectorAll("hive-terminal-pane").length ?? 0) < 2)
      await new Promise((r) => setTimeout(r, 50));
    (tabs()!.querySelector(".tab") as HTMLElement).click();
    await new Promise((r) => setTimeout(r, 1000));
    const panes = [...tabs()!.querySelectorAll("hive-terminal-pane")] as unknown as (HTMLElement & {
      term: { cols: number; rows: number };
    })[];
    // Where echoProbe and floodAndType find them, as in the plain terminals' page.
    (window as unknown as { __terms: unknown[] }).__terms = panes.map((p) => p.term);
    const r = panes[0]!.getBoundingClientRect();
    return {
      cols: panes[0]!.term.cols,
      rows: panes[0]!.term.rows,
      rect: { left: r.left, top: r.top, width: r.width, height: r.height },
    };
  }, undefined);
  await page.addScript(xtermJs);
  // The plain terminals (see _plain-terminals.ts) run in a browser of their own, as cold as Hive's page
  // at its first flood.
  plain = await startPlainTerminals(pane.cols, pane.rows);
  plainPage = await CdpPage.launch();
  await plainPage.goto(plain.url);
  await plainPage.addScript(xtermJs);
  await plainPage.evaluate(openPlainTerminals, pane);
  const renderer = await page.evaluate(() => {
    const gl = document.createElement("canvas").getContext("webgl2");
    const info = gl?.getExtension("WEBGL_debug_renderer_info");
    return info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "no WebGL";
  }, undefined);
  console.log(`GPU renderer: ${renderer}`);

  // Rounds alternate the two, so that a noisy spell of this shared machine falls on both alike.
  const localRates: number[] = [];
  const hiveRates: number[] = [];
  const echoes: number[] = [];
  const plainRates: number[] = [];
  const plainEchoes: number[] = [];
  const longFrames: number[] = [];
  const probe = new StallProbe();
  let stall = 0;
  let localStall = 0;
  let plainStall = 0;
  const idleEcho = await page.evaluate(echoProbe, { samples: 10, gapMs: 100 });
  await plainPage.evaluate(echoProbe, { samples: 10, gapMs: 100 });
  for (let round = 1; round <= ROUNDS; round++) {
    const localStart = Date.now();
    const local = mbPerSecond(await localBaseline(page, data, TOTAL_MB));
    localStall = Math.max(localStall, probe.worstBetween(localStart, Date.now()));
    const floodStart = Date.now();
    const run = await page.evaluate(floodAndType, { file, marker: `FLOOD-END${round}` });
    stall = Math.max(stall, probe.worstBetween(floodStart, Date.now()));
    const hive = mbPerSecond(run.ms);
    localRates.push(local);
    hiveRates.push(hive);
    echoes.push(...run.echoes);
    longFrames.push(...run.longFrames);
    const plainStart = Date.now();
    const plainRun = await plainPage.evaluate(floodAndType, {
      file,
      marker: `PLAIN-END${round}`,
    });
    plainStall = Math.max(plainStall, probe.worstBetween(plainStart, Date.now()));
    plainRates.push(mbPerSecond(plainRun.ms));
    plainEchoes.push(...plainRun.echoes);
    console.log(
      `round ${round}: local xterm.js ${local.toFixed(1)} MB/s, through Hive ${hive.toFixed(1)} MB/s, echo max ${Math.max(...run.echoes).toFixed(1)} ms; plain ${plainRates.at(-1)!.toFixed(1)} MB/s, echo max ${Math.max(...plainRun.echoes).toFixed(1)} ms`,
    );
  }
  probe.stop();
  // What the page alone manages when the machine's other core is busy, as it is with Hive's server
  // and shell during a flood on this 2-core machine: printed to explain the ratio, not part of the goal.
  // The spinner also stops by itself, should this process die before it kills it.
  const spin = spawn(process.execPath, ["-e", "const end = Date.now() + 60_000; while (Date.now() < end);"], {
    stdio: "ignore",
  });
  let busyCore: number;
  try {
    busyCore = mbPerSecond(await localBaseline(page, data, TOTAL_MB));
  } finally {
    spin.kill("SIGKILL");
  }
  const localMBs = median(localRates);
  const hiveMBs = median(hiveRates);
  const p50 = percentile(echoes, 0.5);
  const max = Math.max(...echoes);
  const ratio = hiveMBs / localMBs;
  console.log(`local xterm.js write: ${localMBs.toFixed(1)} MB/s (median of ${ROUNDS})`);
  console.log(`local xterm.js write, another core busy: ${busyCore.toFixed(1)} MB/s`);
  console.log(`through Hive: ${hiveMBs.toFixed(1)} MB/s (median of ${ROUNDS}), ratio ${ratio.toFixed(3)}`);
  console.log(
    `echo in a second terminal: idle p50 ${percentile(idleEcho, 0.5).toFixed(1)} ms; during the floods p50 ${p50.toFixed(1)} ms, p90 ${percentile(echoes, 0.9).toFixed(1)} ms, max ${max.toFixed(1)} ms over ${echoes.length} keystrokes, ${echoes.filter((e) => e <= GOAL_ECHO_MS).length} within ${GOAL_ECHO_MS} ms`,
  );
  const plainMax = Math.max(...plainEchoes);
  console.log(
    `plain xterm.js, a WebSocket per terminal, relayed bare through the same two processes: ${median(plainRates).toFixed(1)} MB/s; echo during its floods p50 ${percentile(plainEchoes, 0.5).toFixed(1)} ms, p90 ${percentile(plainEchoes, 0.9).toFixed(1)} ms, max ${plainMax.toFixed(1)} ms over ${plainEchoes.length} keystrokes, ${plainEchoes.filter((e) => e <= GOAL_ECHO_MS).length} within ${GOAL_ECHO_MS} ms`,
  );
  console.log(
    `an idle process on this machine was held up to ${stall.toFixed(1)} ms during the floods through Hive, ${plainStall.toFixed(1)} ms during the plain terminals' floods, and ${localStall.toFixed(1)} ms while only the page's local xterm.js wrote`,
  );
  // A keystroke's echo waits behind whatever the page is doing when it arrives: Chromium's long animation
  // frames are stretches of over 50 ms of tasks and the rendering they led to.
  console.log(
    `the page's stretches of work over 50 ms during the floods: ${longFrames.length}, longest ${Math.max(0, ...longFrames).toFixed(0)} ms`,
  );
  console.log(
    JSON.stringify({
      bench: "browser-terminal",
      metrics: {
        mb: TOTAL_MB,
        rounds: ROUNDS,
        local_mb_s: round(localMBs),
        local_busy_core_mb_s: round(busyCore),
        hive_mb_s: round(hiveMBs),
        ratio: round(ratio, 3),
        echo_idle_p50_ms: round(percentile(idleEcho, 0.5)),
        echo_flood_p50_ms: round(p50),
        echo_flood_p90_ms: round(percentile(echoes, 0.9)),
        echo_flood_max_ms: round(max),
        echo_samples: echoes.length,
        echo_within_goal: echoes.filter((e) => e <= GOAL_ECHO_MS).length,
        idle_process_stall_max_ms: round(stall),
        idle_process_stall_local_max_ms: round(localStall),
        idle_process_stall_plain_max_ms: round(plainStall),
        page_long_frames: longFrames.length,
        page_long_frame_max_ms: round(Math.max(0, ...longFrames)),
        plain_mb_s: round(median(plainRates)),
        plain_ratio: round(median(plainRates) / localMBs, 3),
        plain_echo_p90_ms: round(percentile(plainEchoes, 0.9)),
        plain_echo_max_ms: round(plainMax),
        plain_echo_samples: plainEchoes.length,
        plain_echo_within_goal: plainEchoes.filter((e) => e <= GOAL_ECHO_MS).length,
      },
      goal: `ratio >= ${GOAL_RATIO} of local xterm.js, and a keystroke in a second terminal echoes within ${GOAL_ECHO_MS} ms during the flood`,
      met: ratio >= GOAL_RATIO && echoes.length > 0 && max <= GOAL_ECHO_MS,
    }),
  );
} finally {
  await page.close().catch((err) => console.error("closing Chromium:", err));
  await plainPage?.close().catch((err) => console.error("closing Chromium:", err));
  plain?.close();
  await h.close();
  restoreHome();
  repo.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

function round(x: number, digits = 1): number {
  return Number(x.toFixed(digits));
}

/** xterm.js alone: the same bytes, the same size and options, over the first pane, in 64 KiB writes. */
async function localBaseline(page: CdpPage, block: string, times: number): Promise<number> {
  return page.evaluate(
    async ({ block, times }) => {
      type Term = {
        cols: number;
        rows: number;
        open(el: HTMLElement): void;
        write(d: Uint8Array, cb?: () => void): void;
        dispose(): void;
        options: Record<string, unknown>;
      };
      const w = window as unknown as { Terminal: new (o: object) => Term };
      const pane = document
        .querySelector("hive-app")!
        .shadowRoot!.querySelector("hive-cell-view")!
        .shadowRoot!.querySelector("hive-terminal-tabs")!
        .shadowRoot!.querySelector("hive-terminal-pane[active]") as HTMLElement & { term: Term };
      const rect = pane.getBoundingClientRect();
      const host = document.createElement("div");
      Object.assign(host.style, {
        position: "fixed",
        left: `${rect.left}px`,
        top: `${rect.top}px`,
        width: `${rect.width}px`,
        height: `${rect.height}px`,
        zIndex: "50",
        background: "#fff",
      });
      document.body.append(host);
      const term = new w.Terminal({ ...pane.term.options, cols: pane.term.cols, rows: pane.term.rows });
      term.open(host);
      const bytes = new TextEncoder().encode(block);
      const CHUNK = 64 * 1024;
      // xterm.js drops data beyond 50 MB queued, so even the baseline keeps a window of writes in flight.
      const WINDOW = 2 * 1024 * 1024;
      let pending = 0;
      let wake: (() => void) | undefined;
      const t0 = performance.now();
      for (let i = 0; i < times; i++) {
        for (let off = 0; off < bytes.length; off += CHUNK) {
          const chunk = bytes.subarray(off, off + CHUNK);
          while (pending > WINDOW) await new Promise<void>((r) => (wake = r));
          pending += chunk.length;
          term.write(chunk, () => {
            pending -= chunk.length;
            wake?.();
          });
        }
      }
      while (pending > 0) await new Promise<void>((r) => (wake = r));
      const ms = performance.now() - t0;
      term.dispose();
      host.remove();
      return ms;
    },
    { block, times },
  );
}

/** Types into the second terminal while nothing floods, timing each echo (to the moment xterm has parsed it). */
async function echoProbe(opts: { samples: number; gapMs: number }): Promise<number[]> {
  type Xterm = { input(d: string, user?: boolean): void; onWriteParsed(fn: () => void): { dispose(): void } };
  const typing = (window as unknown as { __terms: Xterm[] }).__terms[1]!;
  const once = (ch: string) =>
    new Promise<number>((resolve) => {
      const t0 = performance.now();
      const sub = typing.onWriteParsed(() => {
        sub.dispose();
        resolve(performance.now() - t0);
      });
      typing.input(ch, true);
    });
  const out: number[] = [];
  for (let i = 0; i < opts.samples; i++) {
    out.push(await once("x"));
    await once("\x7f");
    await new Promise((r) => setTimeout(r, opts.gapMs));
  }
  return out;
}

/**
 * Runs the cat in the first terminal, types in the second meanwhile, and times the whole output: Hive's
 * two panes, or the two plain xterm.js terminals of _plain-terminals.ts (`window.__terms` in each page).
 */
async function floodAndType(opts: {
  file: string;
  marker: string;
}): Promise<{ ms: number; echoes: number[]; longFrames: number[] }> {
  type Xterm = {
    input(d: string, user?: boolean): void;
    onWriteParsed(fn: () => void): { dispose(): void };
    buffer: {
      active: {
        baseY: number;
        cursorY: number;
        getLine(i: number): { translateToString(t?: boolean): string } | undefined;
      };
    };
  };
  const w = window as unknown as { __floodRunning?: boolean; __terms: Xterm[] };
  const [flood, typing] = w.__terms;
  if (!flood || !typing) throw new Error("two terminals expected");
  // The marker is computed by the shell so the echoed command line itself never matches it.
  const done = `${opts.marker}-${6 * 7}`;
  const ended = new Promise<number>((resolve) => {
    const check = () => {
      const b = flood.buffer.active;
      const y = b.baseY + b.cursorY;
      for (let i = Math.max(0, y - 3); i <= y; i++) {
        if (b.getLine(i)?.translateToString(true).includes(done)) return resolve(performance.now());
      }
      setTimeout(check, 20);
    };
    check();
  });
  const echoes: number[] = [];
  const once = (ch: string) =>
    new Promise<number>((resolve) => {
      const t0 = performance.now();
      const sub = typing.onWriteParsed(() => {
        sub.dispose();
        resolve(performance.now() - t0);
      });
      typing.input(ch, true);
    });
  const longFrames: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longFrames.push(e.duration);
  });
  observer.observe({ type: "long-animation-frame" });
  w.__floodRunning = true;
  const t0 = performance.now();
  flood.input(`cat '${opts.file}'; echo ${opts.marker}-$((6*7))\r`, true);
  const typingDone = (async () => {
    await new Promise((r) => setTimeout(r, 300));
    while (w.__floodRunning) {
      echoes.push(await once("x"));
      await once("\x7f");
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const t1 = await ended;
  w.__floodRunning = false;
  await typingDone;
  observer.disconnect();
  return { ms: t1 - t0, echoes, longFrames };
}
