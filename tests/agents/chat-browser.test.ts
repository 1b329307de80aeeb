import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import type { AgentMessage, AgentPart } from "../../shared/agents.ts";
import type { Cell } from "../../shared/records.ts";
import { launchBrowser, signedInPage, startUrlOf } from "../browser/browser.ts";
import { cellLink, terminalText } from "../browser/ui.ts";
import { type AgentWorld, startAgentWorld } from "./harness.ts";

/** The chat pane in a real Chromium against a real Hive, a real OpenCode and the scripted model. */
describe("the agent chat pane", () => {
  let world: AgentWorld;
  let browser: Browser;
  let page: Page;
  let cell: Cell;

  beforeAll(async () => {
    world = await startAgentWorld();
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(world.hive));
    // The page is open before the cell's session exists (OpenCode takes seconds to start): the chat must
    // learn of the session when it comes, or its composer stays disabled until a reload.
    const created = await world.createCell({ name: "Chatty" });
    await page.goto(`${world.hive.url}/cells/${created.id}`);
    await page.locator("hive-agent-chat").getByLabel("Message to the agent").waitFor({ timeout: 60_000 });
    cell = await world.waitForSession(created.id);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("type a message, see the streamed answer and the tool call", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-chat-fail.png" });
    });
    const file = `${cell.worktreePath}/from-browser.txt`;
    world.model.script(
      {
        text: ["I will **write** ", "the file."],
        toolCalls: [{ name: "write", args: { filePath: file, content: "made in the browser test\n" } }],
      },
      { text: ["Wrote ", "`from-browser.txt`."] },
    );
    const chat = page.locator("hive-agent-chat");
    await chat.locator("[data-status='idle']").waitFor({ timeout: 30_000 });
    await chat.getByLabel("Message to the agent").fill("Please write from-browser.txt");
    await chat.getByLabel("Message to the agent").press("Enter");
    await chat.locator(".msg.user", { hasText: "Please write from-browser.txt" }).waitFor();
    // Markdown is rendered: the bold word is a <strong>, the code span a <code>.
    await chat.locator(".text strong", { hasText: "write" }).waitFor({ timeout: 60_000 });
    const tool = chat.locator("details.tool[data-tool='write'][data-state='completed']");
    await tool.waitFor({ timeout: 60_000 });
    expect(await tool.locator("summary a").textContent()).toContain("from-browser.txt");
    await chat.locator(".text code", { hasText: "from-browser.txt" }).waitFor({ timeout: 60_000 });
    await chat.locator("[data-status='idle']").waitFor({ timeout: 30_000 });
  }, 180_000);

  it("a permission request shows in the inbox and in the chat, and is answered from the page", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-inbox-fail.png" });
    });
    world.model.script(
      {
        toolCalls: [
          { name: "bash", args: { command: "echo from-browser > bash.txt", description: "Write bash.txt" } },
        ],
      },
      { text: ["Command ran."] },
    );
    const chat = page.locator("hive-agent-chat");
    await chat.getByLabel("Message to the agent").fill("Run a command");
    await chat.getByLabel("Message to the agent").press("Enter");
    const badge = page.locator("hive-waiting-inbox").getByRole("button", { name: /Waiting for you: 1/ });
    await badge.waitFor({ timeout: 60_000 });
    await chat.locator("[data-status='waiting']").waitFor();
    await badge.click();
    const item = page.locator("hive-waiting-inbox [role='listitem']");
    expect(await item.textContent()).toContain("Chatty");
    expect(await item.textContent()).toContain("echo from-browser > bash.txt");
    await item.getByRole("button", { name: "Allow once" }).click();
    await chat.locator(".text", { hasText: "Command ran." }).waitFor({ timeout: 60_000 });
    await badge.waitFor({ state: "detached" });
  }, 180_000);

  it("a tool call's 'diff of <file>' link opens the closed Changes pane on that file", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-show-diff-fail.png" });
    });
    const panes = page.locator("hive-cell-view .panes");
    await panes.getByRole("button", { name: "Changes" }).click();
    await page.locator("hive-diff-review").waitFor({ state: "detached" });
    expect(await panes.getByRole("button", { name: "Changes" }).getAttribute("aria-pressed")).toBe("false");

    // bash.txt (from the previous test) sorts first, so only the link can have chosen from-browser.txt.
    const link = page
      .locator("hive-agent-chat details.tool[data-tool='write']")
      .first()
      .locator("summary a", { hasText: "diff of from-browser.txt" });
    await link.click();
    const review = page.locator("hive-diff-review");
    await review.waitFor();
    const row = review.locator("hive-diff-file-list [data-path='from-browser.txt']");
    await row.waitFor({ timeout: 30_000 });
    await review.locator("hive-diff-file-list [data-path='bash.txt']").waitFor();
    await expect.poll(() => row.getAttribute("aria-selected")).toBe("true");
    expect(await panes.getByRole("button", { name: "Changes" }).getAttribute("aria-pressed")).toBe("true");

    // With the pane already open, the link selects the file again after another was chosen.
    await review.locator("hive-diff-file-list [data-path='bash.txt']").click();
    await expect.poll(() => row.getAttribute("aria-selected")).toBe("false");
    await link.click();
    await expect.poll(() => row.getAttribute("aria-selected")).toBe("true");
    await page.screenshot({ path: "/tmp/h5-show-diff.png" });
  }, 120_000);

  it("'+ OpenCode TUI' opens OpenCode's own TUI on the cell's session in a terminal tab", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-tui-fail.png" });
    });
    await page.getByRole("button", { name: "+ OpenCode TUI" }).click();
    await page.locator("hive-terminal-tabs [role='tab']", { hasText: "OpenCode TUI" }).waitFor();
    await expect
      .poll(() => terminalText(page), { timeout: 60_000 })
      .toContain("Please write from-browser.txt");
    await page.screenshot({ path: "/tmp/h5-tui.png" });
  }, 120_000);

  it("the cell's figures show its share of the workspace's OpenCode, with its memory as shared", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-agent-share-fail.png" });
    });
    // Sampled every few seconds on the server, polled as often by the page.
    const share = page.locator("hive-services-strip .agent-share");
    await share.waitFor({ timeout: 30_000 });
    expect(await share.textContent()).toMatch(/agent share \d+\.\d% CPU · \d+ MB shared/);
    await page.screenshot({ path: "/tmp/h5-agent-share.png" });
  }, 60_000);

  it("says why the agent stopped on a line of its own when the pane is narrow, not cut to a few letters", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-detail-fail.png" });
    });
    await page.goto(`${world.hive.url}/cells/${cell.id}`);
    const chat = page.locator("hive-agent-chat");
    world.model.script({ refuse: 401 });
    await chat.getByLabel("Message to the agent").fill("hello");
    await chat.getByLabel("Message to the agent").press("Enter");
    await chat.locator("header [data-status='error']").waitFor({ timeout: 60_000 });
    const widths = await chat.locator("header").evaluate((h) => ({
      header: h.clientWidth,
      detail: h.querySelector(".detail")!.clientWidth,
    }));
    expect(widths.header).toBeLessThan(420); // beside the terminals at 1280 px, the chat pane is narrow
    expect(widths.detail).toBeGreaterThan(widths.header * 0.8);
  }, 120_000);

  it("shows a long tool output cut short, and whole once the call is opened", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-lean-fail.png" });
    });
    const lines = Array.from(
      { length: 1500 },
      (_, i) => `row ${String(i).padStart(5, "0")} ${"x".repeat(80)}`,
    );
    lines[400] = "row 00400 \x1b[31mcoloured\x1b[0m, as a log file keeps it";
    writeFileSync(join(cell.worktreePath!, "big.txt"), `${lines.join("\n")}\n`);
    world.model.script(
      { toolCalls: [{ name: "read", args: { filePath: `${cell.worktreePath}/big.txt` } }] },
      { text: ["Read the big file."] },
    );
    const chat = page.locator("hive-agent-chat");
    await chat.getByLabel("Message to the agent").fill("Read big.txt");
    await chat.getByLabel("Message to the agent").press("Enter");
    await chat.locator(".text", { hasText: "Read the big file." }).waitFor({ timeout: 60_000 });

    // The snapshot (what a page gets at each visit) carries a preview of the output, not its 50 KB twice
    // over (OpenCode repeats the output in its metadata).
    const snap = await world.hive.api("GET", `/api/cells/${cell.id}/agent`);
    const read = snap.body.messages
      .flatMap((m: AgentMessage) => m.parts)
      .find((p: AgentPart) => p.tool === "read");
    expect(String(read.state.output).length).toBeLessThanOrEqual(2_000);
    expect(read.state.cut.output).toBeGreaterThan(40_000);
    expect(read.state.metadata).toBeUndefined();
    expect(JSON.stringify(snap.body).length).toBeLessThan(60_000);

    await page.reload();
    const tool = page.locator("hive-agent-chat details.tool[data-tool='read']");
    await tool.waitFor({ timeout: 30_000 });
    expect((await tool.locator("pre").allTextContents()).join("\n")).not.toContain("row 00400");
    await tool.locator("summary").click();
    await tool.locator("pre", { hasText: "row 00400" }).waitFor({ timeout: 30_000 });
    await tool.locator(".cut").waitFor({ state: "detached" });
    // Shown as it would read in a terminal, without its escape sequences.
    expect(await tool.locator("pre").last().textContent()).toContain(
      "row 00400 coloured, as a log file keeps it",
    );
  }, 120_000);

  it("opens a long session on its latest messages, and shows earlier ones when asked", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-earlier-fail.png" });
    });
    // Each tool call is a message of its own: one request makes the session longer than a snapshot.
    writeFileSync(join(cell.worktreePath!, "small.txt"), "small\n");
    const read = { toolCalls: [{ name: "read", args: { filePath: `${cell.worktreePath}/small.txt` } }] };
    world.model.script(...Array.from({ length: 30 }, () => read), { text: ["Read it thirty times."] });
    const chat = page.locator("hive-agent-chat");
    await chat.getByLabel("Message to the agent").fill("Read small.txt thirty times");
    await chat.getByLabel("Message to the agent").press("Enter");
    await chat.locator(".text", { hasText: "Read it thirty times." }).waitFor({ timeout: 120_000 });

    const snap = await world.hive.api("GET", `/api/cells/${cell.id}/agent`);
    expect(snap.body.messages).toHaveLength(30);
    expect(snap.body.earlier).toBe(true);

    await page.reload();
    const first = chat.locator(".msg.user", { hasText: "Please write from-browser.txt" });
    await chat.locator(".text", { hasText: "Read it thirty times." }).waitFor({ timeout: 30_000 });
    expect(await first.count()).toBe(0);
    await chat.getByRole("button", { name: "Show earlier messages" }).click();
    await first.waitFor({ timeout: 30_000 });
    // All of them are there now, once each.
    await chat.getByRole("button", { name: "Show earlier messages" }).waitFor({ state: "detached" });
    expect(await first.count()).toBe(1);
    await chat.locator(".text", { hasText: "Read it thirty times." }).waitFor();

    // Reading further up, a button brings the person back to the end.
    const log = chat.locator(".log");
    const gap = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    await log.evaluate((el) => {
      el.scrollTop = 0;
    });
    await chat.getByRole("button", { name: /Latest/ }).click();
    expect(await gap()).toBeLessThan(40);
    await chat.getByRole("button", { name: /Latest/ }).waitFor({ state: "detached" });
  }, 240_000);

  it("keeps a message being written across leaving the cell and a reload, until it is sent", async () => {
    onTestFailed(async () => {
      await page.screenshot({ path: "/tmp/h5-draft-fail.png" });
    });
    const composer = page.locator("hive-agent-chat").getByLabel("Message to the agent");
    await composer.fill("A long prompt, half written");
    await page.locator("hive-cell-list").getByRole("link", { name: "Timings" }).click();
    await page.locator("hive-timings").waitFor();
    await cellLink(page, "Chatty").click();
    await expect.poll(() => composer.inputValue(), { timeout: 30_000 }).toBe("A long prompt, half written");
    await page.reload();
    await expect.poll(() => composer.inputValue(), { timeout: 30_000 }).toBe("A long prompt, half written");

    world.model.script({ text: ["Got the prompt."] });
    await composer.press("Enter");
    await page.locator("hive-agent-chat .text", { hasText: "Got the prompt." }).waitFor({ timeout: 60_000 });
    expect(await composer.inputValue()).toBe("");
    await page.reload();
    await page.locator("hive-agent-chat .text", { hasText: "Got the prompt." }).waitFor({ timeout: 30_000 });
    expect(await composer.inputValue()).toBe("");
  }, 120_000);

  it("grows the composer with a message of several lines, up to a part of the window", async () => {
    const composer = page.locator("hive-agent-chat").getByLabel("Message to the agent");
    const height = () => composer.evaluate((e) => e.getBoundingClientRect().height);
    await composer.fill("One line");
    const oneLine = await height();
    await composer.fill(Array.from({ length: 8 }, (_, i) => `line ${i + 1} of the brief`).join("\n"));
    const eightLines = await height();
    // Every line of the brief shows without scrolling the box.
    expect(await composer.evaluate((e) => e.scrollHeight - e.clientHeight)).toBeLessThanOrEqual(1);
    expect(eightLines).toBeGreaterThan(oneLine * 2);
    await composer.fill(Array.from({ length: 200 }, (_, i) => `line ${i + 1}`).join("\n"));
    const viewport = page.viewportSize()!.height;
    expect(await height()).toBeLessThanOrEqual(viewport * 0.4 + 1);
    await composer.fill("");
  });
});
