/**
 * Takes the README's screenshots of a cell at work (docs/screenshots/agent-*.png): a real Hive with a real
 * `opencode serve` answered by the scripted model server, in headless Chromium: `npx tsx scripts/screenshots-agent.ts`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { startAgentWorld } from "../tests/agents/harness.ts";
import { launchBrowser, signedInPage, startUrlOf, useTempShellHome } from "../tests/browser/browser.ts";
import { typeInTerminal } from "../tests/browser/ui.ts";

const OUT = join(import.meta.dirname, "..", "docs", "screenshots");
mkdirSync(OUT, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: join(OUT, `${name}.png`) });

const CHECKOUT = `export function checkout(cart) {
  const total = cart.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return { total, currency: cart.currency };
}
`;

const restoreHome = useTempShellHome();
const world = await startAgentWorld({
  files: { "src/checkout.js": CHECKOUT },
  config: {
    templates: [
      {
        id: "web",
        label: "Web app",
        services: { web: { run: "python3 -m http.server $PORT", readyPort: true } },
      },
    ],
  },
});
const browser = await launchBrowser();

try {
  const created = await world.createCell({ name: "checkout-discounts", templateId: "web" });
  const cell = await world.waitForSession(created.id);
  const file = join(cell.worktreePath!, "src", "checkout.js");
  world.model.script(
    { text: ["Let me see what runs in this cell first."], toolCalls: [{ name: "hive_services", args: {} }] },
    {
      text: ["The dev server is up. Adding the **discount** to `checkout()`:"],
      toolCalls: [
        {
          name: "write",
          args: {
            filePath: file,
            content: CHECKOUT.replace(
              "  return { total, currency: cart.currency };",
              "  const discount = cart.coupon ? total * cart.coupon.percent / 100 : 0;\n  return { total: total - discount, discount, currency: cart.currency };",
            ),
          },
        },
      ],
    },
    { text: ["Done: `checkout()` now applies the coupon and reports the `discount`."] },
  );

  const page = await signedInPage(browser, startUrlOf(world.hive), {
    width: 1600,
    height: 900,
  });
  await page.goto(`${world.hive.url}/cells/${cell.id}`);
  const chat = page.locator("hive-agent-chat");
  await chat.locator("[data-status='idle']").waitFor({ timeout: 60_000 });
  await chat.getByLabel("Message to the agent").fill("Apply the cart's coupon in checkout()");
  await chat.getByLabel("Message to the agent").press("Enter");
  await chat.locator(".text", { hasText: "now applies the coupon" }).waitFor({ timeout: 120_000 });
  await chat.locator("[data-status='idle']").waitFor({ timeout: 60_000 });

  const modified = page.locator("hive-diff-review .editor.modified");
  await modified.locator(".view-line", { hasText: "const discount" }).waitFor({ timeout: 60_000 });
  await modified.locator(".margin-view-overlays .line-numbers", { hasText: /^3$/ }).click();
  const form = modified.locator("hive-comment-form");
  await form.getByLabel("Comment on line 3").fill("Round the discount to cents.");
  await form.locator("button", { hasText: /^\s*Comment\s*$/ }).click();
  await modified.locator("hive-review-comment", { hasText: "Round the discount" }).waitFor();
  await page.locator("hive-cell-view").getByRole("button", { name: "Open a terminal" }).click();
  await page.locator("hive-terminal-pane[active]").waitFor();
  await typeInTerminal(
    page,
    "git status --short && git diff --stat && curl -s -o /dev/null -w 'web: %{http_code}\\n' $HIVE_URL_WEB",
  );
  await page.waitForTimeout(1200);
  await shot(page, "agent-cell");

  world.model.script(
    { toolCalls: [{ name: "bash", args: { command: "npm test", description: "Run the tests" } }] },
    { text: ["Tests pass."] },
  );
  await chat.getByLabel("Message to the agent").fill("Run the tests");
  await chat.getByLabel("Message to the agent").press("Enter");
  const badge = page.locator("hive-waiting-inbox").getByRole("button", { name: /Waiting for you: 1/ });
  await badge.waitFor({ timeout: 60_000 });
  await badge.click();
  await page.locator("hive-waiting-inbox [role='listitem']").waitFor();
  await page.waitForTimeout(500);
  await shot(page, "agent-inbox");
  await page.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
  await world.close();
  restoreHome();
}
