// Started by Playwright (playwright.config.ts webServer): build the app, then a throwaway backend on E2E_PORT —
// a fresh SQLite file, migrate, seed_demo, daphne with DEBUG=true — and stop it when Playwright stops this process.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, "..");
const backend = resolve(frontend, "..", "backend");
const port = process.env.E2E_PORT ?? "8010";
const python = existsSync(join(backend, ".venv", "bin", "python")) ? join(backend, ".venv", "bin", "python") : "python3";
const daphne = existsSync(join(backend, ".venv", "bin", "daphne")) ? join(backend, ".venv", "bin", "daphne") : "daphne";

if (process.env.E2E_SKIP_BUILD !== "1") {
  execFileSync("npx", ["vite", "build", "--logLevel", "warn"], { cwd: frontend, stdio: "inherit" });
}

const dir = mkdtempSync(join(tmpdir(), "switchboard-e2e-"));
const env = {
  ...process.env,
  DEBUG: "true",
  DATABASE_URL: `sqlite:///${join(dir, "e2e.sqlite3")}`,
  MEDIA_ROOT: join(dir, "media"),
  FRONTEND_DIST: join(frontend, "dist"),
  ALLOWED_HOSTS: "127.0.0.1,localhost",
  CSRF_TRUSTED_ORIGINS: `http://127.0.0.1:${port}`,
};
delete env.REDIS_URL; // the embedded defaults: in-memory channel layer, tasks in-process
const run = (args) => execFileSync(python, ["manage.py", ...args], { cwd: backend, env, stdio: "inherit" });
run(["migrate", "--no-input", "-v", "0"]);
run(["seed_demo"]);

const server = spawn(daphne, ["-b", "127.0.0.1", "-p", port, "config.asgi:application"], { cwd: backend, env, stdio: "inherit" });
const stop = () => {
  server.kill("SIGTERM");
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
server.on("exit", (code) => {
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? 0);
});
