#!/usr/bin/env node
// Hive runs its TypeScript directly through tsx: no build step between a checkout and a running server.
import { register } from "tsx/esm/api";

register();
await import("../server/main.ts");
