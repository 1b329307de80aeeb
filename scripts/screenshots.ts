/**
 * Takes the README's screenshots of each main screen (docs/screenshots/*.png) from a real Hive on
 * temp repositories, in headless Chromium: `npx tsx scripts/screenshots.ts`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { launchBrowser, signedInPage, startUrlOf, useTempShellHome } from "../tests/browser/browser.ts";
import { cellLink, createCellInUi, typeInTerminal } from "../tests/browser/ui.ts";
import { makeRepo } from "../tests/helpers/repo.ts";
import { startHive } from "../tests/helpers/server.ts";

const OUT = join(import.meta.dirname, "..", "docs", "screenshots");
mkdirSync(OUT, { recursive: true });

const repo = makeRepo({ "README.md": "# shop\n", "package.json": '{ "name": "shop" }\n' });
repo.writeConfig({
  templates: [
    {
      id: "web",
      label: "Web app",
      description: "Installs dependencies and starts the dev server.",
      setup: ["echo installing dependencies && sleep 0.5 && echo done"],
      services: { web: { run: "python3 -m http.server $PORT", port: true, readyPort: true } },
    },
    { id: "docs", label: "Docs only", description: "A worktree for writing documentation.", setup: [] },
    {
      id: "slow",
      label: "Full build",
      description: "Builds everything before the cell opens.",
      setup: [
        "echo step 1 of 3: fetching && sleep 1",
        "echo step 2 of 3: compiling && sleep 60",
        "echo done",
      ],
    },
    {
      id: "broken",
      label: "Migrations",
      description: "Runs database migrations.",
      setup: ["echo 'migrate: relation \"users\" already exists' >&2; exit 1"],
    },
  ],
});
repo.commit("config");
const broken = makeRepo();
broken.writeConfig('{\n  "templates": [\n    { "id": "x", "label": "X", "setup": "npm ci" }\n  ]\n}\n');
broken.commit("broken config");

const restoreHome = useTempShellHome();
const hive = await startHive(repo.path);
await hive.api("POST", "/api/workspaces", { path: broken.path });
const browser = await launchBrowser();
const shot = (page: Page, name: string) => page.screenshot({ path: join(OUT, `${name}.png`) });

try {
  const anon = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await anon.goto(hive.url);
  await anon.getByRole("heading", { name: "Sign in to Hive" }).waitFor();
  await shot(anon, "sign-in");
  await anon.close();

  const page = await signedInPage(browser, startUrlOf(hive));
  await page.locator("hive-cell-list").getByRole("button", { name: "+ Cell" }).first().waitFor();
  await page.locator("hive-cell-list").getByRole("button", { name: "+ Cell" }).first().click();
  await page.locator("hive-cell-create label.tpl").first().waitFor();
  await page.locator("hive-cell-create").getByLabel("Name").fill("checkout-redesign");
  await page
    .locator("hive-cell-create textarea")
    .fill("Redesign the checkout page: one column, address autocomplete.");
  await shot(page, "create-cell");

  await page.locator("hive-cell-list").getByRole("button", { name: "+ Cell" }).nth(1).click();
  await page.locator("hive-cell-create [data-config-error]").first().waitFor();
  await shot(page, "config-errors");

  await createCellInUi(page, "Full build", "nightly-build");
  await page
    .locator("hive-provisioning-checklist li[data-step='run_setup:1'][data-state='running']")
    .waitFor();
  await page.waitForTimeout(1500);
  await shot(page, "checklist-running");

  await createCellInUi(page, "Migrations", "fix-migrations");
  await page.locator("hive-provisioning-checklist .failure").waitFor({ timeout: 30_000 });
  await shot(page, "checklist-failed");

  await createCellInUi(page, "Docs only", "api-docs");
  await page.locator("hive-cell-view").waitFor({ timeout: 30_000 });
  await page.locator("hive-cell-view").getByRole("button", { name: "Open a terminal" }).click();
  await page.locator("hive-terminal-pane[active]").waitFor();
  await typeInTerminal(
    page,
    "git log --oneline --decorate; ls --color=always -la; echo see https://example.com/docs",
  );
  await page.keyboard.press("Alt+T");
  await page.waitForTimeout(800);
  await typeInTerminal(page, "printf '\\e[32mtests passed\\e[0m: 42\\n'");
  await page.waitForTimeout(800);
  await shot(page, "cell-view");

  await page.emulateMedia({ colorScheme: "dark" });
  await page.waitForTimeout(500);
  await shot(page, "cell-view-dark");
  await page.emulateMedia({ colorScheme: "light" });

  await page.keyboard.press("Escape");
  await page.locator("hive-cell-list").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("?");
  await page.locator("hive-shortcuts").waitFor();
  await shot(page, "shortcuts");
  await page.keyboard.press("Escape");

  await page.locator("hive-cell-list").getByRole("link", { name: "Timings" }).click();
  await page.locator("hive-timings tbody tr").first().waitFor();
  await shot(page, "timings");

  await page.setViewportSize({ width: 820, height: 1100 });
  await cellLink(page, "api-docs").click();
  await page.locator("hive-terminal-pane[active]").waitFor();
  await page.waitForTimeout(800);
  await shot(page, "tablet");
  await page.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await hive.close();
  restoreHome();
  repo.cleanup();
  broken.cleanup();
}
