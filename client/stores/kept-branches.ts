import type { ReactiveController, ReactiveControllerHost } from "lit";
import { type KeptBranch, KeptBranchSchema } from "../../shared/diffs.ts";
import { api } from "../api.ts";

/**
 * A workspace's kept (abandoned) branches for the sidebar. Fetched over HTTP when the workspace is shown and
 * again whenever its cell list changes: a branch is kept exactly when one of its cells goes away.
 */
export class KeptBranchesController implements ReactiveController {
  branches: KeptBranch[] = [];
  error: string | undefined;
  private key = "";
  private request = 0;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.key = "";
  }

  /** Refetches when the workspace or the set of its cells differs from the last fetch. */
  follow(workspaceId: string, cellIds: string[]): void {
    const key = `${workspaceId}:${cellIds.join(",")}`;
    if (key === this.key) return;
    this.key = key;
    void this.load(workspaceId);
  }

  async drop(workspaceId: string, id: number): Promise<void> {
    try {
      await api("DELETE", `/api/workspaces/${encodeURIComponent(workspaceId)}/kept-branches/${id}`);
      this.error = undefined;
    } catch (e) {
      this.error = (e as Error).message;
    }
    await this.load(workspaceId);
  }

  private async load(workspaceId: string): Promise<void> {
    const req = ++this.request;
    try {
      const list = await api(
        "GET",
        `/api/workspaces/${encodeURIComponent(workspaceId)}/kept-branches`,
        undefined,
        KeptBranchSchema.array(),
      );
      if (req !== this.request) return;
      this.branches = list;
    } catch (e) {
      if (req !== this.request) return;
      this.error = (e as Error).message;
    }
    this.host.requestUpdate();
  }
}
