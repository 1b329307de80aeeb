// The web app's first load in headless Chromium: the JavaScript needed for first paint (gzipped, every
// script the page loads before it shows a workspace with 50 cells; Monaco must not be among them), and
// the time from navigation to those 50 cells in the sidebar, beside the time to fetch the same list as
// JSON from the same server (the floor any client has to wait for). Goal: initial JS under 400 KB gzipped.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CLIENT_DIST } from "../server/transport/static.ts";
import type { Cell } from "../shared/records.ts";
import { launchBrowser, signedInPage } from "../tests/browser/browser.ts";
import { makeRepo } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
import { median } from "./_stats.ts";

const CELLS = 50;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const GOAL_KB = 400;

const repo = makeRepo();
const h = await startHive(repo.path);
const ids: string[] = [];
for (let i = 0; i < CELLS; i++) {
  const r = await h.api<Cell>("POST", "/api/cells", {
    workspaceId: h.workspaceId,
    templateId: "basic",
    name: `cell ${i}`,
  });
  ids.push(r.body.id);
}
for (const id of ids) await h.waitForCell(id, (c) => c?.status === "ready", 120_000);
console.log(`${CELLS} cells ready`);

const browser = await launchBrowser();

try {
  const page = await signedInPage(browser, h.hive.auth.startUrl(Number(new URL(h.url).port)));
  await page
    .locator("hive-cell-list a[data-cell-id]")
    .nth(CELLS - 1)
    .waitFor();

  const renders: number[] = [];
  /** Scripts the page had asked for by the time the 50 cells were on screen (the initial ones must be among them). */
  const beforeRender = new Set<string>();
  const fetches: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await page.goto("about:blank");
    await page.goto(h.url, { waitUntil: "commit" });
    const { ms, scripts: asked } = await page.evaluate(
      (n) =>
        new Promise<{ ms: number; scripts: string[] }>((resolve) => {
          const check = () => {
            const list = document.querySelector("hive-app")?.shadowRoot?.querySelector("hive-cell-list");
            const count = list?.shadowRoot?.querySelectorAll("a[data-cell-id]").length ?? 0;
            if (count < n) return requestAnimationFrame(check);
            const ms = performance.now();
            const scripts = performance
              .getEntriesByType("resource")
              .filter((e) => e.name.endsWith(".js") && e.startTime <= ms)
              .map((e) => new URL(e.name).pathname);
            resolve({ ms, scripts });
          };
          check();
        }),
      CELLS,
    );
    renders.push(ms);
    for (const s of asked) beforeRender.add(s);
    fetches.push(
      await page.evaluate(async () => {
        const t0 = performance.now();
        const ws = (await (await fetch("/api/workspaces")).json()) as { id: string }[];
        await (await fetch(`/api/cells?workspaceId=${ws[0]!.id}`)).json();
        return performance.now() - t0;
      }),
    );
    console.log(
      `round ${round + 1}: 50 cells on screen ${ms.toFixed(0)} ms after navigation; JSON list ${fetches.at(-1)!.toFixed(0)} ms`,
    );
  }

  let raw = 0;
  let gz = 0;
  // Initial JS: what index.html loads (its module script and preloads); later chunks are lazy by construction.
  const html = readFileSync(join(CLIENT_DIST, "index.html"), "utf8");
  const initial = [
    ...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g),
  ].map((m) => m[1]!);
  for (const path of beforeRender)
    if (!initial.includes(path)) console.log(`  ${path}: lazy chunk (prefetched), not initial`);
  for (const path of initial)
    if (!beforeRender.has(path)) throw new Error(`${path} is in index.html but was not loaded`);
  const scripts = new Map(initial.map((path) => [path, readFileSync(join(CLIENT_DIST, path))]));
  for (const [path, body] of scripts) {
    const z = gzipSync(body, { level: 9 }).length;
    raw += body.length;
    gz += z;
    console.log(`  ${path}: ${(body.length / 1024).toFixed(0)} KB, ${(z / 1024).toFixed(0)} KB gzipped`);
  }
  const monaco = [...scripts.entries()].some(
    ([p, b]) => /monaco|editor\.(main|api)/i.test(p) || b.includes("MonacoEnvironment"),
  );
  const kb = gz / 1024;
  console.log(
    `initial JS: ${(raw / 1024).toFixed(0)} KB, ${kb.toFixed(0)} KB gzipped; Monaco in it: ${monaco}`,
  );
  console.log(
    JSON.stringify({
      bench: "client-load",
      metrics: {
        initial_js_kb_gzip: Math.round(kb),
        initial_js_kb_raw: Math.round(raw / 1024),
        scripts: initial.length,
        monaco_in_initial_js: monaco,
        cells: CELLS,
        first_render_ms: Math.round(median(renders)),
        json_list_ms: Math.round(median(fetches)),
      },
      goal: `initial JS under ${GOAL_KB} KB gzipped (Monaco not in it); time to first render of ${CELLS} cells printed`,
      met: kb < GOAL_KB && !monaco,
    }),
  );
} finally {
  await browser.close();
  await h.close();
  repo.cleanup();
}
