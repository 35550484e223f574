// Scale, measured: 10,000 conversations loaded by infinite scroll and scrolled top to bottom, and a 20,000-message
// thread opened at the newest message and scrolled back page by page — against the second backend e2e/server.mjs
// seeds with `seed_bulk`. Frame times come from requestAnimationFrame inside the page (plus the browser's long
// tasks); the DOM counts prove the windowing. The figures are printed and written to test-results/perf.json
// (docs/performance.md, "Web app").
import { expect, test, type Page } from "@playwright/test";
import { cpus, loadavg } from "node:os";
import { login, recordPerf } from "./helpers";

const PORT = process.env.E2E_SCALE_PORT;
const BASE = `http://127.0.0.1:${PORT}`;
const CONVERSATIONS = Number(process.env.E2E_SCALE_CONVERSATIONS ?? 10_000);
const THREAD = Number(process.env.E2E_SCALE_THREAD ?? 20_000);
const DEMO_CONVERSATIONS = 7; // seed_demo's, above the bulk ones
const LONG_THREAD = "Long Thread (bulk)";
const PAGES_BACK = 8; // older pages of the thread loaded by scrolling up (50 messages each)

// Bounds a frozen or unwindowed page fails, with room for this 2-core machine running the backend (and, at times,
// other test suites) beside the browser: no frame over 500 ms but for one scheduling hiccup, none over 2 s at all;
// p95 frame times; fewer than 200 rows in the DOM (windowing: the list and the thread keep a few dozen).
const LONG_FRAME_MS = 500;
const MAX_FRAME_MS = 2000;
const MAX_P95_FRAME_MS = 120;
const MAX_P95_WHEEL_MS = 60;
const MAX_ROWS_IN_DOM = 200;

test.describe.configure({ mode: "serial" });
test.skip(!PORT, "E2E_SCALE=0: no scale backend");
test.setTimeout(120_000);

let page: Page;
const figures: Record<string, number | string> = {};

type FrameStats = {
  frames: number;
  over500: number;
  seconds: number;
  p50: number;
  p95: number;
  max: number;
  over50: number;
  longTasks: number;
  longestTask: number;
  maxRows: number;
  maxNodes: number;
};

declare global {
  interface Window {
    __meter?: { frames: number[]; tasks: number[]; maxRows: number; maxNodes: number; running: boolean; started: number; rowSelector: string };
  }
}

/** Start timing every frame (rAF to rAF) and counting the rendered rows matching `rowSelector`. */
async function startMeter(rowSelector: string): Promise<void> {
  await page.evaluate((selector) => {
    const meter = { frames: [] as number[], tasks: [] as number[], maxRows: 0, maxNodes: 0, running: true, started: performance.now(), rowSelector: selector };
    window.__meter = meter;
    let last = performance.now();
    const tick = (now: number) => {
      if (!meter.running) return;
      meter.frames.push(now - last);
      last = now;
      meter.maxRows = Math.max(meter.maxRows, document.querySelectorAll(meter.rowSelector).length);
      if (meter.frames.length % 10 === 0) meter.maxNodes = Math.max(meter.maxNodes, document.getElementsByTagName("*").length);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame((now) => {
      last = now;
      requestAnimationFrame(tick);
    });
    try {
      const observer = new PerformanceObserver((list) => {
        if (!meter.running) return observer.disconnect();
        for (const entry of list.getEntries()) meter.tasks.push(entry.duration);
      });
      observer.observe({ type: "longtask", buffered: false });
    } catch {
      /* no long task timing in this browser */
    }
  }, rowSelector);
}

async function stopMeter(label: string): Promise<FrameStats> {
  const stats = await page.evaluate(() => {
    const meter = window.__meter!;
    meter.running = false;
    const sorted = [...meter.frames].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    return {
      frames: sorted.length,
      seconds: (performance.now() - meter.started) / 1000,
      p50: at(0.5),
      p95: at(0.95),
      max: sorted[sorted.length - 1] ?? 0,
      over50: sorted.filter((f) => f > 50).length,
      over500: sorted.filter((f) => f > 500).length,
      longTasks: meter.tasks.length,
      longestTask: Math.max(0, ...meter.tasks),
      maxRows: meter.maxRows,
      maxNodes: Math.max(meter.maxNodes, document.getElementsByTagName("*").length),
    };
  });
  const round = (n: number) => Math.round(n * 10) / 10;
  console.log(
    `[scale] ${label}: ${stats.frames} frames in ${round(stats.seconds)} s · frame p50 ${round(stats.p50)} ms, p95 ${round(stats.p95)} ms, ` +
      `max ${round(stats.max)} ms, ${stats.over50} over 50 ms · ${stats.longTasks} long tasks (longest ${round(stats.longestTask)} ms) · ` +
      `rows in DOM ≤ ${stats.maxRows}, elements ≤ ${stats.maxNodes} · load average ${loadavg()[0].toFixed(1)}`,
  );
  for (const [key, value] of Object.entries(stats)) figures[`scale_${label}_${key}`] = round(value);
  figures[`scale_${label}_load_average`] = `${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
  return stats;
}

function expectNoFreeze(stats: FrameStats, label: string) {
  expect(stats.over500, `${label}: frames over ${LONG_FRAME_MS} ms`).toBeLessThanOrEqual(1);
  expect(stats.max, `${label}: longest frame (ms)`).toBeLessThan(MAX_FRAME_MS);
  expect(stats.maxRows, `${label}: rows rendered at once`).toBeLessThan(MAX_ROWS_IN_DOM);
}

function expectSmooth(stats: FrameStats, label: string) {
  expect(stats.frames, `${label}: frames were drawn`).toBeGreaterThan(10);
  expectNoFreeze(stats, label);
  expect(stats.p95, `${label}: p95 frame (ms)`).toBeLessThan(MAX_P95_FRAME_MS);
}

test.beforeAll(async ({ browser }) => {
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${BASE}/healthz`).then((r) => r.ok).catch(() => false);
    if (up) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
});
test.afterAll(async () => {
  recordPerf(figures);
  await page.context().close();
});

