import { defineConfig } from "@playwright/test";

// The end-to-end run starts its own backend (e2e/server.mjs: build the app, fresh SQLite, migrate, seed_demo, daphne
// with DEBUG=true on a free port) and drives Debian's Chromium — never a downloaded browser. A second backend on
// E2E_SCALE_PORT, seeded with `seed_bulk` (10,000 conversations, a 20,000-message thread), serves e2e/scale.spec.ts;
// E2E_SCALE=0 leaves it out (and skips that spec) for a quicker run.
process.env.E2E_PORT ??= String(20000 + Math.floor(Math.random() * 20000));
const port = Number(process.env.E2E_PORT);
if (process.env.E2E_SCALE !== "0") process.env.E2E_SCALE_PORT ??= String(port + 1);
else delete process.env.E2E_SCALE_PORT;
export const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    viewport: { width: 1440, height: 900 },
    trace: "off",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "node e2e/server.mjs",
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
    env: { E2E_PORT: String(port), E2E_SCALE_PORT: process.env.E2E_SCALE_PORT ?? "" },
  },
});
