import { z } from "zod";
import { AgentChoiceSchema } from "./config.ts";
import { displayName } from "./display-name.ts";

/** Request bodies and params of the HTTP API; the server validates with these, the client builds them. */

export const CreateWorkspaceBody = z.object({ path: z.string().min(1) }).strict();

export const CreateCellBody = z
  .object({
    workspaceId: z.string().min(1),
    templateId: z.string().min(1),
    name: displayName(120),
    description: z.string().max(20_000).optional(),
    baseRef: z.string().min(1).max(250).optional(),
    agent: AgentChoiceSchema.optional(),
  })
  .strict();
export type CreateCellBody = z.infer<typeof CreateCellBody>;

export const IdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "not a valid id") });

export const CellListQuery = z.object({ workspaceId: z.string().optional() });

export const TimingsQuery = z.object({
  cellId: z.string().optional(),
  step: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
