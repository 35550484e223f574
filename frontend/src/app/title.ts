import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { loadedUnreadConversations } from "../state/cache";
import { qk } from "../state/keys";

/** "(3) Switchboard": conversations with unread messages in the inbox, kept current from the query cache. */
export function unreadTitle(count: number): string {
  return count > 0 ? `(${count > 99 ? "99+" : count}) Switchboard` : "Switchboard";
}

export function useUnreadTitle(): void {
  const qc = useQueryClient();
  useEffect(() => {
    // The cache emits an event for every fetch, observer and state change; count again only when the inbox
    // list itself changed (counting walks every loaded conversation: 10,000 of them after a long scroll).
    let counted: unknown = null;
    const update = () => {
      const data = qc.getQueryData(qk.conversations({}));
      if (data === counted && counted !== null) return;
      counted = data ?? null;
      document.title = unreadTitle(loadedUnreadConversations(qc));
    };
    update();
    return qc.getQueryCache().subscribe(update);
  }, [qc]);
}
