import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stopPtyHost } from "../server/terminals/host-client.ts";
import type { Cell, TimingEvent } from "../shared/records.ts";
import { TERM_ACK_MAX_BYTES } from "../shared/terminals.ts";
import { makeRepo, type TempRepo, tempDir } from "../tests/helpers/repo.ts";
import { type SpawnedHive, spawnHive } from "../tests/helpers/server.ts";
import { TestSocket } from "../tests/socket/ws-client.ts";
import { machineQuiet } from "./_quiet.ts";

/**
 * Shared by the terminal benches: the real Hive as its own process (so server, PTY host and this
 * measuring client each have their own event loop, as with a browser), one ready cell, and a socket.
 */
export interface BenchHive {
  hive: SpawnedHive;
  home: string;
  cell: Cell;
  socket(): Promise<TestSocket>;
  close(): Promise<void>;
}

export async function startBenchHive(): Promise<BenchHive> {
  const repo: TempRepo = makeRepo();
  const home = tempDir("hive-bench-home-");
  const hive = await spawnHive(["--workspace", repo.path, "--home", home, "--port", "0"], {
    SHELL: "/bin/bash",
  });
  const ws = (await hive.api<{ id: string }[]>("GET", "/api/workspaces")).body[0]!;
  const r = await hive.api<Cell>("POST", "/api/cells", {
    workspaceId: ws.id,
    templateId: "basic",
    name: "bench",
  });
  if (r.status !== 201) throw new Error(`could not create a cell: ${JSON.stringify(r.body)}`);
  const cell = (await hive.waitForCell(r.body.id, (c) => c?.status === "ready"))!;
  // The cell's agent session starts the workspace's OpenCode; let that finish and the machine go quiet.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const timings = (await hive.api<TimingEvent[]>("GET", `/api/cells/${cell.id}/timings`)).body;
    const agent = timings.find((t) => t.step === "ensure_agent_session");
    if ((agent && agent.outcome !== "running") || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  await machineQuiet();
  const sockets: TestSocket[] = [];
  return {
    hive,
    home,
    cell,
    async socket() {
      const s = await TestSocket.connect(hive.url, hive.headers);
      sockets.push(s);
      return s;
    },
    async close() {
      for (const s of sockets) s.terminate();
      await hive.kill("SIGTERM");
      await stopPtyHost(home);
      rmSync(home, { recursive: true, force: true });
      repo.cleanup();
    },
  };
}

/** Raw output of one terminal, counted and acknowledged as it arrives (a client that keeps up). */
export class RawTerm {
  bytes = 0;
  frames = 0;
  private tail = "";
  private waiters: { text: string; resolve(): void }[] = [];
  private unacked = 0;
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly sock: TestSocket,
    readonly termId: string,
    onData?: (bytes: Uint8Array) => void,
  ) {
    this.onData = onData;
  }

  private onData: ((bytes: Uint8Array) => void) | undefined;

  static async open(
    sock: TestSocket,
    cellId: string,
    onData?: (bytes: Uint8Array) => void,
  ): Promise<RawTerm> {
    const termId = await sock.openTerminal(cellId, 200, 50);
    const t = new RawTerm(sock, termId, onData);
    const snap = await sock.subscribe(`term:${termId}`);
    if (snap.type !== "snapshot") throw new Error(JSON.stringify(snap));
    sock.onBinary((snap.state as { numericId: number }).numericId, (b) => t.data(b));
    return t;
  }

  input(data: string): void {
    this.sock.send({ type: "term.input", termId: this.termId, data });
  }

  /** Resolves when `text` appears in the output (looking at the last few hundred bytes only). */
  until(text: string): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }

  private data(b: Uint8Array): void {
    this.bytes += b.length;
    this.frames++;
    this.onData?.(b);
    this.unacked += b.length;
    // As the browser client does: in units of TERM_ACK_MAX_BYTES, and the rest once output pauses.
    clearTimeout(this.ackTimer);
    if (this.unacked >= TERM_ACK_MAX_BYTES) this.ack();
    else this.ackTimer = setTimeout(() => this.ack(), 10);
    if (this.waiters.length === 0) return;
    this.tail = (this.tail + Buffer.from(b.subarray(Math.max(0, b.length - 512))).toString("latin1")).slice(
      -1024,
    );
    for (const w of [...this.waiters]) {
      if (this.tail.includes(w.text)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  private ack(): void {
    if (this.unacked === 0) return;
    this.sock.send({ type: "term.ack", termId: this.termId, bytes: this.unacked });
    this.unacked = 0;
  }
}

/** One MiB of typical output: log lines, some of them colored. */
export function typicalOutput(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line =
      i % 7 === 0
        ? `\x1b[32m✓\x1b[0m test ${i} passed in ${(i % 97) + 3} ms\n`
        : `${String(i).padStart(6, "0")} \x1b[36mINFO\x1b[0m request GET /api/items/${i * 31} 200 ${(i * 13) % 400}ms user=${i % 50}\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join("");
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function ptyHostPid(home: string): number {
  return Number(readFileSync(join(home, "run", "pty-host.pid"), "utf8"));
}
