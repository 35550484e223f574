import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it, vi } from "vitest";
import type { SendInput } from "../api/adapters";
import { ApiError, NetworkError } from "../api/http";
import type { Message } from "../api/types";
import { message } from "../test/factories";
import { threadMessages, upsertMessage, type ThreadData } from "./cache";
import { applyEvent } from "./events";
import { qk } from "./keys";
import { outbox, retryOptimistic, sendOptimistic, type SendDeps } from "./send";

const me = { id: 7, email: "agent@example.com", full_name: "Agent", date_joined: "2026-01-01T00:00:00Z" };

function threadCache(conversationId = 1, initial: Message[] = []) {
  const qc = new QueryClient();
  qc.setQueryData<ThreadData>(qk.thread(conversationId), {
    pages: [{ next: null, previous: null, results: [...initial].reverse() }],
    pageParams: [undefined],
  });
  return qc;
}

/** A server that dedupes on the idempotency key, as BACKEND_NEEDS §1 asks: the same key is one message. */
function dedupingServer() {
  const stored = new Map<string, Message>();
  let nextId = 500;
  const calls: string[] = [];
  return {
    calls,
    stored,
    store(conversationId: number, input: SendInput, key: string): Message {
      calls.push(key);
      const existing = stored.get(key);
      if (existing) return existing;
      nextId += 1;
      const created = message({
        id: nextId,
        conversation: conversationId,
        direction: "outbound",
        status: "queued",
        text: "text" in input ? (input.text ?? "") : "",
        client_key: key,
        sent_by: { id: me.id, full_name: me.full_name, email: me.email },
      });
      stored.set(key, created);
      return created;
    },
  };
}

const noWait: Pick<SendDeps, "wait" | "now"> = { wait: () => Promise.resolve(), now: () => Date.UTC(2026, 0, 2) };

describe("optimistic send", () => {
  it("shows the message at once, marked sending, then replaces it with the server's", async () => {
    const qc = threadCache();
    const server = dedupingServer();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const deps: SendDeps = { ...noWait, send: async (c, input, key) => (await gate, server.store(c, input, key)) };

    const sending = sendOptimistic(qc, { conversationId: 1, input: { text: "Monday at 10" }, by: me }, deps);
    const pending = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ text: "Monday at 10", _pending: "sending", direction: "outbound" });
    expect(pending[0].id).toBeLessThan(0);

    release();
    const outcome = await sending;
    expect(outcome.ok).toBe(true);
    const settled = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ id: 501, status: "queued" });
    expect(settled[0]._pending).toBeUndefined();
  });

  it("retries a dropped connection with the same idempotency key: one message on the server", async () => {
    const qc = threadCache();
    const server = dedupingServer();
    let attempt = 0;
    const deps: SendDeps = {
      ...noWait,
      send: async (c, input, key) => {
        attempt += 1;
        const stored = server.store(c, input, key); // the request reached the server…
        if (attempt < 3) throw new NetworkError("connection reset"); // …but the answer was lost
        return stored;
      },
    };
    const outcome = await sendOptimistic(qc, { conversationId: 1, input: { text: "Are you free?" }, by: me }, deps, [1, 1, 1]);
    expect(outcome.ok).toBe(true);
    expect(server.calls).toHaveLength(3);
    expect(new Set(server.calls).size).toBe(1); // every attempt carried the same key
    expect(server.stored.size).toBe(1);
    expect(threadMessages(qc.getQueryData(qk.thread(1)))).toHaveLength(1);
  });

  it("keeps the failed copy with its reason, and Retry resends it under the same key", async () => {
    const qc = threadCache();
    const server = dedupingServer();
    let online = false;
    const deps: SendDeps = {
      ...noWait,
      send: async (c, input, key) => {
        if (!online) throw new NetworkError("offline");
        return server.store(c, input, key);
      },
    };
    const first = await sendOptimistic(qc, { conversationId: 1, input: { text: "Hello?" }, by: me }, deps, [1]);
    expect(first.ok).toBe(false);
    const [failed] = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(failed._pending).toBe("error");
    expect(failed._error).toMatch(/no connection/i);
    const key = failed.client_key!;
    expect(outbox.has(key)).toBe(true);

    online = true;
    await retryOptimistic(qc, key, me, deps);
    const messages = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ id: 501, client_key: key });
    expect(server.calls).toEqual([key]);
    expect(outbox.has(key)).toBe(false);
  });

  it("does not retry a refusal (409 outside the window) and says why", async () => {
    const qc = threadCache();
    const send = vi.fn(async () => {
      throw new ApiError(409, { detail: "Send a template.", code: "outside_customer_service_window", templates_required: true });
    });
    const outcome = await sendOptimistic(qc, { conversationId: 1, input: { text: "late" }, by: me }, { ...noWait, send });
    expect(send).toHaveBeenCalledTimes(1);
    expect(outcome.ok).toBe(false);
    expect(threadMessages(qc.getQueryData(qk.thread(1)))[0]._error).toBe("Send a template.");
  });

  it("never shows a message twice when the WebSocket's message.created comes before the POST answer", async () => {
    const qc = threadCache();
    const server = dedupingServer();
    const deps: SendDeps = {
      ...noWait,
      send: async (c, input, key) => {
        const stored = server.store(c, input, key);
        // The broadcast arrives first — without the key, as today's serializer sends it.
        applyEvent(qc, { type: "message.created", data: { ...stored, client_key: undefined } });
        applyEvent(qc, { type: "message.updated", data: { ...stored, client_key: undefined, status: "sent" } });
        return stored;
      },
    };
    await sendOptimistic(qc, { conversationId: 1, input: { text: "Twice?" }, by: me }, deps);
    const messages = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(messages).toHaveLength(1);
    // The POST answer (queued) does not override the newer state the socket delivered.
    expect(messages[0].status).toBe("sent");
  });

  it("status updates never duplicate and apply to the stored message", () => {
    const sent = message({ id: 9, direction: "outbound", status: "sent" });
    const qc = threadCache(1, [sent]);
    upsertMessage(qc, { ...sent, status: "delivered" });
    upsertMessage(qc, { ...sent, status: "read" });
    const messages = threadMessages(qc.getQueryData(qk.thread(1)));
    expect(messages).toHaveLength(1);
    expect(messages[0].status).toBe("read");
  });
});
