// How server events and answers are merged into the query cache: one place for the rules, shared by the WebSocket,
// optimistic sends, actions and resync.
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import type { ConversationFilters } from "../api/endpoints";
import type { Conversation, ConversationDetail, Message, Paginated } from "../api/types";
import { qk } from "./keys";

export type ThreadData = InfiniteData<Paginated<Message>, unknown>;
export type ConversationPages = InfiniteData<Paginated<Conversation>, unknown>;

/** A thread's messages oldest first (pages are newest first, as the API gives them). */
export function threadMessages(data: ThreadData | undefined): Message[] {
  if (!data) return [];
  const out: Message[] = [];
  for (let p = data.pages.length - 1; p >= 0; p--) {
    const results = data.pages[p].results;
    for (let i = results.length - 1; i >= 0; i--) out.push(results[i]);
  }
  return out;
}

function byNewest(a: Message, b: Message): number {
  return b.timestamp.localeCompare(a.timestamp) || b.id - a.id;
}

/** Does `incoming` (from the server) stand for the optimistic message `local`? By idempotency key, else by content:
 * a pending outbound message of the same kind and text (the server does not echo keys yet, BACKEND_NEEDS §1). */
export function sameMessage(local: Message, incoming: Message): boolean {
  if (local.id === incoming.id) return true;
  if (!local._pending) return false;
  if (local.client_key && incoming.client_key) return local.client_key === incoming.client_key;
  if (incoming.direction !== "outbound" || local.kind !== incoming.kind) return false;
  const a = (local.payload ?? {}) as Record<string, unknown>;
  const b = (incoming.payload ?? {}) as Record<string, unknown>;
  if (local.kind === "listing_card") return Number(a.listing_id) === Number(b.listing_id);
  if (a.template || b.template) {
    return (a.template as { name?: string } | undefined)?.name === (b.template as { name?: string } | undefined)?.name;
  }
  if (local.attachments.length || incoming.attachments.length) {
    return (local.attachments[0]?.filename ?? "") === (incoming.attachments[0]?.filename ?? "");
  }
  return (local.text ?? "").trim() === (incoming.text ?? "").trim();
}

/** Insert or replace a message in its thread. `fromSend`: the POST answer, which never overrides a newer state the
 * WebSocket already delivered. Returns whether the thread was cached. */
export function upsertMessage(qc: QueryClient, message: Message, options: { fromSend?: boolean } = {}): boolean {
  let cached = false;
  qc.setQueryData<ThreadData>(qk.thread(message.conversation), (data) => {
    if (!data) return data;
    cached = true;
    let replaced = false;
    const pages = data.pages.map((page) => {
      const results: Message[] = [];
      for (const existing of page.results) {
        if (!sameMessage(existing, message)) {
          results.push(existing);
          continue;
        }
        if (replaced) continue; // a second copy (the socket's and the answer's): keep one
        replaced = true;
        if (options.fromSend && !existing._pending) results.push(existing); // the WebSocket was first, and is newer
        else results.push({ ...message, client_key: message.client_key ?? existing.client_key });
      }
      return { ...page, results };
    });
    if (!replaced) {
      const first = pages[0] ?? { next: null, previous: null, results: [] };
      pages[0] = { ...first, results: [message, ...first.results].sort(byNewest) };
    }
    return { ...data, pages };
  });
  return cached;
}

export function removeMessage(qc: QueryClient, conversationId: number, id: number): void {
  qc.setQueryData<ThreadData>(qk.thread(conversationId), (data) =>
    data && { ...data, pages: data.pages.map((p) => ({ ...p, results: p.results.filter((m) => m.id !== id) })) },
  );
}

export function patchMessage(qc: QueryClient, conversationId: number, id: number, patch: Partial<Message>): void {
  qc.setQueryData<ThreadData>(qk.thread(conversationId), (data) =>
    data && {
      ...data,
      pages: data.pages.map((p) => ({ ...p, results: p.results.map((m) => (m.id === id ? { ...m, ...patch } : m)) })),
    },
  );
}

/** Whether a conversation belongs in a list with these filters (search is the server's: never inserted by us). */
export function matchesFilters(conversation: Conversation, filters: ConversationFilters): boolean {
  if (filters.platform && conversation.platform !== filters.platform) return false;
  if (filters.platform_account && conversation.platform_account.id !== filters.platform_account) return false;
  if (Boolean(filters.is_archived) !== conversation.is_archived) return false;
  if (filters.unread === true && conversation.unread_count === 0) return false;
  if (filters.unread === false && conversation.unread_count > 0) return false;
  if (filters.needs_human === true && !conversation.needs_human) return false;
  return true;
}

function byActivity(a: Conversation, b: Conversation): number {
  return b.last_message_at.localeCompare(a.last_message_at) || b.id - a.id;
}

/** Put a changed conversation where it now belongs in every cached list (most recent activity first), and in its
 * detail. A list that is filtered by search only gets rows it already had updated. */
export function upsertConversation(qc: QueryClient, conversation: Conversation): void {
  for (const [key, data] of qc.getQueriesData<ConversationPages>({ queryKey: qk.allConversations })) {
    if (!data) continue;
    const filters = (key[1] ?? {}) as ConversationFilters;
    const had = data.pages.some((p) => p.results.some((c) => c.id === conversation.id));
    const belongs = matchesFilters(conversation, filters) && (!filters.search || had);
    // Pages without it keep their identity: the cache's structural sharing then skips them instead of comparing
    // every loaded row (10,000 of them after a long scroll) on every conversation.updated event.
    let pages = data.pages.map((p) =>
      p.results.some((c) => c.id === conversation.id) ? { ...p, results: p.results.filter((c) => c.id !== conversation.id) } : p,
    );
    if (belongs) {
      // Into the first page whose last row is older (the list is ordered by activity). Older than every loaded row:
      // only when the list is fully loaded, otherwise it comes with a later page.
      let target = pages.findIndex((p) => p.results.length > 0 && byActivity(conversation, p.results[p.results.length - 1]) <= 0);
      if (target === -1) target = pages.length > 0 && !pages[pages.length - 1].next ? pages.length - 1 : -1;
      if (target >= 0) {
        pages = pages.map((p, i) => (i === target ? { ...p, results: [...p.results, conversation].sort(byActivity) } : p));
      }
    }
    qc.setQueryData<ConversationPages>(key, { ...data, pages });
  }
  qc.setQueryData<ConversationDetail>(qk.conversation(conversation.id), (detail) =>
    detail ? { ...detail, ...conversation } : detail,
  );
}

/** A conversation as the cache knows it (detail first, then any list). */
export function findConversation(qc: QueryClient, id: number): Conversation | undefined {
  const detail = qc.getQueryData<ConversationDetail>(qk.conversation(id));
  if (detail) return detail;
  for (const [, data] of qc.getQueriesData<ConversationPages>({ queryKey: qk.allConversations })) {
    const found = data?.pages.flatMap((p) => p.results).find((c) => c.id === id);
    if (found) return found;
  }
  return undefined;
}

/** The inbox's unread total as far as it is loaded (the unfiltered inbox list). */
export function loadedUnreadConversations(qc: QueryClient): number {
  const data = qc.getQueryData<ConversationPages>(qk.conversations({}));
  if (!data) return 0;
  return data.pages.reduce((sum, p) => sum + p.results.reduce((s, c) => s + (c.unread_count > 0 ? 1 : 0), 0), 0);
}
