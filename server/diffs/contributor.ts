import type { CellContributor } from "../cells/plan.ts";
import type { FilesChannel } from "../watch/files-channel.ts";
import type { DiffService } from "./diffs.ts";

/** The diffs room's part in a cell's teardown: stop its file watcher, and on delete drop its review ref. */
export function diffsContributor(diffs: DiffService, files: FilesChannel): CellContributor {
  return {
    teardownSteps: (cell, workflow) => [
      { name: "stop_file_watch", label: "Stop watching files", run: () => files.drop(cell.id) },
      ...(workflow === "delete"
        ? [{ name: "drop_review_ref", label: "Drop the review point", run: () => diffs.forget(cell) }]
        : []),
    ],
  };
}
