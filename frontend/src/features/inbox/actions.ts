import { useMutation, useQueryClient } from "@tanstack/react-query";
import { markRead, markUnread } from "../../api/adapters";
import { archiveConversation, setAiEnabled, unarchiveConversation } from "../../api/endpoints";
import type { Conversation } from "../../api/types";
import { findConversation, upsertConversation } from "../../state/cache";

/** Conversation actions, applied to the cache at once and rolled back if the server refuses. */
export function useConversationActions() {
  const qc = useQueryClient();
  const archive = useOptimisticAction(
    (c) => archiveConversation(c.id),
    () => ({ is_archived: true, archived_at: new Date().toISOString() }),
  );
  const unarchive = useOptimisticAction(
    (c) => unarchiveConversation(c.id),
    () => ({ is_archived: false, archived_at: null, archived_by: null }),
  );
  const read = useOptimisticAction(markRead, () => ({ unread_count: 0 }));
  const unread = useOptimisticAction(markUnread, (c) => ({ unread_count: Math.max(1, c.unread_count) }));
  return {
    archive,
    unarchive,
    markRead: read,
    markUnread: unread,
    setAi: (conversation: Conversation, enabled: boolean) => aiMutation(qc, conversation, enabled),
  };
}

function useOptimisticAction(
  run: (c: Conversation) => Promise<Conversation>,
  patch: (c: Conversation) => Partial<Conversation>,
) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: run,
    onMutate: (conversation: Conversation) => {
      const before = findConversation(qc, conversation.id) ?? conversation;
      upsertConversation(qc, { ...before, ...patch(before) });
      return { before };
    },
    onError: (_error, _conversation, context) => {
      if (context?.before) upsertConversation(qc, context.before);
    },
    onSuccess: (conversation) => upsertConversation(qc, conversation),
  });
}

async function aiMutation(qc: ReturnType<typeof useQueryClient>, conversation: Conversation, enabled: boolean) {
  const before = findConversation(qc, conversation.id) ?? conversation;
  upsertConversation(qc, { ...before, ai_enabled: enabled });
  try {
    upsertConversation(qc, await setAiEnabled(conversation.id, enabled));
  } catch (error) {
    upsertConversation(qc, before);
    throw error;
  }
}
