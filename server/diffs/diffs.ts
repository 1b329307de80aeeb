import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  CompareMode,
  DiffFile,
  DiffSummary,
  FileContent,
  MergeBody,
  MergeResult,
  ReviewComment,
} from "../../shared/diffs.ts";
import { HiveError } from "../../shared/errors.ts";
import type { Cell } from "../../shared/records.ts";
import type { CellRepo } from "../db/cells.ts";
import type { EventBus } from "../events/bus.ts";
import { GitError, git } from "../worktrees/git.ts";
import { currentBranch, dirtyFiles, resolveBase } from "../worktrees/worktrees.ts";
import { relocate, reviewPrompt } from "./comments.ts";
import { fileContent } from "./content.ts";
import { setBranchStatus } from "./kept-branches.ts";
import { commitAll, mergeBranch } from "./merge.ts";
import { checkRelativePath, resolveInWorktree } from "./paths.ts";
import type { ReviewStore } from "./review-store.ts";
import { snapshotTree } from "./snapshot.ts";
import { applyTotalLimits, byPath, commitsSince, diffFiles } from "./summary.ts";

/** What "send review to agent" needs from the agents room. */
export interface PromptSink {
  send(cellId: string, text: string): Promise<unknown>;
}

export interface DiffServiceDeps {
  cells: CellRepo;
  bus: EventBus;
  store: ReviewStore;
  agents: PromptSink;
}

type LiveCell = Cell & { worktreePath: string; branchName: string; baseCommit: string };

/** Past this many changed paths a refresh recomputes the whole diff (one git call beats a huge pathspec). */
const MAX_INCREMENTAL_PATHS = 1000;

/** Ref that keeps the last reviewed tree from garbage collection. */
const reviewRef = (cellId: string) => `refs/hive/reviewed/${cellId}`;

/**
 * The diffs room: what a cell changed, file contents for review, review comments, and finishing the
 * work (commit and merge). Knows cells only through their records; runs git only through git.ts.
 */
export class DiffService {
  constructor(private readonly deps: DiffServiceDeps) {}

  cell(cellId: string): LiveCell {
    const cell = this.deps.cells.get(cellId);
    if (!cell) throw new HiveError("CELL_NOT_FOUND", `No cell with id '${cellId}'.`, { cellId });
    if (!cell.worktreePath || !cell.branchName || !cell.baseCommit || cell.status === "archived") {
      throw new HiveError("CELL_STATE", `Cell '${cell.name}' has no live worktree (status ${cell.status}).`, {
        cellId,
        status: cell.status,
      });
    }
    return cell as LiveCell;
  }

  /** The commit or tree a comparison starts from, and a note when it had to fall back. */
  private async from(
    cell: LiveCell,
    compare: CompareMode,
    ref?: string,
  ): Promise<{ from: string; note: string | null }> {
    switch (compare) {
      case "base":
        return { from: cell.baseCommit, note: null };
      case "uncommitted":
        return { from: (await git(["rev-parse", "HEAD"], { cwd: cell.worktreePath })).trim(), note: null };
      case "since_review": {
        const mark = this.deps.store.reviewMark(cell.id);
        if (mark) return { from: mark.tree, note: null };
        return { from: cell.baseCommit, note: "Not reviewed yet: showing everything since the base commit." };
      }
      case "ref":
        return { from: await resolveBase(cell.worktreePath, ref ?? ""), note: null };
    }
  }

  async summary(cellId: string, compare: CompareMode = "base", ref?: string): Promise<DiffSummary> {
    const cell = this.cell(cellId);
    const { from, note } = await this.from(cell, compare, ref);
    const [files, commits] = await Promise.all([
      diffFiles(cell.worktreePath, from),
      commitsSince(cell.worktreePath, cell.baseCommit),
    ]);
    return this.assemble(cell, { compare, from, note, commits }, files);
  }

