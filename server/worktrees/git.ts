import { execFile } from "node:child_process";
import { HiveError } from "../../shared/errors.ts";

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    /** What git printed before failing (merge-tree lists conflicts on stdout and exits 1). */
    readonly stdout = "",
  ) {
    super(
      `git ${args.join(" ")} failed${exitCode === null ? "" : ` (exit ${exitCode})`}: ${stderr.trim() || "no output"}`,
    );
    this.name = "GitError";
  }
}

export interface GitOptions {
  cwd: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Largest stdout accepted; git diff of a huge change can be large. */
  maxBuffer?: number;
  input?: string;
}

/** Runs git with an argument array (never a shell string) and returns its stdout. */
export function git(args: string[], opts: GitOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        env: { ...process.env, ...opts.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err) {
          const code = typeof (err as NodeJS.ErrnoException).code === "number" ? Number(err.code) : null;
          reject(new GitError(args, code, stderr || err.message, stdout));
        } else resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The top level of the repository containing `dir`, or a WORKSPACE_INVALID error saying it is not one. */
export async function repoRoot(dir: string): Promise<string> {
  try {
    return (await git(["rev-parse", "--show-toplevel"], { cwd: dir })).trim();
  } catch {
    throw new HiveError(
      "WORKSPACE_INVALID",
      `${dir} is not inside a git repository (run 'git init' there first).`,
    );
  }
}
