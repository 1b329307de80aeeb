import { z } from "zod";

/** Diffs, review comments and merges: records and HTTP bodies shared by server and client. */

export const COMPARE_MODES = ["base", "uncommitted", "since_review", "ref"] as const;
export const CompareModeSchema = z.enum(COMPARE_MODES);
export type CompareMode = z.infer<typeof CompareModeSchema>;

/** Forge-like limits: past these a file collapses to a summary with "load anyway". */
export const DIFF_LIMITS = {
  /** Per file, bytes of either side. */
  fileBytes: 500 * 1024,
  /** Per file, changed lines (about 500 KB of patch at 50 bytes a line). */
  fileLines: 10_000,
  /** Changed lines over the whole diff, counted in list order. */
  totalLines: 20_000,
  /** Estimated patch bytes over the whole diff. */
  totalPatchBytes: 1024 * 1024,
} as const;

export const FILE_STATUSES = ["added", "modified", "deleted", "renamed", "type_changed"] as const;
export const FileStatusSchema = z.enum(FILE_STATUSES);

export const CollapseReasonSchema = z.enum(["binary", "too_large", "total_limit"]);
export type CollapseReason = z.infer<typeof CollapseReasonSchema>;

export const DiffFileSchema = z.object({
  path: z.string(),
  /** For renames: where the file came from. */
  oldPath: z.string().nullable(),
  status: FileStatusSchema,
  /** Rename similarity in percent. */
  similarity: z.number().nullable(),
  oldMode: z.string().nullable(),
  newMode: z.string().nullable(),
  modeChanged: z.boolean(),
  binary: z.boolean(),
  additions: z.number().int(),
  deletions: z.number().int(),
  /** Known for deleted files only (a new side gives the size that matters for the others). */
  oldSize: z.number().int().nullable(),
  newSize: z.number().int().nullable(),
  collapsed: CollapseReasonSchema.nullable(),
  viewed: z.boolean(),
});
export type DiffFile = z.infer<typeof DiffFileSchema>;

export const DiffCommitSchema = z.object({ sha: z.string(), subject: z.string() });

export const DiffSummarySchema = z.object({
  cellId: z.string(),
  compare: CompareModeSchema,
  /** The commit (or reviewed tree) compared with the worktree as it is now. */
  from: z.string(),
  /** Said when the requested comparison was not possible and another was used. */
  note: z.string().nullable(),
  /** Commits on the cell's branch since its base commit (newest first, at most 200). */
  commits: z.array(DiffCommitSchema),
  files: z.array(DiffFileSchema),
  totals: z.object({ files: z.number().int(), additions: z.number().int(), deletions: z.number().int() }),
  /** The branch a merge would go into now, or null when there is none (the main checkout on a detached HEAD). */
  mergesInto: z.string().nullable(),
});
export type DiffSummary = z.infer<typeof DiffSummarySchema>;

export const DiffQuery = z
  .object({
    compare: CompareModeSchema.default("base"),
    ref: z.string().min(1).max(250).optional(),
  })
  .refine((q) => q.compare !== "ref" || q.ref !== undefined, {
    message: "compare=ref needs a ref (a branch, tag or commit)",
    path: ["ref"],
  });
export type DiffQuery = z.infer<typeof DiffQuery>;

export const FileQuery = z.object({
  path: z.string().min(1).max(4096),
  /** For a renamed file: its path on the old side. */
  oldPath: z.string().min(1).max(4096).optional(),
  compare: CompareModeSchema.default("base"),
  ref: z.string().min(1).max(250).optional(),
  /** "load anyway": return content even past the size limit. */
  force: z
    .enum(["0", "1", "true", "false"])
    .default("0")
    .transform((v) => v === "1" || v === "true"),
});

export const FileSideSchema = z.object({
  exists: z.boolean(),
  size: z.number().int(),
  binary: z.boolean(),
  /** null when the side is missing, binary, or too large and not forced. */
  content: z.string().nullable(),
});
export type FileSide = z.infer<typeof FileSideSchema>;

