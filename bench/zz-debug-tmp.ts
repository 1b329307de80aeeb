import { makeRepo } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
import { launchBrowser, signedInPage } from "../tests/browser/browser.ts";
const repo = makeRepo({ "README.md": "# x\n", "a.txt": "1\n" });
const h = await startHive(repo.path);
const browser = await launchBrowser();
try {
  const r = await h.api("POST", "/api/cells", { workspaceId: h.workspaceId, templateId: "basic", name: "dbg" });
  const cell = await h.waitForCell(r.body.id, (c) => c?.status === "ready");
  const page = await signedInPage(browser, h.hive.auth.startUrl(Number(new URL(h.url).port)), { width: 1600, height: 900 });
  page.on("console", (m) => console.log("console", m.type(), m.text()));
  page.on("websocket", (ws) => ws.on("framereceived", (f) => { const s = String(f.payload); if (s.includes("files:")) console.log("WS<", s.slice(0, 300)); }).on("framesent", (f) => { const s = String(f.payload); if (s.includes("files")) console.log("WS>", s); }));
  await page.goto(`${h.url}/cells/${cell!.id}`);
  await new Promise((r) => setTimeout(r, 5000));
  const { writeFileSync } = await import("node:fs");
  writeFileSync(`${cell!.worktreePath}/a.txt`, "2\n");
  await new Promise((r) => setTimeout(r, 5000));
  await page.screenshot({ path: "/tmp/h4-debug.png" });
} finally {
  await browser.close();
  await h.close();
  repo.cleanup();
}
