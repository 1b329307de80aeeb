import type { CellContributor } from "../cells/plan.ts";
import type { FilesChannel } from "../watch/files-channel.ts";
import type { DiffService } from "./diffs.ts";
import type { BranchKeeper } from "./kept-branches.ts";

/**
 * The diffs room's part in a cell's teardown: stop its file watcher, and on delete commit what was never
 * committed onto the branch, record the branch as abandoned when it will be kept for unmerged work, and
 * (once the worktree is gone) drop its review ref. Registered after every room whose processes write in
 * the worktree, so those have stopped when the uncommitted work is taken.
 */
export function diffsContributor(
  diffs: DiffService,
  files: FilesChannel,
  kept: BranchKeeper,
): CellContributor {
  return {
    teardownSteps: (cell, workflow) => [
      { name: "stop_file_watch", label: "Stop watching files", run: () => files.drop(cell.id) },
      ...(workflow === "delete"
        ? [
            {
              name: "keep_uncommitted_work",
              label: "Keep uncommitted work",
              timeoutMs: 5 * 60_000,
              run: () => kept.keepUncommitted(cell),
            },
            {
              name: "keep_unmerged_branch",
              label: "Keep unmerged work",
              run: () => kept.keepIfUnmerged(cell),
            },
          ]
        : []),
    ],
    forgetSteps: (cell) => [
      { name: "drop_review_ref", label: "Drop the review point", run: () => diffs.forget(cell) },
    ],
  };
}
