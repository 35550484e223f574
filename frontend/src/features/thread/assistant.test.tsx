import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import type { Conversation } from "../../api/types";
import { matchesFilters, upsertConversation, type ConversationPages } from "../../state/cache";
import { qk } from "../../state/keys";
import { conversation, message } from "../../test/factories";
import { aiPausedLabel, fieldLabel, leadFields, skipReasonText } from "./assistant";
import { AssistantNotices } from "./AssistantControls";
import { MessageView } from "./MessageView";

const HHMM = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

describe("the AI paused label", () => {
  const now = new Date(2026, 0, 10, 14, 0, 0).getTime();

  it("says until when, in hours and minutes, while the pause lasts", () => {
    const until = new Date(2026, 0, 10, 14, 30, 0);
    expect(aiPausedLabel(until.toISOString(), now)).toBe(`AI paused until ${HHMM.format(until)} (an agent replied)`);
  });

  it("is gone once the time has passed, or when there is no pause", () => {
    expect(aiPausedLabel(new Date(now - 1000).toISOString(), now)).toBeNull();
    expect(aiPausedLabel(new Date(now).toISOString(), now)).toBeNull();
    expect(aiPausedLabel(null, now)).toBeNull();
    expect(aiPausedLabel("not a date", now)).toBeNull();
  });

  it("names the day when the pause ends on another day", () => {
    const until = new Date(2026, 0, 11, 9, 5, 0);
    const label = aiPausedLabel(until.toISOString(), now)!;
    expect(label).toMatch(/^AI paused until .*2026.* \(an agent replied\)$/);
    expect(label).toContain("Jan");
  });
});

describe("why the assistant skipped a message", () => {
  it("is a sentence for reasons an agent cannot see elsewhere", () => {
    expect(skipReasonText("not_trusted")).toBe("The AI did not answer: the contact is not trusted.");
    expect(skipReasonText("outside_window")).toBe("The AI did not answer: the platform's reply window was not open.");
    expect(skipReasonText("some_new_reason")).toBe("The AI did not answer: some new reason.");
  });

  it("is not shown when the assistant or the conversation's switch is simply off, or nothing was skipped", () => {
    expect(skipReasonText("assistant_inactive")).toBeNull();
    expect(skipReasonText("switch_off")).toBeNull();
    expect(skipReasonText("")).toBeNull();
    expect(skipReasonText(undefined)).toBeNull();
  });
});

describe("lead fields", () => {
  it("are labelled and formatted in the order given, empty ones left out", () => {
    expect(leadFields({ purpose: "rent", budget_max: 2500, move_in_date: "2026-03-01", pets: true, areas: ["Centre", "Old Town"], notes: "", phone: null })).toEqual([
      { key: "purpose", label: "Purpose", value: "rent" },
      { key: "budget_max", label: "Budget max", value: "2500" },
      { key: "move_in_date", label: "Move in date", value: "2026-03-01" },
      { key: "pets", label: "Pets", value: "Yes" },
      { key: "areas", label: "Areas", value: "Centre, Old Town" },
    ]);
  });

  it("are none for anything but an object", () => {
    expect(leadFields(null)).toEqual([]);
    expect(leadFields(["purpose"])).toEqual([]);
    expect(leadFields("rent")).toEqual([]);
    expect(fieldLabel("property-type")).toBe("Property type");
  });
});

describe("messages and the assistant", () => {
  it("marks a reply written by the assistant with an AI badge", () => {
    render(<MessageView message={message({ direction: "outbound", text: "Two flats match", sent_by_assistant: true, status: "sent" })} />);
    expect(screen.getByText("Assistant")).toHaveClass("msg-author");
    expect(screen.getByTestId("ai-badge")).toHaveTextContent("AI");
  });

  it("gives the reason an inbound message was skipped, subtly, and nothing for a switched-off assistant", () => {
    const { unmount } = render(<MessageView message={message({ text: "Is it free?", llm_skip_reason: "outside_hours" })} />);
    expect(screen.getByRole("img", { name: /The AI did not answer: it came in during business hours/ })).toBeInTheDocument();
    unmount();
    render(<MessageView message={message({ text: "Hello?", llm_skip_reason: "switch_off" })} />);
    expect(screen.queryByRole("img", { name: /did not answer/ })).not.toBeInTheDocument();
    expect(screen.queryByTestId("ai-badge")).not.toBeInTheDocument();
  });
});

