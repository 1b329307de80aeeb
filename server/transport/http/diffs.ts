import { Router } from "express";
import { IdParams } from "../../../shared/api.ts";
import {
  CommentParams,
  CommitBody,
  CreateCommentBody,
  DiffQuery,
  FileQuery,
  KeptBranchParams,
  MergeBody,
  UpdateCommentBody,
  ViewedBody,
} from "../../../shared/diffs.ts";
import type { DiffService } from "../../diffs/diffs.ts";
import type { BranchKeeper } from "../../diffs/kept-branches.ts";
import { parse, route } from "./errors.ts";

/** The diffs room over HTTP: each route parses, calls one DiffService or BranchKeeper function, and answers. */
export function diffRoutes(diffs: DiffService, kept: BranchKeeper): Router {
  const r = Router();
  const id = (params: unknown) => parse(IdParams, params, "params").id;

  r.get(
    "/api/cells/:id/diff",
    route((req) => {
      const q = parse(DiffQuery, req.query, "query");
      return diffs.summary(id(req.params), q.compare, q.ref);
    }),
  );
  r.get(
    "/api/cells/:id/diff/file",
    route((req) => diffs.file(id(req.params), parse(FileQuery, req.query, "query"))),
  );
  r.post(
    "/api/cells/:id/diff/reviewed",
    route((req) => diffs.markReviewed(id(req.params))),
  );
  r.put(
    "/api/cells/:id/diff/viewed",
    route(async (req, res) => {
      const b = parse(ViewedBody, req.body, "body");
      await diffs.setViewed(id(req.params), b.path, b.viewed);
      res.status(204).end();
    }),
  );
  r.get(
    "/api/cells/:id/comments",
    route((req) => diffs.comments(id(req.params))),
  );
  r.post(
    "/api/cells/:id/comments",
    route(async (req, res) =>
      res
        .status(201)
        .json(await diffs.addComment(id(req.params), parse(CreateCommentBody, req.body, "body"))),
    ),
  );
  r.patch(
    "/api/cells/:id/comments/:commentId",
    route((req) => {
      const p = parse(CommentParams, req.params, "params");
      return diffs.updateComment(p.id, p.commentId, parse(UpdateCommentBody, req.body, "body"));
    }),
  );
  r.delete(
    "/api/cells/:id/comments/:commentId",
    route((req, res) => {
      const p = parse(CommentParams, req.params, "params");
      diffs.deleteComment(p.id, p.commentId);
      res.status(204).end();
    }),
  );
  r.post(
    "/api/cells/:id/review/send",
    route((req) => diffs.sendReview(id(req.params))),
  );
  r.post(
    "/api/cells/:id/commit",
    route((req) => diffs.commit(id(req.params), parse(CommitBody, req.body, "body").message)),
  );
  r.post(
    "/api/cells/:id/merge",
    route((req) => diffs.merge(id(req.params), parse(MergeBody, req.body, "body"))),
  );
  r.post(
    "/api/cells/:id/abandon",
    route((req) => kept.abandon(id(req.params))),
  );
  r.get(
    "/api/workspaces/:id/kept-branches",
    route((req) => kept.list(id(req.params))),
  );
  r.delete(
    "/api/workspaces/:id/kept-branches/:keptId",
    route(async (req, res) => {
      const p = parse(KeptBranchParams, req.params, "params");
      await kept.drop(p.id, p.keptId);
      res.status(204).end();
    }),
  );
  return r;
}
