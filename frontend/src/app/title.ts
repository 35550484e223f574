import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { loadedUnreadConversations } from "../state/cache";

/** "(3) Switchboard": conversations with unread messages in the inbox, kept current from the query cache. */
export function unreadTitle(count: number): string {
  return count > 0 ? `(${count > 99 ? "99+" : count}) Switchboard` : "Switchboard";
}

export function useUnreadTitle(): void {
  const qc = useQueryClient();
  useEffect(() => {
    const update = () => {
      document.title = unreadTitle(loadedUnreadConversations(qc));
    };
    update();
    return qc.getQueryCache().subscribe(update);
  }, [qc]);
}
