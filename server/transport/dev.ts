import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(fileURLToPath(new URL("../../", import.meta.url)));
/** Vite's own default; the next free one is taken when it is busy. */
const DEV_PORT = 5173;

export interface ClientDevServer {
  /** Where to open the app: the same paths as Hive's (/auth?token=… signs in through the proxy). */
  url: string;
  close(): Promise<void>;
}

/**
 * `npm run dev`: the Vite dev server with hot reload for client/, forwarding /api, /auth and /ws to
 * the running Hive at `hiveUrl` (see vite.config.ts). The browser talks to one origin, so cookies and
 * Hive's Origin check work as in production. Vite is imported only here: `npm start` never loads it.
 */
export async function startClientDevServer(hiveUrl: string, host = "127.0.0.1"): Promise<ClientDevServer> {
  const { createServer } = await import("vite");
  const server = await createServer({
    configFile: join(ROOT, "vite.config.ts"),
    server: {
      host,
      port: DEV_PORT,
      // Same routes as vite.config.ts sketches, aimed at this Hive (not the default port).
      proxy: {
        "/api": { target: hiveUrl },
        "/auth": { target: hiveUrl },
        "/ws": { target: hiveUrl, ws: true },
      },
    },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0]?.replace(/\/$/, "") ?? `http://${host}:${DEV_PORT}`;
  return { url, close: () => server.close() };
}
