import { readFileSync } from "node:fs";
import { findNodeAtLocation, type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import type { z } from "zod";
import { type ConfigIssue, type HiveConfig, HiveConfigSchema } from "../../shared/config.ts";
import { readableIssues } from "../../shared/errors.ts";

export type ConfigParse = { ok: true; config: HiveConfig } | { ok: false; errors: ConfigIssue[] };

/** Parses hive.config.json text (JSONC: comments and trailing commas) and locates every problem by line. */
export function parseConfigText(text: string): ConfigParse {
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
  if (parseErrors.length > 0 || !tree) {
    const errors = parseErrors.map((e) => ({
      path: "(syntax)",
      ...lineAt(text, e.offset),
      message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    }));
    return {
      ok: false,
      errors: errors.length ? errors : [{ path: "(syntax)", message: "the file is empty" }],
    };
  }
  const result = HiveConfigSchema.safeParse(nodeValue(tree), { error: readableIssues });
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    errors: result.error.issues.flatMap(unfoldUnion).map((issue) => locate(issue, tree, text)),
  };
}

/**
 * A value that fits no member of a union gets only "Invalid input" from zod. When one member is of the
 * value's own type (an object whose `run` is a number, say), what is wrong inside it is the answer;
 * otherwise the types that would do are.
 */
function unfoldUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
  const wrongType = (i: z.core.$ZodIssue) => i.code === "invalid_type" && i.path.length === 0;
  const ofItsType = issue.errors.filter((member) => !member.some(wrongType));
  if (ofItsType.length === 1)
    return ofItsType[0]!.flatMap((i) => unfoldUnion({ ...i, path: [...issue.path, ...i.path] }));
  // Several members of its type, each wrong in its own way: zod's answer stands.
  if (ofItsType.length > 1) return [issue];
  const roots = issue.errors.flatMap((member) => member.filter(wrongType));
  const expected = [...new Set(roots.map((i) => (i.code === "invalid_type" ? i.expected : "")))];
  const received = roots[0]?.message.match(/received (\w+)/)?.[1];
  if (expected.length === 0) return [issue];
  return [
    { ...issue, message: `expected ${expected.join(" or ")}${received ? `, received ${received}` : ""}` },
  ];
}

export function readConfigFile(file: string): ConfigParse {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return {
      ok: false,
      errors: [{ path: "(file)", message: `cannot read ${file}: ${(e as Error).message}` }],
    };
  }
  return parseConfigText(text);
}

function locate(issue: z.core.$ZodIssue, tree: Node, text: string): ConfigIssue {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  // The deepest node that exists: a missing key is reported where its object starts.
  let node: Node | undefined;
  for (let n = path.length; n >= 0 && !node; n--) node = findNodeAtLocation(tree, path.slice(0, n));
  // Point at the key of a property rather than its value when the value is what's wrong.
  const at = node?.parent?.type === "property" ? node.parent.offset : (node?.offset ?? 0);
  return { path: formatPath(path), ...lineAt(text, at), message: issue.message };
}

function formatPath(path: (string | number)[]): string {
  if (path.length === 0) return "(root)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function lineAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** jsonc-parser's getNodeValue keeps duplicate keys silently; this is the same walk, kept explicit. */
function nodeValue(node: Node): unknown {
  switch (node.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const prop of node.children ?? []) {
        const [k, v] = prop.children ?? [];
        if (k && v) out[String(k.value)] = nodeValue(v);
      }
      return out;
    }
    case "array":
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}
