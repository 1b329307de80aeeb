import { writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { decodeBinaryFrame } from "../shared/protocol.ts";
import type { Cell } from "../shared/records.ts";
import { makeRepo, tempDir } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";
const MBS = 20;
const file = join(tempDir("h6raw-"), "f.txt");
writeFileSync(file, `${"x".repeat(79)}\n`.repeat((MBS * 1048576) / 80));
const repo = makeRepo();
const h = await startHive(repo.path);
const r = await h.api<Cell>("POST", "/api/cells", { workspaceId: h.workspaceId, templateId: "basic", name: "x" });
await h.waitForCell(r.body.id, (c) => c?.status === "ready");
const ws = new WebSocket(`${h.url.replace("http", "ws")}/ws`, { headers: h.headers });
await new Promise((res) => ws.once("open", res));
let termId = "";
let got = 0;
let t0 = 0;
const done = new Promise<void>((resolve) => {
  ws.on("message", (d, bin) => {
    if (bin) {
      const { payload } = decodeBinaryFrame(new Uint8Array(d as Buffer));
      got += payload.length;
      ws.send(JSON.stringify({ type: "term.ack", termId, bytes: payload.length }));
      if (t0 && got > MBS * 1048576) resolve();
      return;
    }
    const f = JSON.parse(String(d));
    if (f.type === "term.opened") {
      termId = f.termId;
      ws.send(JSON.stringify({ type: "subscribe", channel: `term:${termId}` }));
      setTimeout(() => {
        got = 0;
        t0 = performance.now();
        ws.send(JSON.stringify({ type: "term.input", termId, data: `cat ${file}\r` }));
      }, 1500);
    }
  });
});
ws.send(JSON.stringify({ type: "term.open", cellId: r.body.id, cols: 80, rows: 24, ref: "a" }));
await done;
const ms = performance.now() - t0;
console.log(`raw ws client, immediate acks: ${MBS} MB in ${ms.toFixed(0)} ms = ${((MBS / ms) * 1000).toFixed(1)} MB/s`);
ws.close();
await h.close();
repo.cleanup();
