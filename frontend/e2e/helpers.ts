import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { mkdirSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = resolve(here, "..", "..", "docs", "screenshots");
export const RESULTS = resolve(here, "..", "test-results", "perf.json");
export const DEMO = { email: "demo@switchboard.local", password: "switchboard-demo" };
const SECRET = process.env.DEMO_WEBHOOK_SECRET ?? "switchboard-demo-webhook-secret";
export const WHATSAPP_NUMBER_ID = "106540352242922";
export const MARIA = { wa_id: "14155550101", name: "Maria Gonzalez" };

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) });
}

export function recordPerf(values: Record<string, number | string>): void {
  mkdirSync(dirname(RESULTS), { recursive: true });
  const current = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : {};
  writeFileSync(RESULTS, JSON.stringify({ ...current, ...values }, null, 2));
}

/** No serious or critical accessibility violation (axe-core, WCAG 2 A/AA rules). */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const summary = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  expect(summary, `axe on ${label}`).toEqual([]);
}

export async function login(page: Page): Promise<number> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill(DEMO.password);
  const started = Date.now();
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator(".conv-row").first()).toBeVisible();
  return Date.now() - started;
}

/** A WhatsApp Cloud delivery for the demo number, signed as Meta signs (X-Hub-Signature-256) with the sandbox
 * account's own secret, posted to the sandbox endpoint. */
export async function postWhatsAppText(baseURL: string, text: string, id: string, from = MARIA): Promise<void> {
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [
      {
        id: "102290129340398",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550783881", phone_number_id: WHATSAPP_NUMBER_ID },
              contacts: [{ profile: { name: from.name }, wa_id: from.wa_id }],
              messages: [{ from: from.wa_id, id, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
  const signature = "sha256=" + createHmac("sha256", SECRET).update(body).digest("hex");
  const response = await fetch(`${baseURL}/api/webhooks/sandbox/whatsapp/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": signature },
    body,
  });
  const answer = await response.text();
  if (!response.ok || !answer.includes("processed")) throw new Error(`webhook answered ${response.status}: ${answer}`);
}
