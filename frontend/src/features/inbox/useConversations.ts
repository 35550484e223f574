import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { cursorOf, listAccounts, listConversations, type ConversationFilters } from "../../api/endpoints";
import type { Conversation } from "../../api/types";
import { qk } from "../../state/keys";

/** The API's largest page: loading 10,000 rows by scrolling takes 100 round trips instead of 200, and the first
 * page costs the server about the same as a page of 50 (docs/performance.md, "Web app"). */
export const PAGE_SIZE = 100;

export function useConversations(filters: ConversationFilters) {
  const query = useInfiniteQuery({
    queryKey: qk.conversations(filters),
    queryFn: ({ pageParam }) => listConversations(filters, pageParam, PAGE_SIZE),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => cursorOf(last.next),
    staleTime: 60_000,
    // The lists are kept current by the WebSocket and the resync after a reconnect. A stale list of one page is
    // fetched again when the inbox mounts; a long one is not — that would refetch every page it holds, one after
    // the other (a hundred requests at 10,000 rows).
    refetchOnMount: (query) => (query.state.data?.pages.length ?? 0) <= 1,
  });
  const data = query.data;
  const rows: Conversation[] = useMemo(() => data?.pages.flatMap((page) => page.results) ?? [], [data]);
  return { ...query, rows };
}

export function useAccounts() {
  return useQuery({ queryKey: qk.accounts, queryFn: listAccounts, staleTime: 5 * 60_000 });
}
