import { afterEach, describe, expect, it, vi } from "vitest";
import { PtyHostClient } from "../../server/terminals/host-client.ts";
import { TYPING_HOLD_MS } from "../../server/terminals/term-flow.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { TestSocket } from "../socket/ws-client.ts";

describe("typing while another terminal of the window prints", () => {
  let repo: TempRepo | undefined;
  let h: TestHive | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await h?.close();
    repo?.cleanup();
  });

  it("holds the window's other printing terminals back a moment, and no other window's", async () => {
    repo = makeRepo();
    h = await startHive(repo.path);
    const cell = await h.readyCell({ workspaceId: h.workspaceId, name: "typing" });
    const mine = await TestSocket.connect(h.url, h.headers);
    const theirs = await TestSocket.connect(h.url, h.headers);
    const typed = await mine.openTerminal(cell.id);
    const printing = await mine.openTerminal(cell.id);
    const elsewhere = await theirs.openTerminal(cell.id);
    for (const [sock, termId] of [
      [mine, typed],
      [mine, printing],
      [theirs, elsewhere],
    ] as const) {
      const view = await sock.attach(termId);
      // All three print; only the typed one's neighbours in the same window wait.
      view.input("while :; do echo tick; sleep 0.05; done\r");
    }
    await new Promise((r) => setTimeout(r, 500));
    const num = (termId: string) => h!.hive.terminals.list().find((t) => t.termId === termId)!.numericId;

    const notify = vi.spyOn(PtyHostClient.prototype, "notify");
    const told = () => notify.mock.calls.map(([msg]) => msg);
    mine.send({ type: "term.input", termId: typed, data: "x" });
    await vi.waitFor(() => expect(told()).toContainEqual({ t: "pause", num: num(printing) }));
    await new Promise((r) => setTimeout(r, TYPING_HOLD_MS + 100));
    expect(told()).toContainEqual({ t: "resume", num: num(printing) });
    const paused = told().flatMap((m) => (m.t === "pause" ? [m.num] : []));
    expect(paused).not.toContain(num(elsewhere));
    expect(paused).not.toContain(num(typed));
    mine.close();
    theirs.close();
  }, 60_000);
});
