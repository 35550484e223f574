import { QueryClient } from "@tanstack/react-query";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Paginated, Conversation, Message } from "../api/types";
import { conversation, message } from "../test/factories";
import { threadMessages, upsertConversation, type ConversationPages, type ThreadData } from "./cache";
import { resync } from "./events";
import { qk } from "./keys";
import { backoffDelay, LiveConnection } from "./live";

class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  ready() {
    this.readyState = 1;
    this.onmessage?.({ data: JSON.stringify({ type: "connection.ready", data: { user_id: 1 } }) });
  }
  emit(type: string, data: unknown) {
    this.onmessage?.({ data: JSON.stringify({ type, data }) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("backoff", () => {
  it("doubles from 1 s up to 30 s, with jitter", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 1)).toBe(1200);
  });
});

describe("LiveConnection", () => {
  beforeEach(() => {
    FakeSocket.instances = [];
    vi.useFakeTimers({ shouldAdvanceTime: true });
  });
  afterEach(() => vi.useRealTimers());

  function start() {
    const events: string[] = [];
    const resyncs: string[] = [];
    const statuses: string[] = [];
    const getToken = vi.fn(async () => "token-1");
    const live = new LiveConnection({
      getToken,
      onEvent: (e) => events.push(e.type),
      onResync: (since) => resyncs.push(since),
      onStatus: (s) => statuses.push(s),
      url: (t) => `ws://test/ws/messages/?token=${t}`,
      WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
      random: () => 0.5,
    });
    live.start();
    return { live, events, resyncs, statuses, getToken };
  }

  it("uses one socket, passes events on, reconnects with backoff and asks for a resync from the last sign of life", async () => {
    const { live, events, resyncs, statuses } = start();
    await flush();
    expect(FakeSocket.instances).toHaveLength(1);
    const first = FakeSocket.instances[0];
    expect(first.url).toBe("ws://test/ws/messages/?token=token-1");
    first.ready();
    expect(live.status).toBe("online");
    first.emit("message.created", message());
    expect(events).toEqual(["message.created"]);
    expect(resyncs).toEqual([]); // the first connection needs no resync

    const aliveAt = Date.now();
    first.drop();
    expect(live.status).toBe("offline");
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.instances).toHaveLength(1); // waits 1 s before the first retry
    await vi.advanceTimersByTimeAsync(2);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.instances[1].drop(); // still down: the next wait is 2 s
    await vi.advanceTimersByTimeAsync(1500);
    expect(FakeSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(600);
    expect(FakeSocket.instances).toHaveLength(3);
    FakeSocket.instances[2].ready();
    expect(live.status).toBe("online");
    expect(resyncs).toHaveLength(1);
    expect(Math.abs(Date.parse(resyncs[0]) - aliveAt)).toBeLessThan(50);
    expect(statuses).toEqual(["connecting", "online", "offline", "online"]);
    live.stop();
  });

  it("answers 4401 with a fresh token and an immediate reconnect", async () => {
    const { live, getToken } = start();
    await flush();
    FakeSocket.instances[0].ready();
    FakeSocket.instances[0].drop(4401);
    await flush();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(FakeSocket.instances).toHaveLength(2);
    live.stop();
  });

  it("reconnects at once when the browser comes back online", async () => {
    const { live } = start();
    await flush();
    FakeSocket.instances[0].ready();
    FakeSocket.instances[0].drop();
    window.dispatchEvent(new Event("online"));
    await flush();
    expect(FakeSocket.instances).toHaveLength(2);
    live.stop();
  });

  it("closes a connection that stops answering pings", async () => {
    const { live } = start();
    await flush();
    const socket = FakeSocket.instances[0];
    socket.ready();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(socket.sent).toEqual([JSON.stringify({ type: "ping" })]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(socket.readyState).toBe(3);
    live.stop();
  });
});

describe("resync after a reconnect", () => {
  it("brings in conversations and messages that arrived while offline, without duplicates", async () => {
    const qc = new QueryClient();
    const old = conversation({ id: 1, last_message_at: "2026-01-01T09:00:00Z" });
    const other = conversation({ id: 2, last_message_at: "2026-01-01T08:00:00Z" });
    qc.setQueryData<ConversationPages>(qk.conversations({}), {
      pages: [{ next: null, previous: null, results: [old, other] }],
      pageParams: [undefined],
    });
    const seen = message({ id: 10, conversation: 2, timestamp: "2026-01-01T08:00:00Z" });
    qc.setQueryData<ThreadData>(qk.thread(2), { pages: [{ next: null, previous: null, results: [seen] }], pageParams: [undefined] });
    // An observer keeps the open thread's query alive, as the mounted Thread does.
    const unsubscribe = qc.getQueryCache().find({ queryKey: qk.thread(2) })!;
    vi.spyOn(unsubscribe, "getObserversCount").mockReturnValue(1);

    const missed = message({ id: 11, conversation: 2, text: "Are you there?", timestamp: "2026-01-01T10:05:00Z" });
    const changed = { ...other, last_message_at: missed.timestamp, unread_count: 1, last_message_preview: missed.text };
    const changedSince = vi.fn(async () => ({ conversations: [changed], complete: true }));
    const messages = vi.fn(async (): Promise<Paginated<Message>> => ({ next: null, previous: null, results: [missed, seen] }));

    await resync(qc, "2026-01-01T10:00:00Z", { changedSince, messages });

    expect(changedSince).toHaveBeenCalledWith("2026-01-01T09:59:55.000Z", { is_archived: false });
    const list = qc.getQueryData<ConversationPages>(qk.conversations({}))!.pages[0].results as Conversation[];
    expect(list.map((c) => c.id)).toEqual([2, 1]); // moved to the top
    expect(list[0].unread_count).toBe(1);
    const thread = threadMessages(qc.getQueryData(qk.thread(2)));
    expect(thread.map((m) => m.id)).toEqual([10, 11]);
  });

  it("after a gap too big to stitch, lists and threads load again from their first page only", async () => {
    const qc = new QueryClient();
    const page = (n: number, next: string | null) => ({ next, previous: null, results: [conversation({ id: 100 + n })] });
    qc.setQueryData<ConversationPages>(qk.conversations({}), {
      pages: [page(1, "c2"), page(2, "c3"), page(3, null)],
      pageParams: [undefined, "c2", "c3"],
    });
    const changedSince = vi.fn(async () => ({ conversations: [], complete: false }));
    const messages = vi.fn(async (): Promise<Paginated<Message>> => ({ next: null, previous: null, results: [] }));

    await resync(qc, "2026-01-01T10:00:00Z", { changedSince, messages });

    const list = qc.getQueryData<ConversationPages>(qk.conversations({}))!;
    expect(list.pages).toHaveLength(1);
    expect(list.pageParams).toEqual([undefined]);
    expect(qc.getQueryState(qk.conversations({}))?.isInvalidated).toBe(true);
  });

  it("a conversation that changed moves to where it belongs; pages without it keep their identity", () => {
    const qc = new QueryClient();
    const rows = (ids: number[], minutesAgo: number[]) =>
      ids.map((id, i) => conversation({ id, last_message_at: new Date(Date.UTC(2026, 0, 2) - minutesAgo[i] * 60000).toISOString() }));
    const data: ConversationPages = {
      pages: [
        { next: "c2", previous: null, results: rows([1, 2], [1, 2]) },
        { next: "c3", previous: null, results: rows([3, 4], [3, 4]) },
        { next: null, previous: null, results: rows([5, 6], [5, 6]) },
      ],
      pageParams: [undefined, "c2", "c3"],
    };
    qc.setQueryData(qk.conversations({}), data);
    const before = qc.getQueryData<ConversationPages>(qk.conversations({}))!;
    const moved = { ...before.pages[1].results[1], last_message_at: "2026-01-02T00:00:00Z" };
    upsertConversation(qc, moved);
    const after = qc.getQueryData<ConversationPages>(qk.conversations({}))!;
    expect(after.pages.map((p) => p.results.map((c) => c.id))).toEqual([[4, 1, 2], [3], [5, 6]]);
    expect(after.pages[2]).toBe(before.pages[2]);
  });
});
