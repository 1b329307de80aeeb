import { z } from "zod";
import { HiveConfigSchema } from "./config.ts";

/** The JSON Schema of hive.config.json as a person writes it (defaults optional, comments allowed). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(HiveConfigSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://hive.dev/schema/hive.config.schema.json",
    title: "Hive workspace configuration (hive.config.json)",
    allowComments: true,
    allowTrailingCommas: true,
  };
}
