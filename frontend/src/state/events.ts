// Server events → cache, and the resync after a reconnect.
import type { InfiniteData, QueryClient } from "@tanstack/react-query";
import { conversationsChangedSince } from "../api/adapters";
import { listMessages, type ConversationFilters } from "../api/endpoints";
import type { CardDisplay, ServerEvent } from "../api/types";
import { upsertConversation, upsertMessage, type ThreadData } from "./cache";
import { qk } from "./keys";

export function applyEvent(qc: QueryClient, event: ServerEvent): void {
  switch (event.type) {
    case "message.created":
    case "message.updated":
      upsertMessage(qc, event.data);
      return;
    case "conversation.updated":
      upsertConversation(qc, event.data);
      return;
    case "card.update": {
      const { listing_id, card, message } = event.data;
      qc.setQueryData<CardDisplay>(qk.card(listing_id), { has_card: Boolean(card), card: card ?? null, message } as CardDisplay);
      void qc.invalidateQueries({ queryKey: qk.listing(listing_id) });
      void qc.invalidateQueries({ queryKey: qk.listingImages(listing_id) });
      void qc.invalidateQueries({ queryKey: qk.allListings });
      return;
    }
    default:
      return;
  }
}

export type ResyncDeps = {
  changedSince: typeof conversationsChangedSince;
  messages: typeof listMessages;
};

const defaultResyncDeps: ResyncDeps = { changedSince: conversationsChangedSince, messages: listMessages };

/** Load a list or thread again from its first page only. Invalidating an infinite query refetches every page it
 * holds, one after the other — a hundred requests for an inbox scrolled to 10,000 rows; after a gap too big to
 * stitch, the newest page is what matters (older ones load again on scrolling). */
export function reloadFromFirstPage(qc: QueryClient, queryKey: readonly unknown[]): Promise<void> {
  for (const [key, data] of qc.getQueriesData<InfiniteData<unknown>>({ queryKey })) {
    if (data && data.pages.length > 1) qc.setQueryData(key, { pages: data.pages.slice(0, 1), pageParams: data.pageParams.slice(0, 1) });
  }
  return qc.invalidateQueries({ queryKey });
}

/** What happened while the socket was down: changed conversations go into every list, and each open thread gets its
 * newest messages again (new ones and changed statuses). Falls back to refetching when the gap is too big. */
export async function resync(qc: QueryClient, since: string, deps: ResyncDeps = defaultResyncDeps): Promise<void> {
  // A few seconds of overlap: events broadcast while the socket was closing are not lost.
  const from = new Date(Date.parse(since) - 5000).toISOString();
  const lists = qc.getQueriesData({ queryKey: qk.allConversations });
  const archived = lists.some(([key]) => Boolean((key[1] as ConversationFilters | undefined)?.is_archived));
  const tasks: Promise<unknown>[] = [];
  for (const is_archived of archived ? [false, true] : [false]) {
    tasks.push(
      deps.changedSince(from, { is_archived }).then(({ conversations, complete }) => {
        conversations.forEach((c) => upsertConversation(qc, c));
        if (!complete) return reloadFromFirstPage(qc, qk.allConversations);
      }),
    );
  }
  for (const query of qc.getQueryCache().findAll({ queryKey: qk.allThreads })) {
    const id = query.queryKey[1] as number;
    if (!query.getObserversCount()) {
      qc.removeQueries({ queryKey: query.queryKey, exact: true });
      continue;
    }
    tasks.push(
      deps.messages(id, undefined, 100).then((page) => {
        const known = qc.getQueryData<ThreadData>(qk.thread(id));
        const newest = known?.pages[0]?.results.find((m) => !m._pending);
        page.results
          .slice()
          .reverse()
          .forEach((m) => upsertMessage(qc, m));
        // More than a page arrived: the gap cannot be stitched, load the thread again.
        const oldestFetched = page.results[page.results.length - 1];
        if (page.next && newest && oldestFetched && oldestFetched.timestamp > newest.timestamp) {
          return reloadFromFirstPage(qc, qk.thread(id));
        }
      }),
    );
    void qc.invalidateQueries({ queryKey: qk.conversation(id) });
  }
  await Promise.allSettled(tasks);
}
