import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { AuthProvider } from "../../app/auth";
import { AssistantSettingsPage } from "./Assistant";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const jwt = (exp: number) => `x.${btoa(JSON.stringify({ exp })).replace(/=+$/, "")}.y`;

const settings = {
  is_active: false,
  provider: "openai",
  base_url: "",
  model: "gpt-4o-mini",
  temperature: 0.3,
  max_tokens: 400,
  system_prompt: "Be brief.",
  guardrails: "",
  context_size: 10,
  answer_when: "always",
  business_hours: { mon: [["09:00", "18:00"]] },
  time_zone: "UTC",
  reply_delay_seconds: 8,
  failure_message: "A colleague will answer.",
  failure_message_enabled: true,
  ai_on_for_trusted: true,
  lead_fields: ["purpose"],
  api_key_set: true,
  updated_at: "2026-01-01T10:00:00Z",
};
const stats = {
  days: 30,
  conversations_answered: 12,
  resolved_without_human: 9,
  handed_off: 3,
  handed_off_by_reason: { "Wants a discount": 2, "Asked for a person": 1 },
  failures: 1,
  failures_by_code: { rate_limited: 1 },
  replies_per_day: [
    { date: "2026-01-01", replies: 4 },
    { date: "2026-01-02", replies: 0 },
  ],
};

let fetchMock: MockInstance<typeof fetch>;
let role: "owner" | "agent";
let put: (body: Record<string, unknown>) => Response;
beforeEach(() => {
  localStorage.setItem("sb.auth", JSON.stringify({ access: jwt(Date.now() / 1000 + 3600), refresh: "r" }));
  fetchMock = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    if (path === "/api/accounts/me/") {
      return json({ id: 1, email: "a@example.com", full_name: "A", date_joined: "2026-01-01T00:00:00Z", memberships: [], organization: { id: 1, name: "Demo", slug: "demo" }, role, invitations: [] });
    }
    if (path === "/api/assistant/settings/" && request.method === "PUT") return put(JSON.parse(await request.text()));
    if (path === "/api/assistant/settings/") return json(settings);
    if (path === "/api/assistant/faq/") return json([{ id: 3, question: "Pets?", answer: "Cats are fine.", created_at: "2026-01-01T00:00:00Z", updated_at: "2026-01-01T00:00:00Z" }]);
    if (path === "/api/assistant/stats/") return json(stats);
    return json({ detail: "unexpected" }, 500);
  });
});
afterEach(() => fetchMock.mockRestore());

function setup() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <AuthProvider>
        <AssistantSettingsPage />
      </AuthProvider>
    </QueryClientProvider>,
  );
}

describe("Settings → AI assistant", () => {
  it("is read-only for agents: the settings shown, nothing to change, the FAQ and the stats readable", async () => {
    role = "agent";
    setup();
    expect(await screen.findByText("Only owners and admins can change the assistant. You can read its settings.")).toBeInTheDocument();
    expect(await screen.findByLabelText("Model")).toHaveValue("gpt-4o-mini");
    expect(screen.getByLabelText("Model")).toBeDisabled();
    expect(screen.getByLabelText("System prompt")).toBeDisabled();
    expect(screen.queryByRole("button", { name: "Save" })).not.toBeInTheDocument();
    expect(screen.queryByRole("button", { name: "Test connection" })).not.toBeInTheDocument();
    const entry = await screen.findByTestId("faq-entry");
    expect(entry).toHaveTextContent("Pets?");
    expect(within(entry).queryByRole("button")).not.toBeInTheDocument();
    const figures = await screen.findByTestId("assistant-stats");
    expect(figures).toHaveTextContent("Conversations answered12");
    expect(figures).toHaveTextContent("2 Wants a discount");
    expect(within(screen.getByRole("list", { name: "Replies per day" })).getAllByRole("listitem").map((li) => li.textContent)).toEqual([
      "2026-01-014 replies",
      "2026-01-020 replies",
    ]);
  }, 20_000);

  it("lets owners save: the stored key is kept unless a new one is typed, and the server's refusal shows by its field", async () => {
    role = "owner";
    const bodies: Record<string, unknown>[] = [];
    put = (body) => {
      bodies.push(body);
      if (Number(body.temperature) > 2) {
        return json({ detail: "Invalid input.", code: "invalid", errors: { temperature: ["Ensure this value is less than or equal to 2.0."] } }, 400);
      }
      return json({ ...settings, ...body, updated_at: "2026-01-02T10:00:00Z" });
    };
    const user = userEvent.setup();
    setup();
    const temperature = await screen.findByLabelText("Temperature");
    expect(screen.getByText("A key is saved — leave blank to keep it.")).toBeInTheDocument();
    await user.clear(temperature);
    await user.type(temperature, "5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Ensure this value is less than or equal to 2.0.")).toBeInTheDocument();
    expect(temperature).toHaveAttribute("aria-invalid", "true");
    expect(bodies[0]).toMatchObject({ temperature: 5, model: "gpt-4o-mini" });
    expect("api_key" in bodies[0]).toBe(false);

    await user.clear(temperature);
    await user.type(temperature, "0.5");
    await user.type(screen.getByLabelText("API key"), "sk-new");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Saved.")).toBeInTheDocument();
    expect(bodies[1]).toMatchObject({ temperature: 0.5, api_key: "sk-new" });
    await waitFor(() => expect(screen.getByLabelText("API key")).toHaveValue(""));
    expect(temperature).not.toHaveAttribute("aria-invalid");
  }, 20_000);
});
