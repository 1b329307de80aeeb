// Writes schema/hive.config.schema.json from the zod schema, so editors complete and check hive.config.json.
// A test fails when the committed file is stale: run `npx tsx scripts/gen-schema.ts` after changing the schema.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configJsonSchema } from "../shared/config-json-schema.ts";

const out = join(import.meta.dirname, "..", "schema", "hive.config.schema.json");
writeFileSync(out, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
