import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { CHROMIUM_FLAGS, chromiumPath } from "../tests/browser/browser.ts";

/**
 * A headless Chromium page driven over the DevTools protocol directly, with only the Page and Runtime
 * domains on. Playwright turns on the Network domain for every page it controls, and Chromium then
 * copies every WebSocket frame, base64-encoded, to the driver: a terminal flood through Hive's socket
 * cost the browser and the bench process more CPU in that copy than in the terminal itself. A person's
 * browser has no such observer, so the throughput bench measures without one.
 */
export class CdpPage {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly listeners = new Map<string, ((params: unknown) => void)[]>();
  private endOnExit = (): void => {};

  private constructor(
    private readonly chromium: ChildProcess,
    private readonly profile: string,
    private readonly ws: WebSocket,
  ) {}

  static async launch(viewport = { width: 1280, height: 800 }): Promise<CdpPage> {
    const profile = mkdtempSync(join(tmpdir(), "hive-bench-chromium-"));
    const chromium = spawn(
      chromiumPath(),
      [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        `--window-size=${viewport.width},${viewport.height}`,
        "about:blank",
      ],
      // Its own process group: closing ends its zygote, GPU and renderer processes with it.
      { stdio: "ignore", detached: true },
    );
    // A group of its own also outlives this process: a bench interrupted (Ctrl+C, a timeout) ends it here.
    const end = () => killGroup(chromium, "SIGKILL");
    process.once("exit", end);
    exitOnSignals();
    const port = await waitForPort(profile);
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === "page");
    if (!page) throw new Error("Chromium opened no page");
    const ws = new WebSocket(page.webSocketDebuggerUrl, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const p = new CdpPage(chromium, profile, ws);
    p.endOnExit = end;
    ws.on("message", (raw) => p.onMessage(String(raw)));
    await p.send("Page.enable");
    await p.send("Runtime.enable");
    await p.send("Emulation.setDeviceMetricsOverride", { ...viewport, deviceScaleFactor: 1, mobile: false });
    // tsx names nested functions with an `__name` helper; functions evaluated in the page run without it.
    await p.send("Page.addScriptToEvaluateOnNewDocument", { source: "window.__name = (f) => f" });
    return p;
  }

  /** Navigates and resolves once the page has loaded. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => this.once("Page.loadEventFired", () => resolve()));
    await this.send("Page.navigate", { url });
    await loaded;
  }

  /** Runs `fn(arg)` in the page and answers its (awaited) result, which must be JSON. */
  async evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const result = (await this.send("Runtime.evaluate", {
      expression: `(${fn.toString()})(${JSON.stringify(arg) ?? "undefined"})`,
      awaitPromise: true,
      returnByValue: true,
    })) as {
      result: { value: R };
      exceptionDetails?: { exception?: { description?: string }; text: string };
    };
    if (result.exceptionDetails) {
      const e = result.exceptionDetails;
      throw new Error(`in the page: ${e.exception?.description ?? e.text}`);
    }
    return result.result.value;
  }

  /** Runs a script (such as a library's browser bundle) in the page's global scope. */
  async addScript(source: string): Promise<void> {
    await this.send("Runtime.evaluate", { expression: source });
  }

  /** Clicks the first button with this accessible name (label or text), looking into shadow roots. */
  async click(name: string, timeoutMs = 15_000): Promise<void> {
    const found = await this.evaluate(
      async ({ name, timeoutMs }) => {
        const find = (root: Document | ShadowRoot): HTMLElement | undefined => {
          for (const el of root.querySelectorAll("*")) {
            const label = el.getAttribute("aria-label") ?? el.textContent?.trim();
            if (el instanceof HTMLButtonElement && label === name) return el;
            const inner = el.shadowRoot && find(el.shadowRoot);
            if (inner) return inner;
          }
          return undefined;
        };
        const deadline = performance.now() + timeoutMs;
        for (;;) {
          const button = find(document);
          if (button) {
            button.click();
            return true;
          }
          if (performance.now() > deadline) return false;
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      { name, timeoutMs },
    );
    if (!found) throw new Error(`no button "${name}" within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    this.ws.close();
    const exited = new Promise((r) => this.chromium.once("exit", r));
    killGroup(this.chromium, "SIGTERM");
    const timer = setTimeout(() => killGroup(this.chromium, "SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
    killGroup(this.chromium, "SIGKILL");
    process.removeListener("exit", this.endOnExit);
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5 });
  }

  private send(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  private once(method: string, fn: (params: unknown) => void): void {
    const list = this.listeners.get(method) ?? [];
    const wrapped = (params: unknown) => {
      list.splice(list.indexOf(wrapped), 1);
      fn(params);
    };
    list.push(wrapped);
    this.listeners.set(method, list);
  }

  private onMessage(raw: string): void {
    const msg = JSON.parse(raw) as {
      id?: number;
      result?: unknown;
      error?: { message: string };
      method?: string;
      params?: unknown;
    };
    if (msg.id !== undefined) {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error) w?.reject(new Error(msg.error.message));
      else w?.resolve(msg.result);
      return;
    }
    if (msg.method) for (const fn of [...(this.listeners.get(msg.method) ?? [])]) fn(msg.params);
  }
}

function killGroup(chromium: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-chromium.pid!, signal);
  } catch {}
}

let exitsOnSignals = false;

/** A signal ends the bench through `exit`, whose handlers end its browsers. */
function exitOnSignals(): void {
  if (exitsOnSignals) return;
  exitsOnSignals = true;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    process.once(signal, () => process.exit(code));
}

/** Chromium writes the port it chose into the profile once it listens. */
async function waitForPort(profile: string): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const port = Number(readFileSync(join(profile, "DevToolsActivePort"), "utf8").split("\n")[0]);
      if (port > 0) return port;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("Chromium did not open its DevTools port within 30 s");
}
