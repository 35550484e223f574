// Replying to one message: the action on a message (pointer and keyboard), the quote in the composer with its
// cancel button, the send carrying `reply_to`, and the sent message quoting the original.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import type { Message } from "../../api/types";
import { AuthProvider } from "../../app/auth";
import { threadMessages, type ThreadData } from "../../state/cache";
import { conversation, message } from "../../test/factories";
import { Composer } from "./Composer";
import { MessageView } from "./MessageView";
import { canQuote, quoteAuthor, quoteText } from "./quote";

function client() {
  return new QueryClient({ defaultOptions: { queries: { retry: false } } });
}

describe("the Reply action on a message", () => {
  it("is offered on stored messages, on click and with R while focus is in the message", async () => {
    const user = userEvent.setup();
    const onReply = vi.fn();
    const original = message({ id: 7, text: "Is the flat on Oak Street free?" });
    render(
      <QueryClientProvider client={client()}>
        <MessageView message={original} onReply={onReply} />
      </QueryClientProvider>,
    );
    const reply = screen.getByRole("button", { name: "Reply" });
    await user.click(reply);
    expect(onReply).toHaveBeenLastCalledWith(original);

    // Keyboard: Tab reaches the action (it shows on focus); R in the message replies too, and goes no further (the
    // inbox's own R only focuses the composer).
    const windowKeys = vi.fn();
    window.addEventListener("keydown", windowKeys);
    reply.focus();
    await user.keyboard("r");
    window.removeEventListener("keydown", windowKeys);
    expect(onReply).toHaveBeenCalledTimes(2);
    expect(windowKeys).not.toHaveBeenCalled();
  });

  it("is not offered on messages that cannot be quoted", () => {
    const onReply = vi.fn();
    const pending = message({ id: -5, direction: "outbound", status: "queued", _pending: "sending" });
    const cases = [pending, message({ kind: "system", text: "Number changed" }), message({ is_deleted: true }), message({ kind: "reaction", text: "👍" })];
    for (const m of cases) expect(canQuote(m)).toBe(false);
    render(
      <QueryClientProvider client={client()}>
        {cases.map((m) => (
          <MessageView key={m.id} message={m} onReply={onReply} />
        ))}
        <MessageView message={message({ text: "No action without a handler" })} />
      </QueryClientProvider>,
    );
    expect(screen.queryByRole("button", { name: "Reply" })).not.toBeInTheDocument();
  });

  it("a reply quotes the original with its author, and jumps to it", async () => {
    const user = userEvent.setup();
    const onJump = vi.fn();
    const original = message({ id: 11, text: "Can I visit on Saturday?" });
    const answer = message({ reply_to: 11, text: "Yes, 10:00 works.", direction: "outbound", status: "sent", sent_by: { id: 3, full_name: "Ana", email: "ana@x" } });
    render(
      <QueryClientProvider client={client()}>
        <MessageView message={answer} quoted={original} contactName="Maria Gonzalez" meId={3} onJump={onJump} />
      </QueryClientProvider>,
    );
    const quote = screen.getByText("Can I visit on Saturday?").closest("blockquote")!;
    expect(within(quote).getByText("Maria Gonzalez")).toBeInTheDocument();
    await user.click(within(quote).getByRole("button"));
    expect(onJump).toHaveBeenCalledWith(11);
    expect(quoteAuthor(answer, "Maria Gonzalez", 3)).toBe("You");
    expect(quoteText(message({ kind: "image", text: "" }))).toBe("Photo");
  });
});

