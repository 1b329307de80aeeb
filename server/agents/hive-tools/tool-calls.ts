import type { z } from "zod";
import { type HiveTool, HiveToolNoArgs, HiveToolServiceArgs } from "../../../shared/agents.ts";
import { HiveError, readableIssues } from "../../../shared/errors.ts";
import type { ServiceState } from "../../../shared/services.ts";
import { fileTail } from "../../services/log.ts";

/**
 * What each Hive tool does for the calling cell, as text for the model and a one-line summary for the
 * cell's activity. Logs are read from their tail only, so a huge log never floods the model's context.
 */

/** Bytes read from the end of a log, and lines kept of them. */
export const LOG_TAIL_BYTES = 16 * 1024;
export const LOG_TAIL_LINES = 200;

export interface ToolServices {
  list(cellId: string): ServiceState[];
  log(cellId: string, name: string): { file: string };
  restart(cellId: string, name: string): Promise<ServiceState>;
}

export interface ToolTarget {
  cellId: string;
  /** The cell's setup log file. */
  setupLog: string;
  services: ToolServices;
}

export interface ToolResult {
  output: string;
  summary: string;
}

function describe(s: ServiceState): string {
  const ports = Object.entries(s.ports)
    .map(([name, port]) => (name ? `${name}=${port}` : `port ${port}`))
    .join(", ");
  return [`${s.name}: ${s.status}`, ports, s.url, s.detail ? `(${s.detail})` : ""].filter(Boolean).join(" ");
}

/** The end of a log: whole lines only, at most LOG_TAIL_LINES of them. */
export function logTail(file: string): string {
  const text = fileTail(file, LOG_TAIL_BYTES);
  const lines = text.split("\n");
  // A cut in the middle of a line leaves half a line first: drop it.
  if (Buffer.byteLength(text) >= LOG_TAIL_BYTES) lines.shift();
  return lines.slice(-LOG_TAIL_LINES).join("\n").trimEnd();
}

function lineCount(text: string): number {
  return text ? text.split("\n").length : 0;
}

/** A service of this cell by name, or an error listing the ones there are. */
function serviceNamed(target: ToolTarget, name: string): ServiceState {
  const all = target.services.list(target.cellId);
  const found = all.find((s) => s.name === name);
  if (!found) {
    const names = all.map((s) => s.name).join(", ") || "none";
    throw new HiveError("NOT_FOUND", `This cell has no service '${name}'; its services: ${names}.`);
  }
  return found;
}

/** The model's arguments, checked: a wrong one is an error the model reads and can correct. */
function parseArgs<S extends z.ZodType>(schema: S, args: unknown): z.infer<S> {
  const r = schema.safeParse(args, { error: readableIssues });
  if (r.success) return r.data;
  const problems = r.error.issues.map(
    (i) => `${i.path.length ? `'${i.path.join(".")}'` : "arguments"}: ${i.message}`,
  );
  throw new HiveError("BAD_REQUEST", `Bad arguments (${problems.join("; ")}).`);
}

export async function runTool(tool: HiveTool, args: unknown, target: ToolTarget): Promise<ToolResult> {
  switch (tool) {
    case "services": {
      parseArgs(HiveToolNoArgs, args);
      const list = target.services.list(target.cellId);
      if (list.length === 0) return { output: "This cell has no services.", summary: "no services" };
      return {
        output: list.map(describe).join("\n"),
        summary: list.map((s) => `${s.name} ${s.status}${s.port ? ` :${s.port}` : ""}`).join(", "),
      };
    }
    case "service_log": {
      const { service } = parseArgs(HiveToolServiceArgs, args);
      serviceNamed(target, service);
      const text = logTail(target.services.log(target.cellId, service).file);
      return {
        output: text || `The log of ${service} is empty.`,
        summary: `read ${lineCount(text)} line(s) of ${service}'s log`,
      };
    }
    case "setup_log": {
      parseArgs(HiveToolNoArgs, args);
      const text = logTail(target.setupLog);
      return {
        output:
          text || "The setup log is empty (the template has no setup commands, or they printed nothing).",
        summary: `read ${lineCount(text)} line(s) of the setup log`,
      };
    }
    case "restart_service": {
      const { service } = parseArgs(HiveToolServiceArgs, args);
      serviceNamed(target, service);
      const after = await target.services.restart(target.cellId, service);
      return { output: describe(after), summary: `restarted ${service}: ${after.status}` };
    }
  }
}
