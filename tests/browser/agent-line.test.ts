import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TimingEvent } from "../../shared/records.ts";
import { type AgentWorld, startAgentWorld } from "../agents/harness.ts";
import { launchBrowser, signedInPage, startUrlOf } from "./browser.ts";
import { cellLink, createCellInUi } from "./ui.ts";

/** With a real OpenCode behind it, the agent warms up on its own checklist line and never holds the cell back. */
describe("the agent's line in the checklist", () => {
  let world: AgentWorld;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    world = await startAgentWorld({
      // Setup long enough for a loaded machine's browser to draw the checklist before the cell is ready.
      config: { templates: [{ id: "basic", label: "Basic", setup: ["sleep 2"] }] },
    });
    browser = await launchBrowser();
    page = await signedInPage(browser, startUrlOf(world.hive));
  });

  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("shows the agent session as a non-gating step and opens the cell without waiting for it", async () => {
    await createCellInUi(page, "Basic", "agent cell");
    const line = page.locator("hive-provisioning-checklist li[data-step='ensure_agent_session']");
    await line.waitFor();
    expect(await line.locator(".nongating").textContent()).toContain("does not hold back ready");
    await page.locator("hive-cell-view").waitFor({ timeout: 60_000 });
    await cellLink(page, "agent cell").locator("[data-status='ready']").waitFor();

    const cellId = new URL(page.url()).pathname.split("/").pop()!;
    await world.waitForSession(cellId);
    // The line stays in the checklist's record after ready, and the agent step still ends well.
    const timings = (await world.hive.api<TimingEvent[]>("GET", `/api/cells/${cellId}/timings`)).body;
    expect(timings.find((t) => t.step === "ensure_agent_session")?.outcome).toBe("ok");
  });
});
