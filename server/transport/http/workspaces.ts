import { Router } from "express";
import { z } from "zod";
import { CreateWorkspaceBody, TimingsQuery } from "../../../shared/api.ts";
import type { TimingRepo } from "../../db/timings.ts";
import type { Workspaces } from "../../workspaces/workspaces.ts";
import { parse, route } from "./errors.ts";

const TemplatesQuery = z.object({ workspaceId: z.string().min(1) });

export function workspaceRoutes(workspaces: Workspaces, timings: TimingRepo): Router {
  const r = Router();
  r.get(
    "/api/workspaces",
    route(() => workspaces.list()),
  );
  r.post(
    "/api/workspaces",
    route(async (req, res) =>
      res.status(201).json(await workspaces.register(parse(CreateWorkspaceBody, req.body, "body").path)),
    ),
  );
  r.delete(
    "/api/workspaces/:id",
    route(async (req, res) => {
      await workspaces.remove(String(req.params.id));
      res.status(204).end();
    }),
  );
  r.get(
    "/api/templates",
    route((req) => {
      const { workspaceId } = parse(TemplatesQuery, req.query, "query");
      return workspaces.config(workspaceId).templates(workspaceId);
    }),
  );
  r.get(
    "/api/timings",
    route((req) => timings.query(parse(TimingsQuery, req.query, "query"))),
  );
  return r;
}
