import type { Cell } from "../../shared/records.ts";

/** A complete cell row for tests that drive a room directly against the database, without provisioning. */
export function cellRecord(fields: Pick<Cell, "id" | "workspaceId" | "workspacePath"> & Partial<Cell>): Cell {
  const now = new Date().toISOString();
  return {
    name: fields.id,
    description: null,
    templateId: "basic",
    worktreePath: null,
    branchName: null,
    baseRef: null,
    baseCommit: null,
    status: "ready",
    currentStep: null,
    lastSetupError: null,
    opencodeSessionId: null,
    agentStatus: "none",
    agentStatusDetail: null,
    branchStatus: "active",
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}
