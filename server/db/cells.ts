import type { AgentChoice } from "../../shared/config.ts";
import type { Cell } from "../../shared/records.ts";
import type { Db } from "./connection.ts";

type Row = {
  id: string;
  name: string;
  description: string | null;
  template_id: string;
  workspace_id: string;
  workspace_path: string;
  worktree_path: string | null;
  opencode_session_id: string | null;
  status: Cell["status"];
  current_step: string | null;
  last_setup_error: string | null;
  branch_name: string | null;
  base_ref: string | null;
  base_commit: string | null;
  agent_choice: string | null;
  agent_status: Cell["agentStatus"];
  agent_status_detail: string | null;
  branch_status: Cell["branchStatus"];
  created_at: string;
  updated_at: string;
};

const toCell = (r: Row): Cell => ({
  id: r.id,
  name: r.name,
  description: r.description,
  templateId: r.template_id,
  workspaceId: r.workspace_id,
  workspacePath: r.workspace_path,
  worktreePath: r.worktree_path,
  branchName: r.branch_name,
  baseRef: r.base_ref,
  baseCommit: r.base_commit,
  status: r.status,
  currentStep: r.current_step,
  lastSetupError: r.last_setup_error,
  opencodeSessionId: r.opencode_session_id,
  agentStatus: r.agent_status,
  agentStatusDetail: r.agent_status_detail,
  branchStatus: r.branch_status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Columns a workflow may change, by their record names. */
export type CellPatch = Partial<
  Pick<
    Cell,
    | "worktreePath"
    | "branchName"
    | "baseCommit"
    | "status"
    | "currentStep"
    | "lastSetupError"
    | "opencodeSessionId"
    | "agentStatus"
    | "agentStatusDetail"
    | "branchStatus"
  >
>;

const COLUMN: Record<keyof CellPatch, string> = {
  worktreePath: "worktree_path",
  branchName: "branch_name",
  baseCommit: "base_commit",
  status: "status",
  currentStep: "current_step",
  lastSetupError: "last_setup_error",
  opencodeSessionId: "opencode_session_id",
  agentStatus: "agent_status",
  agentStatusDetail: "agent_status_detail",
  branchStatus: "branch_status",
};

export class CellRepo {
  /** Read on every status change and by every room: prepared once. */
  private readonly byId;

  constructor(private readonly db: Db) {
    this.byId = db.prepare("SELECT * FROM cells WHERE id = ?");
  }

  list(workspaceId?: string): Cell[] {
    const rows = workspaceId
      ? this.db.prepare("SELECT * FROM cells WHERE workspace_id = ? ORDER BY created_at").all(workspaceId)
      : this.db.prepare("SELECT * FROM cells ORDER BY created_at").all();
    return (rows as Row[]).map(toCell);
  }

  get(id: string): Cell | undefined {
    const row = this.byId.get(id) as Row | undefined;
    return row && toCell(row);
  }

  agentChoice(id: string): AgentChoice | undefined {
    const row = this.db.prepare("SELECT agent_choice FROM cells WHERE id = ?").get(id) as
      | { agent_choice: string | null }
      | undefined;
    return row?.agent_choice ? (JSON.parse(row.agent_choice) as AgentChoice) : undefined;
  }

  insert(c: Cell, agentChoice?: AgentChoice): void {
    this.db
      .prepare(
        `INSERT INTO cells (id, name, description, template_id, workspace_id, workspace_path, worktree_path,
          opencode_session_id, status, current_step, last_setup_error, branch_name, base_ref, base_commit,
          agent_choice, agent_status, agent_status_detail, branch_status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        c.name,
        c.description,
        c.templateId,
        c.workspaceId,
        c.workspacePath,
        c.worktreePath,
        c.opencodeSessionId,
        c.status,
        c.currentStep,
        c.lastSetupError,
        c.branchName,
        c.baseRef,
        c.baseCommit,
        agentChoice ? JSON.stringify(agentChoice) : null,
        c.agentStatus,
        c.agentStatusDetail,
        c.branchStatus,
        c.createdAt,
        c.updatedAt,
      );
  }

  /** Applies a patch and returns the updated cell (undefined when the cell is gone). */
  update(id: string, patch: CellPatch): Cell | undefined {
    const keys = Object.keys(patch) as (keyof CellPatch)[];
    if (keys.length > 0) {
      const sets = keys.map((k) => `${COLUMN[k]} = @${k}`).join(", ");
      this.db
        .prepare(`UPDATE cells SET ${sets}, updated_at = @updatedAt WHERE id = @id`)
        .run({ ...patch, id, updatedAt: new Date().toISOString() });
    }
    return this.get(id);
  }

  delete(id: string): void {
    this.db.prepare("DELETE FROM cells WHERE id = ?").run(id);
  }
}