describe("the needs-human list", () => {
  it("takes a conversation when it is handed over and lets it go when it is handed back", () => {
    const qc = new QueryClient();
    const filters = { needs_human: true };
    qc.setQueryData<ConversationPages>(qk.conversations(filters), { pages: [{ next: null, previous: null, results: [] }], pageParams: [undefined] });
    const c = conversation({ needs_human: false });
    expect(matchesFilters(c, filters)).toBe(false);
    upsertConversation(qc, { ...c, needs_human: true, needs_human_reason: "Wants a discount" });
    const ids = () => qc.getQueryData<ConversationPages>(qk.conversations(filters))!.pages[0].results.map((r) => r.id);
    expect(ids()).toEqual([c.id]);
    upsertConversation(qc, { ...c, needs_human: false });
    expect(ids()).toEqual([]);
  });
});

describe("the handed-over banner", () => {
  let fetchMock: MockInstance<typeof fetch>;
  let answer: () => Response;
  beforeEach(() => {
    fetchMock = vi.spyOn(globalThis, "fetch").mockImplementation(async () => answer());
  });
  afterEach(() => fetchMock.mockRestore());

  function setup(c: Conversation) {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    qc.setQueryData(qk.conversation(c.id), { ...c, messages: [] });
    function Live() {
      // The cache's copy, as the thread reads it (the hand-back's answer and the socket both land there).
      const current = qc.getQueryData<Conversation>(qk.conversation(c.id)) ?? c;
      return <AssistantNotices conversation={current} error={null} />;
    }
    const view = render(
      <QueryClientProvider client={qc}>
        <Live />
      </QueryClientProvider>,
    );
    const rerender = () => view.rerender(
      <QueryClientProvider client={qc}>
        <Live />
      </QueryClientProvider>,
    );
    return { qc, rerender };
  }

  it("shows the reason and hands the conversation back to the AI", async () => {
    const c = conversation({ id: 77, needs_human: true, needs_human_reason: "The customer asks for a discount." });
    answer = () => new Response(JSON.stringify({ ...c, needs_human: false, needs_human_reason: "", ai_enabled: true }), { status: 200, headers: { "Content-Type": "application/json" } });
    const { qc, rerender } = setup(c);
    expect(screen.getByTestId("needs-human-banner")).toHaveTextContent("Needs a human. The customer asks for a discount.");
    await userEvent.setup().click(screen.getByRole("button", { name: "Hand back to AI" }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    const request = fetchMock.mock.calls[0][0] as Request;
    expect(request.method).toBe("POST");
    expect(request.url).toContain("/api/messages/conversations/77/hand-back-to-ai/");
    await waitFor(() => expect(qc.getQueryData<Conversation>(qk.conversation(77))?.ai_enabled).toBe(true));
    rerender();
    expect(screen.queryByTestId("needs-human-banner")).not.toBeInTheDocument();
  });

  it("keeps the banner and says why when the hand-back is refused", async () => {
    const c = conversation({ id: 78, needs_human: true, needs_human_reason: "" });
    answer = () => new Response(JSON.stringify({ detail: "Not found.", code: "not_found" }), { status: 404, headers: { "Content-Type": "application/json" } });
    const { rerender } = setup(c);
    expect(screen.getByTestId("needs-human-banner")).toHaveTextContent("The AI assistant handed this conversation over.");
    await userEvent.setup().click(screen.getByRole("button", { name: "Hand back to AI" }));
    await screen.findByText(/It could not be handed back: Not found\./);
    rerender();
    expect(screen.getByTestId("needs-human-banner")).toBeInTheDocument();
  });

  it("shows the pause after an agent replied, and takes it away by itself when it is over", () => {
    vi.useFakeTimers();
    try {
      const until = new Date(Date.now() + 60_000);
      setup(conversation({ ai_paused_until: until.toISOString() }));
      expect(screen.getByTestId("ai-paused")).toHaveTextContent(`AI paused until ${HHMM.format(until)} (an agent replied)`);
      act(() => vi.advanceTimersByTime(61_000));
      expect(screen.queryByTestId("ai-paused")).not.toBeInTheDocument();
    } finally {
      vi.useRealTimers();
    }
  });
});