const list = () => page.getByTestId("conversation-list");
const thread = () => page.getByTestId("thread");

test(`infinite scroll loads all ${CONVERSATIONS.toLocaleString("en")} conversations, and the list scrolls top to bottom`, async () => {
  const total = CONVERSATIONS + 1 + DEMO_CONVERSATIONS; // + the long thread
  await login(page);
  await expect(list()).toBeVisible();

  // Load: scroll to the end of the list every frame, as a user holding End would, until the last page came.
  await startMeter(".conv-item");
  const load = await page.evaluate(async (limitMs) => {
    const el = document.querySelector<HTMLElement>('[data-testid="conversation-list"]')!;
    const ul = el.querySelector("ul")!;
    const started = performance.now();
    let pages = 0;
    let height = ul.offsetHeight;
    while (performance.now() - started < limitMs) {
      el.scrollTop = el.scrollHeight;
      await new Promise((r) => requestAnimationFrame(r));
      if (ul.offsetHeight !== height) {
        height = ul.offsetHeight;
        pages++;
      }
      const last = ul.lastElementChild;
      if (ul.querySelector("li")?.getAttribute("aria-setsize") !== "-1" && last && !last.querySelector(".conv-loader")) break;
    }
    return { ms: performance.now() - started, pages, setsize: Number(ul.querySelector("li")?.getAttribute("aria-setsize")) };
  }, 80_000);
  const loading = await stopMeter("list_load");
  figures.scale_list_load_ms = Math.round(load.ms);
  figures.scale_list_pages = load.pages;
  console.log(`[scale] ${total} conversations loaded in ${(load.ms / 1000).toFixed(1)} s (${load.pages} pages after the first)`);
  expect(load.setsize).toBe(total);
  expectNoFreeze(loading, "list load");

  // A fast wheel scroll from the top: 120 px a frame (7,200 px/s) for three seconds.
  await list().evaluate((el) => (el.scrollTop = 0));
  await page.waitForTimeout(200);
  await startMeter(".conv-item");
  await list().evaluate(async (el) => {
    for (let i = 0; i < 180; i++) {
      el.scrollTop += 120;
      await new Promise((r) => requestAnimationFrame(r));
    }
  });
  const wheel = await stopMeter("list_wheel");
  expectSmooth(wheel, "list wheel scroll");
  expect(wheel.p95, "list wheel scroll: p95 frame (ms)").toBeLessThan(MAX_P95_WHEEL_MS);

  // Then the whole list, top to bottom, 1,600 px (20 rows) a frame — dragging the scrollbar: every frame paints
  // rows it never showed.
  await list().evaluate((el) => (el.scrollTop = 0));
  await page.waitForTimeout(200);
  await startMeter(".conv-item");
  const scrolled = await list().evaluate(async (el) => {
    const started = performance.now();
    while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
      el.scrollTop += 1600;
      await new Promise((r) => requestAnimationFrame(r));
    }
    await new Promise((r) => requestAnimationFrame(r));
    const items = Array.from(el.querySelectorAll("li")).map((li) => Number(li.getAttribute("aria-posinset")));
    return { ms: performance.now() - started, px: el.scrollHeight, lastShown: Math.max(...items) };
  });
  const scrolling = await stopMeter("list_scroll");
  figures.scale_list_scroll_px = scrolled.px;
  expect(scrolled.lastShown).toBe(total);
  expectSmooth(scrolling, "list scroll");
  await expect(list().locator(".conv-row").last()).toBeVisible();
});

