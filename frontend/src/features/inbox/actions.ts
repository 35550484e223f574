import { useMutation, useQueryClient } from "@tanstack/react-query";
import { markRead, markUnread } from "../../api/adapters";
import { archiveConversation, setAiEnabled, unarchiveConversation } from "../../api/endpoints";
import type { Conversation } from "../../api/types";
import { findConversation, upsertConversation } from "../../state/cache";

/** Conversation actions, applied to the cache at once and rolled back if the server refuses. */
export function useConversationActions() {
  const qc = useQueryClient();
  const optimistic = (run: (c: Conversation) => Promise<Conversation>, patch: (c: Conversation) => Partial<Conversation>) =>
    useMutationFor(qc, run, patch);
  return {
    archive: optimistic(
      (c) => archiveConversation(c.id),
      () => ({ is_archived: true, archived_at: new Date().toISOString() }),
    ),
    unarchive: optimistic(
      (c) => unarchiveConversation(c.id),
      () => ({ is_archived: false, archived_at: null, archived_by: null }),
    ),
    markRead: optimistic(markRead, () => ({ unread_count: 0 })),
    markUnread: optimistic(markUnread, (c) => ({ unread_count: Math.max(1, c.unread_count) })),
    setAi: (conversation: Conversation, enabled: boolean) =>
      aiMutation(qc, conversation, enabled),
  };
}

function useMutationFor(
  qc: ReturnType<typeof useQueryClient>,
  run: (c: Conversation) => Promise<Conversation>,
  patch: (c: Conversation) => Partial<Conversation>,
) {
  // eslint-disable-next-line react-hooks/rules-of-hooks
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