  /**
   * The summary after files changed, reusing `prev`: only the `written` paths are diffed again (an
   * edit to one file of a 2,000-file change costs one file, not 2,000). When a file appeared or went
   * away it may pair up as a rename with another added or deleted one, so those join the diff too;
   * past MAX_INCREMENTAL_PATHS the whole diff is recomputed.
   */
  async refresh(prev: DiffSummary, written: string[]): Promise<DiffSummary> {
    const cell = this.cell(prev.cellId);
    const byPathPrev = new Map(prev.files.map((f) => [f.path, f]));
    const paths = new Set(written);
    const structural = await Promise.all(
      written.map(async (p) => {
        const before = byPathPrev.get(p);
        const exists = await lstat(join(cell.worktreePath, p)).then(
          () => true,
          () => false,
        );
        return before?.status !== "modified" || !exists;
      }),
    );
    for (const f of prev.files) {
      if (f.oldPath && paths.has(f.path)) paths.add(f.oldPath); // a modified rename target keeps its source
      if (structural.includes(true) && f.status !== "modified") {
        paths.add(f.path);
        if (f.oldPath) paths.add(f.oldPath);
      }
    }
    const commits = commitsSince(cell.worktreePath, cell.baseCommit);
    if (written.length === 0 || paths.size > MAX_INCREMENTAL_PATHS) {
      const files = await diffFiles(cell.worktreePath, prev.from);
      return this.assemble(cell, { ...prev, commits: await commits }, files);
    }
    const fresh = await diffFiles(cell.worktreePath, prev.from, [...paths]);
    const kept = prev.files.filter((f) => !paths.has(f.path) && !(f.oldPath && paths.has(f.oldPath)));
    return this.assemble(cell, { ...prev, commits: await commits }, [...kept, ...fresh].sort(byPath));
  }

  private async assemble(
    cell: LiveCell,
    head: Pick<DiffSummary, "compare" | "from" | "note" | "commits">,
    files: DiffFile[],
  ): Promise<DiffSummary> {
    const [viewed, mergesInto] = await Promise.all([
      this.viewedNow(cell, files),
      this.baseBranch(cell).catch((e) => {
        if (e instanceof HiveError && e.code === "REF_INVALID") return null;
        throw e;
      }),
    ]);
    let additions = 0;
    let deletions = 0;
    const marked = applyTotalLimits(files).map((f) => {
      additions += f.additions;
      deletions += f.deletions;
      const isViewed = viewed.has(f.path);
      return isViewed === f.viewed ? f : { ...f, viewed: isViewed };
    });
    return {
      cellId: cell.id,
      compare: head.compare,
      from: head.from,
      note: head.note,
      commits: head.commits,
      files: marked,
      totals: { files: marked.length, additions, deletions },
      mergesInto,
    };
  }

  /** Files marked viewed whose content is still what it was when marked (hashing only those). */
  private async viewedNow(cell: LiveCell, files: DiffFile[]): Promise<Set<string>> {
    const marks = this.deps.store.viewed(cell.id);
    const candidates = files.filter((f) => marks.has(f.path));
    const out = new Set<string>();
    // A deleted file stays viewed: its mark holds the content it had (see setViewed).
    for (const f of candidates) if (f.status === "deleted") out.add(f.path);
    const onDisk = candidates.filter((f) => f.status !== "deleted").map((f) => f.path);
    if (onDisk.length === 0) return out;
    const hashes = (
      await git(["hash-object", "--stdin-paths"], { cwd: cell.worktreePath, input: `${onDisk.join("\n")}\n` })
    ).split("\n");
    onDisk.forEach((p, i) => {
      if (hashes[i] === marks.get(p)) out.add(p);
    });
    return out;
  }

  async file(
    cellId: string,
    q: { path: string; oldPath?: string; compare: CompareMode; ref?: string; force: boolean },
  ): Promise<FileContent> {
    const cell = this.cell(cellId);
    const { from } = await this.from(cell, q.compare, q.ref);
    return fileContent(cell.worktreePath, from, q.path, q.oldPath, q.force);
  }

