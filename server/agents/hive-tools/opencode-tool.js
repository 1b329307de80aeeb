// Hive's tools for the agent, loaded by OpenCode from the config directory Hive gives it
// (OPENCODE_CONFIG_DIR, copied there as tools/hive.js, so each export is offered as `hive_<name>`).
// Plain JavaScript importing only Node's own modules, so nothing has to be installed beside it (Hive tells
// OpenCode the directory's npm dependencies are in place); arguments are plain JSON Schema, not zod, for
// the same reason.
// Which cell calls is told by OpenCode (the directory and session the tool runs for), never by the model.
import { readFileSync } from "node:fs";

/** Hive's address and this workspace's agent token: written by Hive (0600), read per call. */
function hive() {
  try {
    return JSON.parse(readFileSync(new URL("../hive-tools.json", import.meta.url), "utf8"));
  } catch (e) {
    throw new Error(`Hive's tools are not ready: Hive has not written its address yet (${e.message}).`);
  }
}

async function call(name, args, context) {
  const { url, token } = hive();
  const res = await fetch(`${url}/api/agent-tools/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ directory: context.directory, sessionId: context.sessionID, args }),
    signal: context.abort,
  }).catch((e) => {
    throw new Error(`Hive is not reachable at ${url} (${e.message}); is it still running?`);
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `Hive answered ${res.status}.`);
  return body.output;
}

const service = {
  type: "string",
  description: "The service's name, as hive_services lists it.",
};

export const services = {
  description:
    "List this cell's services (the dev servers Hive runs for this worktree) with their status, ports and URLs.",
  args: {},
  execute: (args, context) => call("services", args, context),
};

export const service_log = {
  description: "Read the last lines of one of this cell's service logs (bounded).",
  args: { service },
  execute: (args, context) => call("service_log", args, context),
};

export const setup_log = {
  description: "Read the last lines of this cell's setup log (the template's setup commands, bounded).",
  args: {},
  execute: (args, context) => call("setup_log", args, context),
};

export const restart_service = {
  description: "Restart one of this cell's services; answers with its state afterwards.",
  args: { service },
  execute: (args, context) => call("restart_service", args, context),
};