describe("the composer replying to a message", () => {
  let fetchMock: MockInstance<typeof fetch>;
  beforeEach(() => {
    fetchMock = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      const request = input as Request;
      const body = request.method === "POST" ? JSON.parse((await request.clone().text()) || "{}") : {};
      const stored = message({ id: 950, conversation: 42, direction: "outbound", text: body.text ?? "", reply_to: body.reply_to ?? null, status: "queued", is_read: true });
      return new Response(JSON.stringify(stored), { status: 201, headers: { "Content-Type": "application/json" } });
    });
  });
  afterEach(() => fetchMock.mockRestore());

  function Harness({ original }: { original: Message }) {
    const [replyTo, setReplyTo] = useState<Message | null>(original);
    const c = conversation({ id: 42, contact: { id: 1, name: "Maria Gonzalez", username: "", phone_number: "+1", profile_picture_url: null, external_id: "1", platform_ids: {}, is_trusted: false, attributes: {} } });
    return (
      <>
        <button type="button" onClick={() => setReplyTo(original)}>
          Reply again
        </button>
        <Composer conversation={c} provider="sandbox" window="open" replyTo={replyTo} onCancelReply={() => setReplyTo(null)} />
      </>
    );
  }

  function setup(original: Message) {
    const qc = client();
    qc.setQueryData<ThreadData>(["thread", 42], { pages: [{ next: null, previous: null, results: [original] }], pageParams: [undefined] });
    render(
      <QueryClientProvider client={qc}>
        <AuthProvider>
          <Harness original={original} />
        </AuthProvider>
      </QueryClientProvider>,
    );
    return qc;
  }

  it("shows the quoted message with a cancel button, and Escape or the button cancels it", async () => {
    const user = userEvent.setup();
    setup(message({ id: 21, conversation: 42, text: "Is parking included?" }));
    const quote = screen.getByTestId("composer-reply");
    expect(quote).toHaveTextContent("Replying to Maria Gonzalez");
    expect(quote).toHaveTextContent("Is parking included?");
    await user.click(within(quote).getByRole("button", { name: "Cancel reply" }));
    expect(screen.queryByTestId("composer-reply")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Message")).toHaveFocus();

    await user.click(screen.getByRole("button", { name: "Reply again" }));
    expect(screen.getByTestId("composer-reply")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Message"), "draft{Escape}");
    expect(screen.queryByTestId("composer-reply")).not.toBeInTheDocument();
    expect(screen.getByLabelText("Message")).toHaveValue("draft");
  });

  it("sends `reply_to` with the text, shows the reply quoting at once, and clears the quote", async () => {
    const user = userEvent.setup();
    const original = message({ id: 21, conversation: 42, text: "Is parking included?" });
    const qc = setup(original);
    await user.type(screen.getByLabelText("Message"), "Yes, one space in the garage.{Enter}");

    // The optimistic copy (shown at once) already quotes the original…
    const optimistic = threadMessages(qc.getQueryData<ThreadData>(["thread", 42])).find((m) => m.text === "Yes, one space in the garage.");
    expect(optimistic?.reply_to).toBe(21);
    expect(screen.queryByTestId("composer-reply")).not.toBeInTheDocument();

    // …the POST carries the target…
    await waitFor(() => expect(fetchMock).toHaveBeenCalled());
    const post = fetchMock.mock.calls.map(([input]) => input as Request).find((r) => r.method === "POST")!;
    expect(post.url).toContain("/api/messages/conversations/42/messages/");
    expect(JSON.parse(await post.clone().text())).toMatchObject({ text: "Yes, one space in the garage.", reply_to: 21 });

    // …and the stored message renders quoting the original.
    await waitFor(() => expect(threadMessages(qc.getQueryData<ThreadData>(["thread", 42])).some((m) => m.id === 950)).toBe(true));
    const sent = threadMessages(qc.getQueryData<ThreadData>(["thread", 42])).find((m) => m.id === 950)!;
    expect(sent.reply_to).toBe(21);
    const view = render(
      <QueryClientProvider client={qc}>
        <MessageView message={sent} quoted={original} contactName="Maria Gonzalez" />
      </QueryClientProvider>,
    );
    expect(within(view.container).getByText("Is parking included?").closest("blockquote")).toHaveTextContent("Maria Gonzalez");
  });

  it("the next message after a reply goes without a quote", async () => {
    const user = userEvent.setup();
    setup(message({ id: 21, conversation: 42, text: "Is parking included?" }));
    await user.type(screen.getByLabelText("Message"), "First{Enter}");
    await act(async () => {
      fireEvent.change(screen.getByLabelText("Message"), { target: { value: "Second" } });
    });
    await user.keyboard("{Enter}");
    await waitFor(() => expect(fetchMock.mock.calls.filter(([i]) => (i as Request).method === "POST")).toHaveLength(2));
    const bodies = await Promise.all(
      fetchMock.mock.calls.map(([i]) => i as Request).filter((r) => r.method === "POST").map(async (r) => JSON.parse(await r.clone().text())),
    );
    expect(bodies[0]).toMatchObject({ text: "First", reply_to: 21 });
    expect(bodies[1].text).toBe("Second");
    expect(bodies[1].reply_to).toBeUndefined();
  });
});
