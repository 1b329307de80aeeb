// The browser's side of bench/agent-stream, in its own process so that Hive's work never delays its
// clock: the scripted model server stamps each token as it writes it, one reader takes OpenCode's own
// `/event` stream directly, another is a socket client of Hive subscribed to `agent:<cellId>`. Talks
// to the bench over IPC: sends the model's provider config, gets where to connect, sends latencies.
import { once } from "node:events";
import WebSocket from "ws";
import { readSseData } from "../server/agents/sse.ts";
import { startModelServer } from "../tests/fixtures/model-server.ts";

export interface ProbeTarget {
  opencodeUrl: string;
  authorization: string;
  directory: string;
  hiveUrl: string;
  headers: Record<string, string>;
  cellId: string;
  tokens: number;
  chunkDelayMs: number;
}

export interface ProbeResult {
  /** Milliseconds from emission to arrival, by token index; null when the token never arrived. */
  direct: (number | null)[];
  hive: (number | null)[];
}

const send = (m: unknown) => process.send!(m);
const model = await startModelServer();
send({ provider: model.providerConfig() });
const [target] = (await once(process, "message")) as [ProbeTarget];

const emitted: number[] = [];
const arrived = { direct: new Map<number, number>(), hive: new Map<number, number>() };

/** Records each whole token `t<i>;` the first time a reader sees it; a token split across deltas is joined. */
function scanner(seen: Map<number, number>): (delta: string) => void {
  let carry = "";
  return (delta) => {
    const now = performance.now();
    const text = carry + delta;
    for (const m of text.matchAll(/t(\d+);/g)) {
      const i = Number(m[1]);
      if (!seen.has(i)) seen.set(i, now);
    }
    carry = text.slice(text.lastIndexOf(";") + 1);
  };
}

// OpenCode's own stream, read directly (as Hive reads its global one).
const sse = new AbortController();
const direct = scanner(arrived.direct);
const res = await fetch(`${target.opencodeUrl}/event?directory=${encodeURIComponent(target.directory)}`, {
  headers: { authorization: target.authorization, accept: "text/event-stream" },
  signal: sse.signal,
});
void readSseData(res.body!, (data) => {
  const parsed = JSON.parse(data) as { type?: string; properties?: { field?: string; delta?: string } };
  if (parsed.type === "message.part.delta" && parsed.properties?.field === "text")
    direct(parsed.properties.delta ?? "");
}).catch(() => {});

// The browser's socket to Hive.
const hive = scanner(arrived.hive);
const ws = new WebSocket(`${target.hiveUrl.replace(/^http/, "ws")}/ws`, { headers: target.headers });
await once(ws, "open");
ws.on("message", (data, isBinary) => {
  if (isBinary) return;
  const f = JSON.parse(String(data)) as {
    type: string;
    event?: { type: string; field?: string; delta?: string };
  };
  if (f.type === "event" && f.event?.type === "delta" && f.event.field === "text") hive(f.event.delta ?? "");
});
ws.send(JSON.stringify({ type: "subscribe", channel: `agent:${target.cellId}` }));
await new Promise((r) => setTimeout(r, 500));

async function turn(text: string[], onChunk?: (i: number) => void): Promise<void> {
  model.script({ text, chunkDelayMs: target.chunkDelayMs, onChunk });
  const r = await fetch(`${target.hiveUrl}/api/cells/${target.cellId}/agent/messages`, {
    method: "POST",
    headers: { ...target.headers, "content-type": "application/json" },
    body: JSON.stringify({ text: "Stream tokens" }),
  });
  if (r.status !== 202) throw new Error(`sending the message failed: ${r.status} ${await r.text()}`);
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

// Warm-up: OpenCode's first turn in a session loads more than the later ones do.
const mains = () => model.requests.filter((r) => !r.auxiliary).length;
const before = mains();
await turn(Array.from({ length: 50 }, (_, i) => `w${i} `));
await until(() => mains() > before, 60_000);
await new Promise((r) => setTimeout(r, 3_000));

const n = target.tokens;
await turn(
  Array.from({ length: n }, (_, i) => `t${i};`),
  (i) => {
    emitted[i] = performance.now();
  },
);
await until(() => arrived.direct.size >= n && arrived.hive.size >= n, n * target.chunkDelayMs * 4 + 60_000);
await new Promise((r) => setTimeout(r, 500));

const latencies = (seen: Map<number, number>) =>
  Array.from({ length: n }, (_, i) => {
    const at = seen.get(i);
    return at === undefined || emitted[i] === undefined ? null : at - emitted[i]!;
  });
const result: ProbeResult = { direct: latencies(arrived.direct), hive: latencies(arrived.hive) };
send(result);
sse.abort();
ws.close();
await model.close();
process.disconnect();
