import { Router } from "express";
import { z } from "zod";
import {
  AnswerInboxBody,
  LatestQuery,
  PartParams,
  SendMessageBody,
  SwitchModeBody,
} from "../../../shared/agents.ts";
import { IdParams } from "../../../shared/api.ts";
import type { Agents } from "../../agents/agents.ts";
import { parse, route } from "./errors.ts";

const LogQuery = z.object({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(5_000).default(1_000),
});

/** The agent of each cell and the global inbox: thin adapters onto agents/. */
export function agentRoutes(agents: Agents): Router {
  const r = Router();
  const id = (params: unknown) => parse(IdParams, params, "params").id;
  r.get(
    "/api/cells/:id/agent",
    route((req) => agents.snapshot(id(req.params))),
  );
  r.get(
    "/api/cells/:id/agent/messages",
    route((req) => agents.transcript(id(req.params))),
  );
  r.get(
    "/api/cells/:id/agent/messages/latest",
    route((req) => agents.latest(id(req.params), parse(LatestQuery, req.query, "query").count)),
  );
  r.get(
    "/api/cells/:id/agent/messages/:messageId/parts/:partId",
    route((req) => {
      const q = parse(PartParams, req.params, "params");
      return agents.part(q.id, q.messageId, q.partId);
    }),
  );
  r.post(
    "/api/cells/:id/agent/messages",
    route(async (req, res) => {
      await agents.send(id(req.params), parse(SendMessageBody, req.body, "body").text);
      res.status(202).json({ accepted: true });
    }),
  );
  r.post(
    "/api/cells/:id/agent/abort",
    route(async (req, res) => {
      await agents.abort(id(req.params));
      res.status(202).json({ aborted: true });
    }),
  );
  r.put(
    "/api/cells/:id/agent/mode",
    route((req) => {
      const { mode } = parse(SwitchModeBody, req.body, "body");
      agents.setMode(id(req.params), mode);
      return { mode };
    }),
  );
  r.get(
    "/api/cells/:id/agent/prompt",
    route((req) => agents.prompt(id(req.params))),
  );
  r.get(
    "/api/cells/:id/agent/log",
    route((req) => {
      const q = parse(LogQuery, req.query, "query");
      return agents.log.forCell(id(req.params), q.after, q.limit);
    }),
  );
  r.get(
    "/api/cells/:id/agent/activity",
    route((req) => agents.activity.forCell(id(req.params))),
  );
  r.get(
    "/api/workspaces/:id/agent/providers",
    route((req) => agents.providers(id(req.params))),
  );
  r.get(
    "/api/inbox",
    route(() => ({ items: agents.waiting() })),
  );
  r.post(
    "/api/inbox/:id",
    route(async (req, res) => {
      await agents.answer(id(req.params), parse(AnswerInboxBody, req.body, "body"));
      res.status(202).json({ answered: true });
    }),
  );
  return r;
}
