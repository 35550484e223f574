import { afterEach, describe, expect, it, vi } from "vitest";
import { listTemplates, rememberTemplate, templateSend, webhookUrl, windowState } from "./adapters";

const NOW = Date.parse("2026-01-10T12:00:00Z");
const hoursAgo = (h: number) => new Date(NOW - h * 3600_000).toISOString();
const inbound = (h: number) => ({ direction: "inbound" as const, timestamp: hoursAgo(h) });
const outbound = (h: number) => ({ direction: "outbound" as const, timestamp: hoursAgo(h) });

describe("reply window state", () => {
  it("is open within 24 hours of the customer's last message, and says when it closes", () => {
    const w = windowState({ platform: "whatsapp" }, "meta", [inbound(30), inbound(5), outbound(1)], NOW);
    expect(w.state).toBe("open");
    expect(w.closesAt).toBe(NOW - 5 * 3600_000 + 24 * 3600_000);
  });

  it("is templates-only on WhatsApp after 24 hours (known before the agent types)", () => {
    expect(windowState({ platform: "whatsapp" }, "meta", [inbound(25), outbound(2)], NOW).state).toBe("templates_only");
    expect(windowState({ platform: "whatsapp" }, "twilio", [], NOW).state).toBe("templates_only");
  });

  it("is the human-agent window on Messenger and Instagram up to 7 days, then closed", () => {
    expect(windowState({ platform: "messenger" }, "meta", [inbound(48)], NOW).state).toBe("human_agent");
    expect(windowState({ platform: "instagram" }, "meta", [inbound(8 * 24)], NOW).state).toBe("closed");
    expect(windowState({ platform: "instagram" }, "meta", [], NOW).state).toBe("closed");
  });

  it("never applies to a WhatsApp-Web bridge", () => {
    expect(windowState({ platform: "whatsapp" }, "bridge", [inbound(100)], NOW).state).toBe("open");
  });

  it("uses the server's state when the conversation carries it (BACKEND_NEEDS §3)", () => {
    expect(windowState({ platform: "whatsapp", messaging_window: "templates_only" }, "meta", [inbound(1)], NOW).state).toBe("templates_only");
    expect(windowState({ platform: "whatsapp", last_inbound_at: hoursAgo(2) }, "meta", [], NOW).state).toBe("open");
  });

  it("keeps the server's state until its window_expires_at, then moves on by itself", () => {
    const conversation = {
      platform: "messenger" as const,
      messaging_window: "open" as const,
      last_inbound_at: hoursAgo(23),
      window_expires_at: hoursAgo(-1),
    };
    expect(windowState(conversation, "meta", [], NOW)).toEqual({ state: "open", closesAt: NOW + 3600_000 });
    // Two hours later the 24 hours are over: the human-agent window, until 7 days after the customer wrote.
    const later = NOW + 2 * 3600_000;
    expect(windowState(conversation, "meta", [], later)).toEqual({
      state: "human_agent",
      closesAt: NOW - 23 * 3600_000 + 7 * 24 * 3600_000,
    });
    const whatsapp = { ...conversation, platform: "whatsapp" as const };
    expect(windowState(whatsapp, "meta", [], later)).toEqual({ state: "templates_only", closesAt: null });
  });

  it("trusts a state without expiry as the server gave it", () => {
    const bridge = { platform: "whatsapp" as const, messaging_window: "open" as const, window_expires_at: null, last_inbound_at: hoursAgo(500) };
    expect(windowState(bridge, "bridge", [], NOW)).toEqual({ state: "open", closesAt: null });
  });
});

describe("templates and webhook URLs", () => {
  it("fills body parameters in order", () => {
    expect(templateSend({ name: "viewing_follow_up", language: "en_US", body: "Hi {{1}}, {{2}}?", parameter_count: 2 }, ["Maya", "Monday"])).toEqual({
      name: "viewing_follow_up",
      language: "en_US",
      components: [{ type: "body", parameters: [{ type: "text", text: "Maya" }, { type: "text", text: "Monday" }] }],
    });
  });

  it("names the callback URL of each provider", () => {
    const o = "https://inbox.example";
    expect(webhookUrl({ platform: "whatsapp", provider: "meta" }, o)).toBe(`${o}/api/webhooks/whatsapp/`);
    expect(webhookUrl({ platform: "whatsapp", provider: "twilio" }, o)).toBe(`${o}/api/webhooks/twilio/`);
    expect(webhookUrl({ platform: "whatsapp", provider: "bridge" }, o)).toBe(`${o}/api/whatsapp/callback`);
    expect(webhookUrl({ platform: "messenger", provider: "sandbox" }, o)).toBe(`${o}/api/webhooks/sandbox/messenger/`);
    expect(webhookUrl({ platform: "instagram", provider: "meta", webhook_url: "https://x/y" }, o)).toBe("https://x/y");
  });
});

describe("the account's templates", () => {
  const remembered = { name: "hello_world", language: "en_US", body: "Hello", parameter_count: 0 };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  afterEach(() => {
    vi.restoreAllMocks();
    localStorage.clear();
  });

  it("reads the server's list", async () => {
    const listed = [{ ...remembered, display_name: "hello_world", category: "UTILITY", status: "APPROVED" }];
    const fetchMock = vi.spyOn(globalThis, "fetch").mockResolvedValue(json(200, listed));
    expect(await listTemplates(7)).toEqual(listed);
    expect((fetchMock.mock.calls[0][0] as Request).url).toMatch(/\/api\/platforms\/accounts\/7\/templates\/$/);
  });

  it("falls back to the templates this browser sent when the server has no list to give", async () => {
    rememberTemplate(7, remembered);
    for (const [status, code] of [[502, "templates_unavailable"], [409, "account_needs_reconnect"], [404, "not_found"]] as const) {
      vi.spyOn(globalThis, "fetch").mockResolvedValueOnce(json(status, { detail: "…", code }));
      expect(await listTemplates(7)).toEqual([remembered]);
    }
  });
});