  /** Remembers the worktree as it is now, for "since the last review". */
  async markReviewed(cellId: string): Promise<{ tree: string }> {
    const cell = this.cell(cellId);
    const tree = await snapshotTree(cell.worktreePath);
    await git(["update-ref", reviewRef(cellId), tree], { cwd: cell.worktreePath });
    this.deps.store.setReviewMark(cellId, tree);
    return { tree };
  }

  /** Drops what only this cell used in the shared repository (its review ref). */
  async forget(cell: Cell): Promise<void> {
    await git(["update-ref", "-d", reviewRef(cell.id)], { cwd: cell.workspacePath }).catch(() => undefined);
  }

  /** Marks a file viewed at its current content; a later change to the file clears the mark. */
  async setViewed(cellId: string, path: string, viewed: boolean): Promise<void> {
    const cell = this.cell(cellId);
    const rel = checkRelativePath(path);
    if (!viewed) return this.deps.store.setViewed(cellId, rel, null);
    const abs = await resolveInWorktree(cell.worktreePath, rel);
    const blob = await git(["hash-object", `--path=${rel}`, "--", abs], { cwd: cell.worktreePath }).catch(
      () =>
        // Deleted in the worktree: the file's identity is its old content.
        git(["rev-parse", "--verify", `${cell.baseCommit}:${rel}`], { cwd: cell.worktreePath }),
    );
    this.deps.store.setViewed(cellId, rel, blob.trim());
  }

  private async lines(
    cell: LiveCell,
    path: string,
    side: ReviewComment["side"],
  ): Promise<string[] | undefined> {
    try {
      const text =
        side === "new"
          ? await readFile(await resolveInWorktree(cell.worktreePath, path), "utf8")
          : await git(["cat-file", "blob", `${cell.baseCommit}:${path}`], { cwd: cell.worktreePath });
      return text.split("\n");
    } catch (e) {
      if (e instanceof HiveError) throw e;
      return undefined;
    }
  }

  /** Comments of a cell, each moved to where its line is now (or marked outdated). */
  async comments(cellId: string): Promise<ReviewComment[]> {
    const stored = this.deps.cells.get(cellId);
    // An archived (or abandoned) cell keeps its comments readable, where they were: its files do not change.
    if (stored?.status === "archived") return this.deps.store.comments(cellId);
    const cell = this.cell(cellId);
    const comments = this.deps.store.comments(cellId);
    const files = new Map<string, string[] | undefined>();
    const out: ReviewComment[] = [];
    for (const c of comments) {
      if (c.side === "old") {
        out.push(c);
        continue;
      }
      if (!files.has(c.path)) files.set(c.path, await this.lines(cell, c.path, "new").catch(() => undefined));
      const at = relocate(c, files.get(c.path) ?? []);
      if (at.line !== c.line || at.outdated !== c.outdated) {
        out.push(this.deps.store.updateComment(cellId, c.id, at) ?? c);
      } else out.push(c);
    }
    return out;
  }

  async addComment(
    cellId: string,
    c: { path: string; line: number; side: ReviewComment["side"]; body: string },
  ): Promise<ReviewComment> {
    const cell = this.cell(cellId);
    const path = checkRelativePath(c.path);
    const lines = await this.lines(cell, path, c.side);
    if (!lines) throw new HiveError("NOT_FOUND", `'${path}' does not exist on the ${c.side} side.`, { path });
    const anchor = lines[c.line - 1];
    if (anchor === undefined) {
      throw new HiveError("BAD_REQUEST", `'${path}' has ${lines.length} lines; there is no line ${c.line}.`, {
        path,
        line: c.line,
      });
    }
    return this.deps.store.addComment({
      cellId,
      path,
      line: c.line,
      side: c.side,
      body: c.body,
      anchorText: anchor,
    });
  }