test(`the ${THREAD.toLocaleString("en")}-message thread opens at the newest message and scrolls back page by page`, async () => {
  await list().evaluate((el) => (el.scrollTop = 0));
  const row = list().locator(".conv-row", { hasText: LONG_THREAD });
  await expect(row).toBeVisible();

  await startMeter(".thread-row");
  const started = Date.now();
  await row.click();
  const newest = thread().getByText(`#${THREAD} `, { exact: false });
  await expect(newest).toBeVisible();
  const openMs = Date.now() - started;
  // At the newest: the scroller is at its end and the newest message is the last one rendered.
  await expect
    .poll(() => thread().evaluate((el) => Math.round(el.scrollHeight - el.scrollTop - el.clientHeight)))
    .toBeLessThan(4);
  await page.waitForTimeout(300);
  const opening = await stopMeter("thread_open");
  figures.scale_thread_open_ms = openMs;
  console.log(`[scale] thread of ${THREAD} opened at the newest message in ${openMs} ms`);
  expectNoFreeze(opening, "thread open");

  // Scroll back: 400 px a frame upwards. Near the top the older page is asked for (the log is aria-busy meanwhile):
  // the scrolling pauses, and when the page has been prepended the message that was at the top of the screen must
  // still be there — the drift is how far it moved.
  await startMeter(".thread-row");
  const back = await thread().evaluate(
    async (el, { pages, limitMs }) => {
      const started = performance.now();
      const frame = () => new Promise((r) => requestAnimationFrame(r));
      const rows = () => Number(el.dataset.rows);
      const topMessage = () => {
        const box = el.getBoundingClientRect();
        for (const node of Array.from(el.querySelectorAll<HTMLElement>("[data-message-id]"))) {
          const r = node.getBoundingClientRect();
          if (r.bottom > box.top + 1) return { id: node.dataset.messageId!, top: r.top - box.top };
        }
        return null;
      };
      const oldestNumber = () => {
        const numbers = Array.from(el.querySelectorAll(".msg-text")).map((n) => Number(/^#(\d+)/.exec(n.textContent ?? "")?.[1] ?? NaN));
        return Math.min(...numbers.filter((n) => !Number.isNaN(n)));
      };
      const first = rows();
      let prepends = 0;
      let maxDrift = 0;
      let unmeasured = 0;
      const waits: number[] = [];
      let anchor: { id: string; top: number; rows: number; at: number } | null = null;
      while (prepends < pages && performance.now() - started < limitMs) {
        if (el.getAttribute("aria-busy") === "true") {
          anchor ??= { ...topMessage()!, rows: rows(), at: performance.now() };
          await frame();
          continue;
        }
        if (rows() > first + 50 * prepends) {
          // A page came: let the new rows be measured, then see where the anchor went.
          await frame();
          await frame();
          prepends = Math.round((rows() - first) / 50);
          if (anchor) {
            waits.push(performance.now() - anchor.at);
            const node = el.querySelector<HTMLElement>(`[data-message-id="${anchor.id}"]`);
            const now = node ? node.getBoundingClientRect().top - el.getBoundingClientRect().top : Infinity;
            maxDrift = Math.max(maxDrift, Math.abs(now - anchor.top));
          } else unmeasured++;
          anchor = null;
          continue;
        }
        el.scrollTop = Math.max(0, el.scrollTop - 400);
        await frame();
      }
      return { ms: performance.now() - started, prepends, maxDrift, unmeasured, waits, oldestShown: oldestNumber(), rows: rows() };
    },
    { pages: PAGES_BACK, limitMs: 60_000 },
  );
  const scrolling = await stopMeter("thread_scroll_back");
  const loaded = back.rows;
  figures.scale_thread_pages_back = back.prepends;
  figures.scale_thread_messages_loaded = loaded;
  figures.scale_thread_prepend_anchor_drift_px = Math.round(back.maxDrift);
  figures.scale_thread_page_wait_p50_ms = Math.round([...back.waits].sort((a, b) => a - b)[Math.floor(back.waits.length / 2)] ?? 0);
  console.log(
    `[scale] scrolled back ${back.prepends} pages in ${(back.ms / 1000).toFixed(1)} s: ${loaded} messages loaded, ` +
      `oldest on screen #${back.oldestShown}, anchor drift on prepend ≤ ${Math.round(back.maxDrift)} px` +
      `${back.unmeasured ? ` (${back.unmeasured} prepends not observed)` : ""}, ` +
      `page wait p50 ${figures.scale_thread_page_wait_p50_ms} ms`,
  );
  expect(back.prepends).toBe(PAGES_BACK);
  expect(loaded, "one page per prepend: no runaway loading").toBe(50 * (PAGES_BACK + 1));
  expect(back.unmeasured).toBe(0);
  // The screen stays near what it showed when the last page came (#19601 for 20,000), the older rows above it. A few
  // rows of slack: where the last scroll step stopped depends on frame timing (seen: #19605 on a loaded machine), not
  // on the windowing; a thread that did not scroll back page by page ends far below.
  expect(back.oldestShown).toBeLessThanOrEqual(THREAD - 50 * PAGES_BACK + 20);
  expect(back.maxDrift, "what was on screen stays in place when older messages are prepended").toBeLessThan(80);
  expectSmooth(scrolling, "thread scroll back");
});
