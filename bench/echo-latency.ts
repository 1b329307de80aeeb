// Keystroke-to-echo round trip over the socket: 2,000 keystrokes into `cat` in a cell's terminal, (a) idle
// and (b) while a second terminal on the same socket floods output at full speed (`yes`, read and
// acknowledged by the same client). Goals: idle p50 < 1 ms, p99 < 3 ms; flood p50 < 2 ms, p99 < 10 ms.
// For scale, the same keystrokes into a PTY this process holds itself (node-pty, no Hive) give the floor of
// this machine's wake-ups, and a bare relay through the same processes as Hive's (a WebSocket into one, a
// unix socket to a second that owns the PTY; bench/_relay-floor.ts) gives the floor of that layout.
//
// The measuring client runs with single-threaded GC (bench/_measuring-client.ts): a pause of its own is not
// Hive's latency. Traced per hop, the worst 1% of echoes under flood were mostly the client's major GCs
// (15-18 of them, up to 28 ms); in an A/B of 2 runs each, flood p99 was 12.4 and 12.4 ms with the default
// GC, 6.3 and 8.3 ms with this one. Its GC pauses during the flood are printed.
import { type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import { spawn as spawnPty } from "node-pty";
import { measureWithSingleThreadedGc } from "./_measuring-client.ts";
import { startRelayFloor } from "./_relay-floor.ts";
import { percentile } from "./_stats.ts";
import { RawTerm, startBenchHive } from "./_term-session.ts";

measureWithSingleThreadedGc();

const KEYS = Number(process.env.KEYS ?? 2000);
const GOAL = { idle: { p50: 1, p99: 3 }, flood: { p50: 2, p99: 10 } };

const h = await startBenchHive();
try {
  const sock = await h.socket();
  let onEcho: (() => void) | undefined;
  const typing = await RawTerm.open(sock, h.cell.id, (bytes) => {
    if (bytes.includes(0x6b)) onEcho?.();
  });
  const flood = await RawTerm.open(sock, h.cell.id);
  // `cat` in cooked mode: the PTY's line discipline echoes each key; Enter hands the line to cat.
  typing.input("stty -icanon; exec cat\r");
  await new Promise((r) => setTimeout(r, 500));

  async function keystrokes(n: number, send = (key: string) => typing.input(key)): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const echoed = new Promise<void>((resolve) => (onEcho = resolve));
      const t0 = performance.now();
      send("k");
      await echoed;
      times.push(performance.now() - t0);
      // cat prints the line back in bulk on Enter; keep lines short and out of the timing.
      if (i % 100 === 99) {
        send("\r");
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return times.sort((a, b) => a - b);
  }

  const pty = spawnPty("/bin/sh", ["-c", "stty -icanon; exec cat"], { cols: 80, rows: 24 });
  pty.onData((d) => {
    if (d.includes("k")) onEcho?.();
  });
  await new Promise((r) => setTimeout(r, 300));
  await keystrokes(100, (k) => pty.write(k));
  const direct = await keystrokes(KEYS, (k) => pty.write(k));
  pty.kill();

  const relay = await startRelayFloor("stty -icanon; exec cat", (d) => {
    if (d.includes(0x6b)) onEcho?.();
  });
  await keystrokes(100, (k) => relay.send(k));
  const relayed = await keystrokes(KEYS, (k) => relay.send(k));
  relay.close();

  await keystrokes(100); // warm-up
  const idle = await keystrokes(KEYS);
  flood.input("yes 'flooding the same socket at full speed'\r");
  await new Promise((r) => setTimeout(r, 1000));
  const before = flood.bytes;
  const t0 = performance.now();
  const gcs: PerformanceEntry[] = [];
  const gcWatch = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  gcWatch.observe({ entryTypes: ["gc"] });
  const busy = await keystrokes(KEYS);
  gcWatch.disconnect();
  const floodMBps = (flood.bytes - before) / 1024 / 1024 / ((performance.now() - t0) / 1000);
  flood.input("\x03");

  const m = {
    idleP50: +percentile(idle, 0.5).toFixed(3),
    idleP99: +percentile(idle, 0.99).toFixed(3),
    floodP50: +percentile(busy, 0.5).toFixed(3),
    floodP99: +percentile(busy, 0.99).toFixed(3),
    floodMBps: +floodMBps.toFixed(1),
    nodePtyP50: +percentile(direct, 0.5).toFixed(3),
    nodePtyP99: +percentile(direct, 0.99).toFixed(3),
    relayP50: +percentile(relayed, 0.5).toFixed(3),
    relayP99: +percentile(relayed, 0.99).toFixed(3),
  };
  console.log(
    `keystrokes: ${KEYS} each      idle        under flood (${m.floodMBps} MB/s on the other terminal)`,
  );
  console.log(`p50 (ms)               ${m.idleP50.toFixed(2).padEnd(12)}${m.floodP50.toFixed(2)}`);
  console.log(`p99 (ms)               ${m.idleP99.toFixed(2).padEnd(12)}${m.floodP99.toFixed(2)}`);
  console.log(`floor, node-pty in this process, idle: p50 ${m.nodePtyP50} ms, p99 ${m.nodePtyP99} ms`);
  console.log(
    `floor, a bare relay through Hive's processes, idle: p50 ${m.relayP50} ms, p99 ${m.relayP99} ms`,
  );
  const gcMs = gcs.map((g) => g.duration);
  console.log(
    `this client's own GC pauses during the flood: ${gcs.length}, ${gcMs.reduce((a, b) => a + b, 0).toFixed(1)} ms in all, longest ${Math.max(0, ...gcMs).toFixed(1)} ms`,
  );
  const met =
    m.idleP50 < GOAL.idle.p50 &&
    m.idleP99 < GOAL.idle.p99 &&
    m.floodP50 < GOAL.flood.p50 &&
    m.floodP99 < GOAL.flood.p99;
  console.log(
    JSON.stringify({
      bench: "echo-latency",
      metrics: m,
      goal: "idle p50 < 1 ms, p99 < 3 ms; under flood p50 < 2 ms, p99 < 10 ms",
      met,
    }),
  );
} finally {
  await h.close();
}