  updateComment(cellId: string, id: number, patch: { body?: string; resolved?: boolean }): ReviewComment {
    this.cell(cellId);
    const updated = this.deps.store.updateComment(cellId, id, patch);
    if (!updated) throw new HiveError("NOT_FOUND", `Cell '${cellId}' has no comment ${id}.`, { cellId, id });
    return updated;
  }

  deleteComment(cellId: string, id: number): void {
    this.cell(cellId);
    if (!this.deps.store.deleteComment(cellId, id)) {
      throw new HiveError("NOT_FOUND", `Cell '${cellId}' has no comment ${id}.`, { cellId, id });
    }
  }

  /** Sends every open (unresolved, unsent) comment to the cell's agent as one prompt, then marks them sent. */
  async sendReview(cellId: string): Promise<{ sent: number; prompt: string }> {
    const cell = this.cell(cellId);
    const open = (await this.comments(cellId)).filter((c) => !c.resolved && c.sentAt === null);
    if (open.length === 0) throw new HiveError("CELL_STATE", "There are no open, unsent comments to send.");
    const fileLines = new Map<string, string[]>();
    for (const c of open) {
      const lines =
        c.side === "new" && !fileLines.has(c.path) ? await this.lines(cell, c.path, "new") : undefined;
      if (lines) fileLines.set(c.path, lines);
    }
    const prompt = reviewPrompt(open, fileLines);
    await this.deps.agents.send(cellId, prompt);
    const sentAt = new Date().toISOString();
    for (const c of open) this.deps.store.updateComment(cellId, c.id, { sentAt });
    return { sent: open.length, prompt };
  }

  async commit(cellId: string, message: string): Promise<{ commit: string }> {
    const cell = this.cell(cellId);
    const commit = await commitAll(cell.worktreePath, message);
    setBranchStatus(this.deps.cells, this.deps.bus, cellId, "pending_review");
    return { commit };
  }

  /** The branch the cell merges into: the branch it forked from, else the main checkout's branch. */
  private async baseBranch(cell: LiveCell): Promise<string> {
    if (cell.baseRef) {
      const name = cell.baseRef.replace(/^refs\/heads\//, "");
      try {
        await git(["rev-parse", "--verify", "--quiet", `refs/heads/${name}`], { cwd: cell.workspacePath });
        return name;
      } catch (e) {
        if (!(e instanceof GitError)) throw e;
      }
    }
    const branch = await currentBranch(cell.workspacePath);
    if (!branch) {
      throw new HiveError(
        "REF_INVALID",
        `Cannot tell which branch to merge into: ${cell.workspacePath} is on a detached HEAD.`,
      );
    }
    return branch;
  }

  async merge(cellId: string, body: MergeBody): Promise<MergeResult> {
    const cell = this.cell(cellId);
    const uncommitted = await dirtyFiles(cell.worktreePath, true);
    if (uncommitted.length > 0) {
      throw new HiveError(
        "CONFLICT",
        `The cell has ${uncommitted.length} uncommitted change(s); commit them first so the merge includes them.`,
        { files: uncommitted.slice(0, 100) },
      );
    }
    const baseBranch = await this.baseBranch(cell);
    const outcome = await mergeBranch({
      repo: cell.workspacePath,
      branch: cell.branchName,
      baseBranch,
      strategy: body.strategy,
      message: body.message,
      title: cell.name,
    });
    if (!outcome.ok) {
      setBranchStatus(this.deps.cells, this.deps.bus, cellId, "conflict");
      throw new HiveError(
        "CONFLICT",
        `Merging ${cell.branchName} into ${baseBranch} conflicts in ${outcome.conflicts.length} file(s): ${outcome.conflicts.slice(0, 5).join(", ")}. Nothing was changed.`,
        { conflicts: outcome.conflicts },
      );
    }
    setBranchStatus(this.deps.cells, this.deps.bus, cellId, "merged");
    return outcome.result;
  }
}
