import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface TempRepo {
  path: string;
  git(...args: string[]): string;
  write(rel: string, content: string): void;
  commit(message?: string): string;
  writeConfig(config: unknown): void;
  cleanup(): void;
}

/** A temp directory for a test, removed by cleanup(). */
export function tempDir(prefix = "hive-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A real git repository with one commit, in a temp directory. */
export function makeRepo(files: Record<string, string> = { "README.md": "# test repo\n" }): TempRepo {
  const path = tempDir("hive-repo-");
  const git = (...args: string[]) =>
    execFileSync("git", args, {
      cwd: path,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Test",
        GIT_AUTHOR_EMAIL: "test@example.com",
        GIT_COMMITTER_NAME: "Test",
        GIT_COMMITTER_EMAIL: "test@example.com",
      },
    });
  const write = (rel: string, content: string) => {
    mkdirSync(dirname(join(path, rel)), { recursive: true });
    writeFileSync(join(path, rel), content);
  };
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Test");
  git("config", "user.email", "test@example.com");
  for (const [rel, content] of Object.entries(files)) write(rel, content);
  const commit = (message = "commit") => {
    git("add", "-A");
    git("commit", "-q", "--allow-empty", "-m", message);
    return git("rev-parse", "HEAD").trim();
  };
  commit("initial");
  return {
    path,
    git,
    write,
    commit,
    writeConfig: (config) =>
      write("hive.config.json", typeof config === "string" ? config : JSON.stringify(config, null, 2)),
    cleanup: () => rmSync(path, { recursive: true, force: true }),
  };
}
