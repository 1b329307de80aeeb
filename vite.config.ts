import { defineConfig } from "vitest/config";

export default defineConfig({
  root: "client",
  build: {
    outDir: "../dist/client",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
  },
  server: {
    // Dev mode: `npm run dev` serves the client with hot reload and forwards the API and socket to Hive.
    proxy: {
      "/api": { target: process.env.HIVE_DEV_API ?? "http://127.0.0.1:4860", changeOrigin: false },
      "/auth": { target: process.env.HIVE_DEV_API ?? "http://127.0.0.1:4860", changeOrigin: false },
      "/ws": { target: process.env.HIVE_DEV_API ?? "http://127.0.0.1:4860", ws: true },
    },
  },
  test: {
    root: ".",
    include: ["tests/**/*.test.ts"],
    setupFiles: ["tests/setup/hermetic-home.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: integration tests start real servers, git and shells; more workers only contend.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
