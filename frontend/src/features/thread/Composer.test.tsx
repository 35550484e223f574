import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { AuthProvider } from "../../app/auth";
import { conversation } from "../../test/factories";
import { Composer, countParams, readDraft } from "./Composer";

function setup(window: "open" | "templates_only" | "closed" = "open", platform: "whatsapp" | "messenger" = "whatsapp") {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const c = conversation({ id: 42, platform });
  qc.setQueryData(["thread", 42], { pages: [{ next: null, previous: null, results: [] }], pageParams: [undefined] });
  render(
    <QueryClientProvider client={qc}>
      <AuthProvider>
        <Composer conversation={c} provider="meta" window={window} />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return { qc, c };
}

let fetchMock: MockInstance<typeof fetch>;
beforeEach(() => {
  fetchMock = vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const request = input as Request;
    const body = request.method === "POST" ? await request.clone().text() : "";
    return new Response(JSON.stringify({ id: 900, conversation: 42, direction: "outbound", kind: "text", text: JSON.parse(body || "{}").text ?? "", payload: {}, status: "queued", reactions: [], attachments: [], timestamp: new Date().toISOString() }), {
      status: 201,
      headers: { "Content-Type": "application/json" },
    });
  });
});
afterEach(() => fetchMock.mockRestore());

describe("composer", () => {
  it("Enter sends (with an Idempotency-Key), Shift+Enter starts a new line", async () => {
    const user = userEvent.setup();
    setup();
    const box = screen.getByLabelText("Message");
    await user.type(box, "Line one{Shift>}{Enter}{/Shift}line two");
    expect(box).toHaveValue("Line one\nline two");
    expect(fetchMock).not.toHaveBeenCalled();
    await user.keyboard("{Enter}");
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    const request = fetchMock.mock.calls[0][0] as Request;
    expect(request.url).toContain("/api/messages/conversations/42/messages/");
    expect(request.headers.get("Idempotency-Key")).toMatch(/.{8,}/);
    expect(JSON.parse(await request.clone().text())).toMatchObject({ text: "Line one\nline two" });
    expect(box).toHaveValue("");
  });

  it("keeps the unsent draft in storage (it survives an expired session)", async () => {
    const user = userEvent.setup();
    setup();
    await user.type(screen.getByLabelText("Message"), "Half-written reply");
    expect(readDraft(42)).toBe("Half-written reply");
  });

  it("offers only templates when the WhatsApp 24-hour window is closed, before the agent types", async () => {
    const user = userEvent.setup();
    setup("templates_only");
    expect(screen.queryByLabelText("Message")).not.toBeInTheDocument();
    const picker = screen.getByTestId("template-picker");
    expect(picker).toHaveTextContent("24-hour window closed");
    await user.type(screen.getByPlaceholderText("viewing_follow_up"), "viewing_follow_up");
    await user.type(screen.getByPlaceholderText(/Hi \{\{1\}\}/), "Hi {{{{1}}, shall we book?");
    await user.type(screen.getByLabelText("{{1}}"), "Maya");
    expect(screen.getByLabelText("Preview")).toHaveTextContent("Hi Maya, shall we book?");
    await user.click(screen.getByRole("button", { name: "Send template" }));
    // The POST of the send (the picker may have asked for the account's templates first).
    const post = () => fetchMock.mock.calls.map(([input]) => input as Request).find((r) => r.method === "POST");
    await waitFor(() => expect(post()).toBeDefined());
    const body = JSON.parse(await post()!.clone().text());
    expect(body.template).toEqual({ name: "viewing_follow_up", language: "en_US", components: [{ type: "body", parameters: [{ type: "text", text: "Maya" }] }] });
  });

  it("says plainly when Messenger allows no reply", () => {
    setup("closed", "messenger");
    expect(screen.getByRole("status")).toHaveTextContent("more than 7 days ago");
  });

  it("counts template parameters", () => {
    expect(countParams("Hi {{1}}, see you {{2}} at {{3}}")).toBe(3);
    expect(countParams("No parameters")).toBe(0);
  });
});
