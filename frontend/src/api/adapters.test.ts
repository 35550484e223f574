import { describe, expect, it } from "vitest";
import { templateSend, webhookUrl, windowState } from "./adapters";

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
