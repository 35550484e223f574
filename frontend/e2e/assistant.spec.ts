// The AI assistant in the web app (issue 12), against the real backend e2e/server.mjs starts: the demo seed, whose
// assistant part (switchboard/assistant/demo.py) hands Priya Nair's conversation over to a person, fills her lead
// fields and adds a reply by the assistant. No AI provider is reachable in tests: the assistant stays inactive, and the one address it is given
// is a closed port on this machine.
import { expect, test, type Page } from "@playwright/test";
import { DEMO, expectAccessible, login, postWhatsAppText, screenshot } from "./helpers";

test.describe.configure({ mode: "serial" });

let page: Page;

const BASE = `http://127.0.0.1:${process.env.E2E_PORT}`;

test.beforeAll(async ({ browser }) => {
  const context = await browser.newContext({ baseURL: BASE, viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  await login(page);
});
test.afterAll(async () => {
  await page.context().close();
  // The other specs expect the demo's assistant off (it is only ever pointed at a closed local port).
  await apiPost("/api/assistant/settings/", { is_active: false }, "PUT");
});

const JAMES = { wa_id: "447700900123", name: "James Whitaker" };

const row = (name: string) => page.locator(".conv-row", { hasText: name });
const aiSwitch = () => page.getByRole("switch", { name: "AI assistant" });
const trustedSwitch = () => page.getByRole("switch", { name: "Trusted contact" });

/** The API as another agent's tab would call it (a token of the demo owner's own). */
async function apiPost(path: string, body: unknown, method = "POST"): Promise<unknown> {
  const tokens = (await (
    await fetch(`${BASE}/api/accounts/login/`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(DEMO) })
  ).json()) as { access: string };
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${tokens.access}` },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

function openConversationId(): number {
  const match = /\/inbox\/(\d+)/.exec(page.url());
  if (!match) throw new Error(`no conversation open at ${page.url()}`);
  return Number(match[1]);
}

test("the AI and Trusted switches in the thread header: saved, kept after a reload, and live", async () => {
  await page.goto("/inbox");
  await row("James Whitaker").click();
  await expect(page.getByRole("region", { name: "Conversation with James Whitaker" })).toBeVisible();
  const id = openConversationId();
  await expect(aiSwitch()).not.toBeChecked();
  await expect(trustedSwitch()).not.toBeChecked();

  const aiSaved = page.waitForResponse((r) => r.url().includes(`/conversations/${id}/toggle-ai/`) && r.ok());
  await aiSwitch().click();
  await aiSaved;
  const trustSaved = page.waitForResponse((r) => r.url().includes(`/conversations/${id}/toggle-trusted/`) && r.ok());
  await trustedSwitch().click();
  await trustSaved;
  await expect(aiSwitch()).toBeChecked();
  await expect(trustedSwitch()).toBeChecked();
  const contact = page.getByRole("complementary", { name: "Contact" });
  await expect(contact.getByText("Trusted", { exact: true }).locator("xpath=..")).toContainText("Yes");

  await page.reload();
  await expect(aiSwitch()).toBeChecked();
  await expect(trustedSwitch()).toBeChecked();
  await expectAccessible(page, "thread with the assistant switches");

  // Another agent switches both off: conversation.updated brings it to this tab without a reload.
  await apiPost(`/api/messages/conversations/${id}/toggle-ai/`, { enabled: false });
  await expect(aiSwitch()).not.toBeChecked();
  await apiPost(`/api/messages/conversations/${id}/toggle-trusted/`, { trusted: false });
  await expect(trustedSwitch()).not.toBeChecked();
  await expect(contact.getByText("Trusted", { exact: true }).locator("xpath=..")).toContainText("No");
});

test("the needs-human filter lists the conversation handed over; its banner, lead fields and the AI badge; hand back to AI", async () => {
  await page.goto("/inbox");
  await page.getByRole("checkbox", { name: "Needs human" }).check();
  await expect(page).toHaveURL(/needs_human=1/);
  const list = page.getByTestId("conversation-list");
  await expect(list.locator(".conv-row")).toHaveCount(1);
  await expect(row("Priya Nair")).toContainText("Needs human");

  await row("Priya Nair").click();
  const banner = page.getByTestId("needs-human-banner");
  await expect(banner).toContainText("Needs a human.");
  await expect(banner).toContainText("The customer wants to negotiate the rent");
  const lead = page.getByTestId("lead-fields");
  await expect(lead).toContainText("Purpose");
  await expect(lead).toContainText("rent");
  await expect(lead).toContainText("Budget max");
  const byAssistant = page.getByTestId("thread").locator(".msg.out", { hasText: "Happy to help, Priya!" });
  await expect(byAssistant.getByTestId("ai-badge")).toHaveText("AI");
  await expect(byAssistant.locator(".msg-author")).toHaveText("Assistant");
  await page.waitForTimeout(300);
  await expectAccessible(page, "thread handed over to a person");
  await screenshot(page, "thread-needs-human");

  await banner.getByRole("button", { name: "Hand back to AI" }).click();
  await expect(banner).toBeHidden();
  await expect(aiSwitch()).toBeChecked();
  // No longer handed over: it leaves the needs-human list at once, and stays out after a reload.
  await expect(page.getByText("No conversation needs a human right now.")).toBeVisible();
  await page.reload();
  await expect(page.getByText("No conversation needs a human right now.")).toBeVisible();
  await expect(page.getByRole("region", { name: "Conversation with Priya Nair" })).toBeVisible();
  await expect(page.getByTestId("needs-human-banner")).toHaveCount(0);
  // Leave the demo as the other specs expect it.
  await aiSwitch().click();
  await expect(aiSwitch()).not.toBeChecked();
});

test("suggest reply with the assistant not configured: the composer says the backend's sentence and sends nothing", async () => {
  await page.goto("/inbox");
  await row("Maria Gonzalez").click();
  const thread = page.getByTestId("thread");
  await expect(thread.locator(".msg").first()).toBeVisible();
  const before = await thread.locator(".msg.out").count();
  const answered = page.waitForResponse((r) => r.url().includes("/suggest-reply/"));
  await page.getByRole("button", { name: "Suggest reply" }).click();
  const response = await answered;
  expect([400, 409]).toContain(response.status());
  const sentence = ((await response.json()) as { detail?: string }).detail ?? "";
  expect(sentence.length).toBeGreaterThan(10);
  await expect(page.getByRole("form", { name: "Reply" }).getByRole("alert")).toHaveText(sentence);
  await expect(page.getByRole("textbox", { name: "Message" })).toHaveValue("");
  await page.waitForTimeout(300);
  await expect(thread.locator(".msg.out")).toHaveCount(before);
});

test("assistant settings: a change is saved, a bad value is refused by its field, the connection test answers, the FAQ is edited; accessible", async () => {
  await page.goto("/settings/assistant");
  await expect(page.getByRole("heading", { name: "AI assistant" })).toBeVisible();
  const form = page.getByRole("form", { name: "Assistant settings" });
  await expect(form.getByRole("switch", { name: "Assistant active" })).not.toBeChecked();
  await expect(form.getByText("No key saved yet.")).toBeVisible();

  // A change, saved and still there after a reload. The address is a closed port here: nothing leaves the machine.
  await form.getByLabel("Base URL").fill("http://127.0.0.1:9/v1");
  await form.getByLabel("Model", { exact: true }).fill("e2e-local-model");
  await form.getByLabel("Guardrails").fill("Never promise a discount.");
  await form.getByLabel("Saturday").check();
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await page.reload();
  await expect(form.getByLabel("Base URL")).toHaveValue("http://127.0.0.1:9/v1");
  await expect(form.getByLabel("Model", { exact: true })).toHaveValue("e2e-local-model");
  await expect(form.getByLabel("Guardrails")).toHaveValue("Never promise a discount.");
  await expect(form.getByLabel("Saturday opens (1)")).toHaveValue("09:00");

  // Out of range: the server's sentence next to the field, nothing saved.
  await form.getByLabel("Temperature").fill("5");
  await form.getByRole("button", { name: "Save" }).click();
  const temperature = form.getByLabel("Temperature");
  await expect(temperature).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#ai-temperature-error")).toContainText(/2/);
  await expectAccessible(page, "assistant settings with a field error");
  await temperature.fill("0.4");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await expect(temperature).not.toHaveAttribute("aria-invalid", "true");

  // The connection test checks the saved settings (the closed local port): ok or not, a sentence.
  await form.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByTestId("assistant-test")).toContainText(/\w{3,}/, { timeout: 30_000 });

  // FAQ: add, edit, delete.
  const question = `Do you allow pets? ${Date.now()}`;
  await page.getByRole("button", { name: "Add a question" }).click();
  const add = page.getByRole("form", { name: "New FAQ entry" });
  await add.getByLabel("Question").fill(question);
  await add.getByLabel("Answer").fill("Most of our rentals allow cats and small dogs.");
  await add.getByRole("button", { name: "Add" }).click();
  const entry = page.getByTestId("faq-entry").filter({ hasText: question });
  await expect(entry).toContainText("cats and small dogs");
  await entry.getByRole("button", { name: /^Edit/ }).click();
  const edit = page.getByRole("form", { name: "Edit FAQ entry" });
  await edit.getByLabel("Answer").fill("Yes: cats and small dogs in most rentals.");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(entry).toContainText("Yes: cats and small dogs in most rentals.");
  await expectAccessible(page, "assistant settings");
  await page.locator(".settings-body").evaluate((el) => el.scrollTo(0, 0));
  await screenshot(page, "settings-assistant");
  page.once("dialog", (dialog) => void dialog.accept());
  await entry.getByRole("button", { name: /^Delete/ }).click();
  await expect(entry).toHaveCount(0);

  await expect(page.getByTestId("assistant-stats")).toContainText("Conversations answered");
});

test("an active assistant: an agent's reply pauses it (live), hand back; then its provider fails and the conversation goes to a person", async () => {
  // Active, answering at once, pointed at a closed port on this machine (the settings spec saved that address).
  await page.goto("/settings/assistant");
  const form = page.getByRole("form", { name: "Assistant settings" });
  await expect(form.getByLabel("Base URL")).toHaveValue("http://127.0.0.1:9/v1");
  await form.getByRole("switch", { name: "Assistant active" }).check();
  await form.getByLabel("Reply delay (seconds)").fill("0");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();

  await page.goto("/inbox");
  await row(JAMES.name).click();
  const id = openConversationId();
  await apiPost(`/api/messages/conversations/${id}/toggle-trusted/`, { trusted: true });
  await apiPost(`/api/messages/conversations/${id}/toggle-ai/`, { enabled: true });
  await expect(trustedSwitch()).toBeChecked();
  await expect(aiSwitch()).toBeChecked();
  const thread = page.getByTestId("thread");

  // An agent replies: the assistant steps back, said live in the thread.
  const inbound = await thread.locator(".msg.in").count();
  const box = page.getByRole("textbox", { name: "Message" });
  await box.fill(`I'll take this one ${Date.now()}`);
  await box.press("Enter");
  const paused = page.getByTestId("ai-paused");
  // The pause ends on the same day (a clock time) or, after a reply near midnight, on the next (the date first).
  await expect(paused).toContainText(/AI paused until (.+, )?\d{1,2}:\d{2}.*\(an agent replied\)/);
  // The sandbox's simulated customer answers the agent: the assistant leaves it to the person, and says why.
  const answer = thread.locator(".msg.in").nth(inbound);
  await expect(answer).toBeVisible({ timeout: 20_000 });
  await expect(answer.getByRole("img", { name: "The AI did not answer: a person was handling the conversation." })).toBeVisible();
  const handedBack = page.waitForResponse((r) => r.url().includes(`/conversations/${id}/hand-back-to-ai/`) && r.ok());
  await paused.getByRole("button", { name: "Hand back to AI now" }).click();
  await handedBack;
  await expect(paused).toBeHidden();

  // The customer writes; the provider cannot be reached (retried, then given up): the polite failure message goes
  // out as the assistant's, and the conversation is handed to a person with the reason, live.
  await postWhatsAppText(BASE, `Is the flat on Elm Road still free? ${Date.now()}`, `wamid.e2e.ai.${Date.now()}`, JAMES);
  const banner = page.getByTestId("needs-human-banner");
  await expect(banner).toContainText("The AI assistant failed:", { timeout: 40_000 });
  const failure = thread.locator(".msg.out", { hasText: "A member of our team will get back to you shortly" }).last();
  await expect(failure.getByTestId("ai-badge")).toBeVisible();
  await expect(row(JAMES.name)).toContainText("Needs human");

  // Back as it was: the assistant off first (the simulated customer still answers the failure message).
  await apiPost("/api/assistant/settings/", { is_active: false }, "PUT");
  await banner.getByRole("button", { name: "Hand back to AI" }).click();
  await expect(banner).toBeHidden();
  await apiPost(`/api/messages/conversations/${id}/toggle-ai/`, { enabled: false });
  await apiPost(`/api/messages/conversations/${id}/toggle-trusted/`, { trusted: false });
  await expect(aiSwitch()).not.toBeChecked();
});
