import express, { type RequestHandler, Router } from "express";
import { z } from "zod";
import { HiveToolCallBody, HiveToolSchema } from "../../../shared/agents.ts";
import { HiveError } from "../../../shared/errors.ts";
import type { HiveTools } from "../../agents/hive-tools/hive-tools.ts";
import { type Auth, bearerToken } from "../auth.ts";
import { parse, route } from "./errors.ts";

const ToolParams = z.object({ tool: HiveToolSchema });

/**
 * `POST /api/agent-tools/:tool`, called by Hive's tool inside OpenCode, never by a person. Mounted ahead
 * of the sign-in guard because it takes its own credential: the calling workspace's agent token, which
 * opens only these routes (a user's token or cookie opens nothing here). Host is checked as everywhere;
 * a request with an Origin came from a browser page, which never holds an agent token, and is refused.
 */
export function agentToolRoutes(tools: HiveTools, auth: Auth): Router {
  const r = Router();
  const guard: RequestHandler = (req, res, next) => {
    try {
      auth.checkHost(req);
      if (req.headers.origin !== undefined)
        throw new HiveError("FORBIDDEN", "Hive's agent tools are not for browser pages.");
      res.locals.workspaceId = tools.workspaceOf(bearerToken(req) ?? "");
      next();
    } catch (e) {
      next(e);
    }
  };
  r.post(
    "/api/agent-tools/:tool",
    guard,
    express.json({ limit: "64kb" }),
    route(async (req, res) => {
      const { tool } = parse(ToolParams, req.params, "params");
      const call = parse(HiveToolCallBody, req.body, "body");
      const { output } = await tools.call(res.locals.workspaceId as string, tool, call);
      return { output };
    }),
  );
  return r;
}
