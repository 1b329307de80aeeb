import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homeLayout } from "../../server/home/home.ts";
import type { HostMessage, HostSnapshot } from "../../server/terminals/host/messages.ts";
import { PtyHostClient, stopPtyHost } from "../../server/terminals/host-client.ts";
import type { TerminalInfo } from "../../shared/terminals.ts";
import { tempDir } from "../helpers/repo.ts";

/** The PTY host on its own, spoken to over its socket the way the web server does. */

let home: string;
let host: PtyHostClient;
const output = new Map<number, string>();
const exits: Extract<HostMessage, { t: "exit" }>[] = [];

beforeAll(async () => {
  home = tempDir("hive-pty-host-");
  host = await PtyHostClient.connect(homeLayout(home), {
    data: (msg) => output.set(msg.num, (output.get(msg.num) ?? "") + msg.bytes.toString()),
    message: (msg) => {
      if (msg.t === "exit") exits.push(msg);
    },
    close: () => {},
  });
});

afterAll(async () => {
  host?.close();
  await stopPtyHost(home);
  rmSync(home, { recursive: true, force: true });
});

function open(script: string): Promise<TerminalInfo> {
  return host.request<TerminalInfo>({
    t: "open",
    spec: {
      cellId: "c1",
      name: "sh",
      cwd: home,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TERM: "xterm-256color" },
      cols: 80,
      rows: 24,
      shell: "/bin/sh",
      args: ["-c", script],
      scrollbackLines: 1000,
    },
  });
}

async function until<T>(get: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the PTY host", () => {
  it("keeps the last output of a shell that exits while its output is paused (node-pty #72, #726)", async () => {
    // The shell writes its last words and exits while nothing reads its PTY (a lagging browser paused
    // it); node-pty gives up on an exited shell's output after 200 ms.
    const info = await open("sleep 0.3; printf 'last-words-%s\\n' $((6*7))");
    const num = info.numericId;
    host.notify({ t: "watch", num, on: true });
    host.notify({ t: "pause", num });
    const exit = await until(() => exits.find((e) => e.num === num));
    expect(exit.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    host.notify({ t: "resume", num });
    const snap = await host.request<HostSnapshot>({ t: "snapshot", num });
    expect(snap.screen).toContain("last-words-42");
    expect(output.get(num)).toContain("last-words-42");
  });
});
