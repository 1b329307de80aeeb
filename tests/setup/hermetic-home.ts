// Every test worker gets an empty HOME: shells the tests start must not read the developer's dotfiles (a login
// shell's ~/.bashrc can stall for a minute on a stale pyenv lock, for one), and nothing a test does lands in
// the real home. Repositories made by tests carry their own git identity.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

const home = mkdtempSync(join(tmpdir(), "hive-test-home-"));
process.env.HOME = home;
afterAll(() => rmSync(home, { recursive: true, force: true }));
