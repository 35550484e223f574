import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { AuthProvider } from "../../app/auth";
import { conversation } from "../../test/factories";
import { Composer } from "./Composer";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

let fetchMock: MockInstance<typeof fetch>;
let suggestion: () => Response;
/** When set, the suggestion's answer waits until it resolves (to see the loading state). */
let gate: Promise<void> | null;
beforeEach(() => {
  gate = null;
  fetchMock = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const request = input as Request;
    if (request.url.includes("/suggest-reply/")) {
      if (gate) await gate;
      return suggestion();
    }
    if (request.url.includes("/api/listings/5/")) return json({ id: 5, title: "12 Oak Street" });
    return json({ detail: "unexpected" }, 500);
  });
});
afterEach(() => fetchMock.mockRestore());

function setup() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(["thread", 42], { pages: [{ next: null, previous: null, results: [] }], pageParams: [undefined] });
  render(
    <QueryClientProvider client={qc}>
      <AuthProvider>
        <Composer conversation={conversation({ id: 42 })} provider="meta" window="open" />
      </AuthProvider>
    </QueryClientProvider>,
  );
}

const posts = () => fetchMock.mock.calls.map(([input]) => input as Request).filter((r) => r.method === "POST");

describe("suggest reply", () => {
  it("puts the assistant's draft in the composer to edit, offers its listing cards, and sends nothing", async () => {
    const user = userEvent.setup();
    suggestion = () => json({ text: "Yes, 12 Oak Street is still available. Shall I book a viewing?", listing_ids: [5], tools_used: ["search_listings"] });
    setup();
    await user.click(screen.getByRole("button", { name: "Suggest reply" }));
    const box = screen.getByLabelText("Message");
    await waitFor(() => expect(box).toHaveValue("Yes, 12 Oak Street is still available. Shall I book a viewing?"));
    expect(await screen.findByRole("button", { name: "Send “12 Oak Street”" })).toBeInTheDocument();
    await user.type(box, " Tomorrow at 10?");
    expect(box).toHaveValue("Yes, 12 Oak Street is still available. Shall I book a viewing? Tomorrow at 10?");
    expect(posts().map((r) => new URL(r.url).pathname)).toEqual(["/api/messages/conversations/42/suggest-reply/"]);
  });

  it("shows that it is drafting, and the backend's sentence when the assistant is not configured (409)", async () => {
    const user = userEvent.setup();
    suggestion = () => json({ detail: "The AI assistant is not set up for this organization.", code: "assistant_not_configured" }, 409);
    let open = () => {};
    gate = new Promise<void>((resolve) => (open = resolve));
    setup();
    await user.type(screen.getByLabelText("Message"), "My own draft");
    await user.click(screen.getByRole("button", { name: "Suggest reply" }));
    expect(await screen.findByText("The assistant is drafting a reply…")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Suggest reply" })).toBeDisabled();
    open();
    expect(await screen.findByRole("alert")).toHaveTextContent("The AI assistant is not set up for this organization.");
    expect(screen.getByLabelText("Message")).toHaveValue("My own draft");
    expect(screen.getByRole("button", { name: "Suggest reply" })).toBeEnabled();
    expect(screen.queryByText("The assistant is drafting a reply…")).not.toBeInTheDocument();
  });
});
