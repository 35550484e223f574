import { useMutation, useQueryClient } from "@tanstack/react-query";
import { markRead, markUnread } from "../../api/adapters";
import { handBackToAi } from "../../api/assistant";
import { archiveConversation, toggleAi, toggleTrusted, unarchiveConversation } from "../../api/endpoints";
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
    /** Each resolves when the server has the change and rejects (after rolling the cache back) when it refused. */
    setAi: (conversation: Conversation, enabled: boolean) =>
      optimistic(qc, conversation, (c) => ({ ...c, ai_enabled: enabled }), () => toggleAi(conversation.id, enabled)),
    setTrusted: (conversation: Conversation, trusted: boolean) =>
      optimistic(
        qc,
        conversation,
        (c) => ({ ...c, contact: { ...c.contact, is_trusted: trusted } }),
        () => toggleTrusted(conversation.id, trusted),
      ),
    handBack: (conversation: Conversation) =>
      optimistic(
        qc,
        conversation,
        (c) => ({ ...c, needs_human: false, needs_human_reason: "", ai_paused_until: null, ai_enabled: true }),
        () => handBackToAi(conversation.id),
      ),
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

async function optimistic(
  qc: ReturnType<typeof useQueryClient>,
  conversation: Conversation,
  change: (c: Conversation) => Conversation,
  run: () => Promise<Conversation>,
): Promise<void> {
  const before = findConversation(qc, conversation.id) ?? conversation;
  upsertConversation(qc, change(before));
  try {
    upsertConversation(qc, await run());
  } catch (error) {
    upsertConversation(qc, before);
    throw error;
  }
}
