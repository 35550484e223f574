import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { cursorOf, listAccounts, listConversations, type ConversationFilters } from "../../api/endpoints";
import type { Conversation } from "../../api/types";
import { qk } from "../../state/keys";

export const PAGE_SIZE = 50;

export function useConversations(filters: ConversationFilters) {
  const query = useInfiniteQuery({
    queryKey: qk.conversations(filters),
    queryFn: ({ pageParam }) => listConversations(filters, pageParam, PAGE_SIZE),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => cursorOf(last.next),
    staleTime: 60_000,
  });
  const rows: Conversation[] = query.data?.pages.flatMap((page) => page.results) ?? [];
  return { ...query, rows };
}

export function useAccounts() {
  return useQuery({ queryKey: qk.accounts, queryFn: listAccounts, staleTime: 5 * 60_000 });
}