export const FileContentSchema = z.object({
  path: z.string(),
  oldPath: z.string().nullable(),
  old: FileSideSchema,
  new: FileSideSchema,
});
export type FileContent = z.infer<typeof FileContentSchema>;

export const CommentSideSchema = z.enum(["old", "new"]);

export const ReviewCommentSchema = z.object({
  id: z.number().int(),
  cellId: z.string(),
  path: z.string(),
  line: z.number().int(),
  side: CommentSideSchema,
  body: z.string(),
  /** The line's text when the comment was made; used to follow the line as the file changes. */
  anchorText: z.string(),
  resolved: z.boolean(),
  /** Set once the comment went to the agent in a review prompt. */
  sentAt: z.string().nullable(),
  /** The commented line is gone from the file. */
  outdated: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ReviewComment = z.infer<typeof ReviewCommentSchema>;

export const CreateCommentBody = z
  .object({
    path: z.string().min(1).max(4096),
    line: z.number().int().min(1),
    side: CommentSideSchema.default("new"),
    body: z.string().trim().min(1).max(20_000),
  })
  .strict();

export const UpdateCommentBody = z
  .object({ body: z.string().trim().min(1).max(20_000).optional(), resolved: z.boolean().optional() })
  .strict()
  .refine((b) => b.body !== undefined || b.resolved !== undefined, "give body or resolved");

/**
 * A branch Hive kept when its cell was deleted (or abandoned and then deleted) because it holds commits
 * its base lacks: the work is abandoned, not lost. Commands say how to get it back or drop it.
 */
export const KeptBranchSchema = z.object({
  id: z.number().int(),
  workspaceId: z.string(),
  branch: z.string(),
  cellId: z.string(),
  cellName: z.string(),
  status: z.literal("abandoned"),
  head: z.string(),
  ahead: z.number().int(),
  mergeTarget: z.string(),
  keptAt: z.string(),
  restoreCommand: z.string(),
  deleteCommand: z.string(),
});
export type KeptBranch = z.infer<typeof KeptBranchSchema>;

export const KeptBranchParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a valid id"),
  keptId: z.coerce.number().int().min(1),
});

export const CommentParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a valid id"),
  commentId: z.coerce.number().int().positive(),
});

export const ViewedBody = z.object({ path: z.string().min(1).max(4096), viewed: z.boolean() }).strict();

export const CommitBody = z.object({ message: z.string().trim().min(1).max(10_000) }).strict();

export const MERGE_STRATEGIES = ["ff", "merge", "squash"] as const;
export const MergeBody = z
  .object({ strategy: z.enum(MERGE_STRATEGIES), message: z.string().trim().min(1).max(10_000).optional() })
  .strict();
export type MergeBody = z.infer<typeof MergeBody>;

export const MergeResultSchema = z.object({
  strategy: z.enum(MERGE_STRATEGIES),
  baseBranch: z.string(),
  /** The base branch's new head. */
  commit: z.string(),
});
export type MergeResult = z.infer<typeof MergeResultSchema>;

export const SendReviewResultSchema = z.object({ sent: z.number().int(), prompt: z.string() });

/** What the `files:<cellId>` channel carries. */
export const FilesSnapshotSchema = z.object({
  /** How changes are noticed: native events, or polling the git index when the OS watch limit is hit. */
  watch: z.object({ mode: z.enum(["events", "polling"]), reason: z.string().nullable() }),
  summary: DiffSummarySchema.nullable(),
  error: z.string().nullable(),
});
export type FilesSnapshot = z.infer<typeof FilesSnapshotSchema>;

export const FilesEventSchema = z.object({
  type: z.literal("diff.changed"),
  /** Paths the watcher saw change (relative to the worktree), capped. */
  paths: z.array(z.string()),
  /** Entries that are new, differ, or whose file was written; unchanged files are not re-sent. */
  changed: z.array(DiffFileSchema),
  removed: z.array(z.string()),
  totals: DiffSummarySchema.shape.totals,
  commits: z.array(DiffCommitSchema),
});
export type FilesEvent = z.infer<typeof FilesEventSchema>;
