import { readFile, realpath } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Template } from "../../shared/config.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";

/**
 * The first prompt of a cell's agent: the template's prompt fragments (files in the repository, with
 * `{{variables}}` filled in), the cell's description as the brief, and the runtime context (worktree,
 * branch, base commit, ports and URLs). A cell without a description gets no first prompt.
 */

export interface AssembledFirstPrompt {
  prompt: string | null;
  fragments: string[];
}

/** Values `{{name}}` can take: the cell's own, then every variable the cell's processes see. */
export function promptVariables(cell: Cell, env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    cell_id: cell.id,
    cell_name: cell.name,
    description: cell.description ?? "",
    worktree: cell.worktreePath ?? "",
    branch: cell.branchName ?? "",
    base_ref: cell.baseRef ?? "",
    base_commit: cell.baseCommit ?? "",
    template: cell.templateId,
  };
}

/** Replaces `{{ name }}`; names that are not variables are left as written so nothing silently vanishes. */
export function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g,
    (whole, name: string) => vars[name] ?? whole,
  );
}

async function readFragment(repo: string, file: string): Promise<string> {
  const path = join(repo, file);
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new HiveError(
      "TEMPLATE_INVALID",
      `Prompt fragment '${file}' does not exist in ${repo}; add the file or remove it from the template's "prompts".`,
      { file },
    );
  }
  const rel = relative(await realpath(repo), real);
  if (rel.startsWith(`..${sep}`) || rel === "..") {
    throw new HiveError("TEMPLATE_INVALID", `Prompt fragment '${file}' points outside the repository.`, {
      file,
    });
  }
  return readFile(real, "utf8");
}

export async function assemblePrompt(
  cell: Cell,
  template: Template,
  env: Record<string, string>,
  /** Variables worth listing in the context section (ports, URLs), by name. */
  contextEnv: Record<string, string>,
): Promise<AssembledFirstPrompt> {
  const vars = promptVariables(cell, env);
  const fragments: string[] = [];
  for (const file of template.prompts)
    fragments.push(substitute(await readFragment(cell.workspacePath, file), vars));
  if (!cell.description) return { prompt: null, fragments: template.prompts };
  const context = [
    `- Worktree: ${cell.worktreePath ?? "(not created)"}`,
    `- Branch: ${cell.branchName ?? "(none)"}`,
    `- Base commit: ${cell.baseCommit ?? "(none)"}${cell.baseRef ? ` (${cell.baseRef})` : ""}`,
    ...Object.entries(contextEnv).map(([k, v]) => `- ${k}: ${v}`),
  ];
  const sections = [
    ...fragments.map((f) => f.trim()).filter(Boolean),
    `## Your task\n\n${cell.description}`,
    `## Where you work\n\n${context.join("\n")}`,
  ];
  return { prompt: sections.join("\n\n"), fragments: template.prompts };
}
