// Started by Playwright (playwright.config.ts webServer): build the app, then a throwaway backend on E2E_PORT —
// a fresh SQLite file, migrate, seed_demo, daphne with DEBUG=true — and stop it when
// Playwright stops this process.
//
// With E2E_SCALE_PORT set (the config sets it unless E2E_SCALE=0) a second backend serves the scale spec
// (e2e/scale.spec.ts) on that port: a copy of the first one's database, just seeded, plus `seed_bulk`
// (E2E_SCALE_CONVERSATIONS conversations, default 10,000, and a thread of E2E_SCALE_THREAD messages, default 20,000).
// It is seeded while the app builds, and the first backend only starts listening when both are ready, so Playwright
// waits for one URL and the journeys in inbox.spec.ts keep their small demo database.
//
// E2E_BACKEND_DIR runs the backend from another checkout (default ../backend).
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, "..");
const backend = resolve(process.env.E2E_BACKEND_DIR ?? resolve(frontend, "..", "backend"));
const venv = resolve(frontend, "..", "backend", ".venv", "bin");
const port = process.env.E2E_PORT ?? "8010";
const scalePort = process.env.E2E_SCALE_PORT || "";
const python = existsSync(join(venv, "python")) ? join(venv, "python") : "python3";
const daphne = existsSync(join(venv, "daphne")) ? join(venv, "daphne") : "daphne";

const root = mkdtempSync(join(tmpdir(), "switchboard-e2e-"));
const servers = [];
let stopping = false;

function envFor(name, listenPort) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const env = {
    ...process.env,
    DEBUG: "true",
    // SQLITE_PATH rather than a DATABASE_URL: the settings then open SQLite as they do by default (a 20 s lock wait,
    // IMMEDIATE transactions), so the in-process tasks, the sandbox's simulated customer and the webhooks writing at
    // once wait for each other instead of failing with "database is locked".
    SQLITE_PATH: join(dir, "e2e.sqlite3"),
    MEDIA_ROOT: join(dir, "media"),
    FRONTEND_DIST: join(frontend, "dist"),
    ALLOWED_HOSTS: "127.0.0.1,localhost",
    CSRF_TRUSTED_ORIGINS: `http://127.0.0.1:${listenPort}`,
  };
  delete env.REDIS_URL; // the embedded defaults: in-memory channel layer, tasks in-process
  delete env.DATABASE_URL;
  return { dir, env };
}

/** Run a command to its end, its output on ours; rejects on a non-zero exit. */
function run(command, args, options) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: "inherit", ...options });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(" ")}: exit ${code ?? signal}`)),
    );
  });
}
const manage = (env, args) => run(python, ["manage.py", ...args], { cwd: backend, env });

function serve(env, listenPort) {
  const server = spawn(daphne, ["-b", "127.0.0.1", "-p", listenPort, "config.asgi:application"], {
    cwd: backend,
    env,
    stdio: "inherit",
  });
  servers.push(server);
  server.on("exit", (code) => {
    // One backend gone (crashed or stopped): stop the other too, and leave.
    stop();
    if (servers.every((s) => s.exitCode !== null || s.signalCode !== null)) finish(code ?? 0);
  });
}

function stop() {
  if (stopping) return;
  stopping = true;
  for (const server of servers) if (server.exitCode === null) server.kill("SIGTERM");
}
function finish(code) {
  rmSync(root, { recursive: true, force: true });
  process.exit(code);
}
process.on("SIGTERM", () => (servers.length ? stop() : finish(0)));
process.on("SIGINT", () => (servers.length ? stop() : finish(0)));

try {
  const main = envFor("main", port);
  const build =
    process.env.E2E_SKIP_BUILD === "1"
      ? Promise.resolve()
      : run("npx", ["vite", "build", "--logLevel", "warn"], { cwd: frontend });
  const seeded = (async () => {
    await manage(main.env, ["migrate", "--no-input", "-v", "0"]);
    // The demo includes the assistant's part (switchboard/assistant/demo.py): Priya Nair's conversation handed over
    // to a person, her lead fields, a reply by the assistant and a message it skipped — no AI provider is reached.
    await manage(main.env, ["seed_demo"]);
  })();
  const scale = scalePort
    ? (async () => {
        await seeded;
        const bulk = envFor("scale", scalePort);
        // The demo database as seeded (media too), then the bulk rows on top: no second migrate + seed_demo.
        cpSync(join(main.dir, "e2e.sqlite3"), join(bulk.dir, "e2e.sqlite3"));
        if (existsSync(join(main.dir, "media"))) cpSync(join(main.dir, "media"), join(bulk.dir, "media"), { recursive: true });
        const started = Date.now();
        await manage(bulk.env, [
          "seed_bulk",
          "--conversations",
          process.env.E2E_SCALE_CONVERSATIONS ?? "10000",
          "--thread-messages",
          process.env.E2E_SCALE_THREAD ?? "20000",
        ]);
        console.log(`[e2e] scale backend seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return bulk;
      })()
    : Promise.resolve(null);
  const [, , bulk] = await Promise.all([build, seeded, scale]);
  if (bulk) serve(bulk.env, scalePort);
  serve(main.env, port);
} catch (error) {
  console.error(error);
  stop();
  finish(1);
}
