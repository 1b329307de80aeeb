import { Router } from "express";
import { CellListQuery, CreateCellBody, IdParams } from "../../../shared/api.ts";
import type { Cells } from "../../cells/cells.ts";
import { parse, route } from "./errors.ts";

export function cellRoutes(cells: Cells): Router {
  const r = Router();
  r.get(
    "/api/cells",
    route((req) => cells.list(parse(CellListQuery, req.query, "query").workspaceId)),
  );
  r.post(
    "/api/cells",
    route(async (req, res) =>
      res.status(201).json(await cells.create(parse(CreateCellBody, req.body, "body"))),
    ),
  );
  r.get(
    "/api/cells/:id",
    route((req) => cells.get(parse(IdParams, req.params, "params").id)),
  );
  r.get(
    "/api/cells/:id/timings",
    route((req) => cells.timings(parse(IdParams, req.params, "params").id)),
  );
  r.get(
    "/api/cells/:id/checklist",
    route((req) => cells.checklist(parse(IdParams, req.params, "params").id)),
  );
  r.get(
    "/api/cells/:id/setup-log",
    route((req, res) =>
      res.type("text/plain").send(cells.setupLog(parse(IdParams, req.params, "params").id)),
    ),
  );
  r.post(
    "/api/cells/:id/setup/retry",
    route((req, res) => res.status(202).json(cells.retry(parse(IdParams, req.params, "params").id))),
  );
  r.delete(
    "/api/cells/:id",
    route((req, res) => res.status(202).json(cells.delete(parse(IdParams, req.params, "params").id))),
  );
  r.post(
    "/api/cells/:id/archive",
    route((req, res) => res.status(202).json(cells.archive(parse(IdParams, req.params, "params").id))),
  );
  r.post(
    "/api/cells/:id/restore",
    route((req, res) => res.status(202).json(cells.restore(parse(IdParams, req.params, "params").id))),
  );
  return r;
}
