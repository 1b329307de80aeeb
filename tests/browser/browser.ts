import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { clientBuildIsStale, ensureClientBuilt } from "../../server/transport/static.ts";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";

/** The flags every headless run uses: no GPU, no background traffic, no first-run prompts. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Chromium, found (or installed) by the same script the test command runs. */
export function chromiumPath(): string {
  const script = join(import.meta.dirname, "..", "..", "scripts", "find-chromium.sh");
  return execFileSync("bash", [script], { encoding: "utf8" }).trim();
}

/**
 * Shells started from here on get a fresh, empty HOME: the tests must not depend on the developer's
 * dotfiles (a `pyenv init` in ~/.bashrc was seen to stall every new login shell for a minute on a stale
 * lock). Call before starting Hive; the returned function puts HOME back and removes the directory.
 */
export function useTempShellHome(): () => void {
  const previous = process.env.HOME;
  const home = mkdtempSync(join(tmpdir(), "hive-shell-home-"));
  process.env.HOME = home;
  return () => {
    process.env.HOME = previous;
    rmSync(home, { recursive: true, force: true });
  };
}

/** Builds the web app when the build is missing or older than its sources. */
export async function buildClientIfStale(): Promise<void> {
  if (clientBuildIsStale()) await ensureClientBuilt(() => {});
}

/** A fresh headless Chromium (its own temp profile) with the web app built. */
export async function launchBrowser(): Promise<Browser> {
  await buildClientIfStale();
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS, headless: true });
}

/** A page signed in the way a person is: by opening the link `hive` prints. */
export async function signedInPage(
  browser: Browser,
  startUrl: string,
  viewport = { width: 1280, height: 800 },
  /** Runs on the new context before the page first loads (to route its requests, say). */
  prepare?: (context: BrowserContext) => Promise<unknown>,
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  await prepare?.(context);
  // tsx names nested functions with an `__name` helper; functions handed to page.evaluate run without it.
  await context.addInitScript("window.__name = (f) => f");
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error("page error:", err));
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") console.error(`page ${m.type()}: ${m.text()}`);
  });
  page.on("dialog", (d) => void d.accept());
  await page.goto(startUrl);
  return page;
}

/** Hive's sign-in link for a test server (the link `hive` prints). */
export function startUrlOf(hive: TestHive): string {
  return hive.hive.auth.startUrl(Number(new URL(hive.url).port));
}

export interface BrowserApp {
  repo: TempRepo;
  hive: TestHive;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/**
 * The set-up most browser tests share: a temp repository (with `config` committed as hive.config.json),
 * a real Hive on it, a fresh Chromium and a page signed in to it.
 */
export async function openApp(
  opts: {
    files?: Record<string, string>;
    config?: unknown;
    viewport?: { width: number; height: number };
  } = {},
): Promise<BrowserApp> {
  const repo = makeRepo(opts.files);
  if (opts.config) {
    repo.writeConfig(opts.config);
    repo.commit("config");
  }
  const hive = await startHive(repo.path);
  const browser = await launchBrowser();
  const page = await signedInPage(browser, startUrlOf(hive), opts.viewport);
  return {
    repo,
    hive,
    browser,
    page,
    close: async () => {
      await browser.close();
      await hive.close();
      repo.cleanup();
    },
  };
}
