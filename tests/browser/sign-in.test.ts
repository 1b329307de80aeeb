import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo, type TempRepo } from "../helpers/repo.ts";
import { startHive, type TestHive } from "../helpers/server.ts";
import { launchBrowser, signedInPage, startUrlOf } from "./browser.ts";

describe("signing in to the web app", () => {
  let repo: TempRepo;
  let hive: TestHive;
  let browser: Browser;

  beforeAll(async () => {
    repo = makeRepo();
    hive = await startHive(repo.path);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await hive?.close();
    repo?.cleanup();
  });

  it("shows how to sign in to a tab without a session, never a blank page", async () => {
    const page = await browser.newPage();
    await page.goto(`${hive.url}/cells/some-cell`);
    await page.getByRole("heading", { name: "Sign in to Hive" }).waitFor();
    const text = await page.locator("hive-sign-in main").textContent();
    expect(text).toContain("Open the link printed by hive");
    // The link as it looks for this address (a tunnel's or a proxy's), not Hive's default one.
    expect(text).toContain(`${hive.url}/auth?token=…`);
    await page.close();
  });

  it("signs in with the printed link and shows the workspace", async () => {
    const page = await signedInPage(browser, startUrlOf(hive));
    expect(new URL(page.url()).search).toBe("");
    await page.getByRole("navigation", { name: "Cells" }).getByText(repo.path.split("/").pop()!).waitFor();
    await page.context().close();
  });
});
