import xtermHeadless from "@xterm/headless";
import WebSocket from "ws";
import { type ClientFrame, decodeBinaryFrame, type ServerFrame } from "../../shared/protocol.ts";
import { TERM_ACK_MAX_BYTES, type TermSnapshot } from "../../shared/terminals.ts";

/**
 * A socket client for tests and benches, speaking the protocol the way the browser does: JSON control
 * frames, binary output written into a headless xterm, acks once xterm has written the bytes.
 */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  private waiters: { match(f: ServerFrame): boolean; resolve(f: ServerFrame): void }[] = [];
  private binary = new Map<number, (bytes: Uint8Array) => void>();
  /** Snapshots after the first (a lagging subscriber is resynced with one). */
  readonly snapshots = new Map<string, (state: unknown) => void>();
  private nextRef = 1;
  closed: { code: number; reason: string } | undefined;
  readonly closedPromise: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        const { numericId, payload } = decodeBinaryFrame(data as Buffer);
        this.binary.get(numericId)?.(payload);
        return;
      }
      const frame = JSON.parse(String(data)) as ServerFrame;
      this.frames.push(frame);
      if (frame.type === "snapshot") this.snapshots.get(frame.channel)?.(frame.state);
      if (this.frames.length > 10_000) this.frames.splice(0, 5_000);
      for (const w of [...this.waiters]) {
        if (w.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.closedPromise = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        resolve(this.closed);
      }),
    );
  }

  static async connect(baseUrl: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/ws`, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new TestSocket(ws);
  }

  /** Any frame, well-formed (a ClientFrame) or not: tests send broken ones on purpose. */
  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  next(match: (f: ServerFrame) => boolean, timeoutMs = 15_000): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching frame within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Sends a frame with a ref and waits for the answer carrying it. */
  async request(frame: ClientFrame): Promise<ServerFrame> {
    const ref = `r${this.nextRef++}`;
    const answer = this.next((f) => "ref" in f && f.ref === ref);
    this.send({ ...frame, ref });
    return answer;
  }

  async subscribe(channel: string, since?: number): Promise<ServerFrame> {
    const ref = `s${this.nextRef++}`;
    const answer = this.next(
      (f) => (f.type === "snapshot" && f.channel === channel) || (f.type === "error" && f.ref === ref),
    );
    this.send({ type: "subscribe", channel, ref, ...(since === undefined ? {} : { since }) });
    return answer;
  }

  onBinary(numericId: number, fn: (bytes: Uint8Array) => void): void {
    this.binary.set(numericId, fn);
  }

  async openTerminal(cellId: string, cols = 80, rows = 24): Promise<string> {
    const f = await this.request({ type: "term.open", cellId, cols, rows });
    if (f.type !== "term.opened") throw new Error(`term.open failed: ${JSON.stringify(f)}`);
    return f.termId;
  }

  /** Attaches a headless xterm to a terminal, acking output as the real client does. */
  async attach(termId: string, opts: { ack?: boolean } = {}): Promise<TermView> {
    const view = new TermView(this, termId, opts.ack ?? true);
    await view.attach();
    return view;
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A terminal as a test sees it: its screen in a headless xterm, and the bytes received. */
export class TermView {
  readonly term: InstanceType<typeof xtermHeadless.Terminal>;
  received = 0;
  resyncs = 0;
  snapshot: TermSnapshot | undefined;
  private unacked = 0;
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sock: TestSocket,
    readonly termId: string,
    private readonly ack: boolean,
  ) {
    this.term = new xtermHeadless.Terminal({
      cols: 80,
      rows: 24,
      scrollback: 50_000,
      allowProposedApi: true,
    });
  }

  async attach(): Promise<void> {
    const snap = await this.sock.subscribe(`term:${this.termId}`);
    if (snap.type !== "snapshot") throw new Error(`subscribe failed: ${JSON.stringify(snap)}`);
    this.snapshot = snap.state as TermSnapshot;
    this.term.resize(this.snapshot.cols, this.snapshot.rows);
    await new Promise<void>((r) => this.term.write(this.snapshot!.screen, r));
    this.sock.snapshots.set(`term:${this.termId}`, (state) => {
      this.resyncs++;
      this.unacked = 0;
      this.term.reset();
      this.term.write((state as TermSnapshot).screen);
    });
    this.sock.onBinary(this.snapshot.numericId, (bytes) => {
      this.received += bytes.length;
      this.term.write(bytes, () => this.written(bytes.length));
    });
  }

  /** Acks as the browser client does: in units of TERM_ACK_MAX_BYTES, and the rest once output pauses. */
  private written(n: number): void {
    if (!this.ack) return;
    this.unacked += n;
    clearTimeout(this.ackTimer);
    if (this.unacked >= TERM_ACK_MAX_BYTES) this.flushAck();
    else this.ackTimer = setTimeout(() => this.flushAck(), 10);
  }

  private flushAck(): void {
    if (this.unacked === 0) return;
    this.sock.send({ type: "term.ack", termId: this.termId, bytes: this.unacked });
    this.unacked = 0;
  }

  input(data: string): void {
    this.sock.send({ type: "term.input", termId: this.termId, data });
  }

  /** All lines, scrollback and screen, trailing spaces trimmed, wrapped rows joined. */
  text(): string {
    const b = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < b.length; i++) {
      const line = b.getLine(i)!;
      if (line.isWrapped && out.length > 0) out[out.length - 1] += line.translateToString(true);
      else out.push(line.translateToString(true));
    }
    return out.join("\n");
  }

  async waitFor(pattern: RegExp | string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise<void>((r) => this.term.write("", r));
      const t = this.text();
      if (typeof pattern === "string" ? t.includes(pattern) : pattern.test(t)) return;
      if (Date.now() > deadline)
        throw new Error(`terminal never showed ${pattern}; it shows:\n${t.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
