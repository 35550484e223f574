import type { Conversation, Message } from "../api/types";

let id = 1000;
export function message(overrides: Partial<Message> = {}): Message {
  id += 1;
  return {
    id,
    conversation: 1,
    direction: "inbound",
    kind: "text",
    text: "Hello",
    payload: {},
    reply_to: null,
    reply_to_platform_id: null,
    platform_message_id: `wamid.${id}`,
    status: "received",
    error_code: "",
    error_message: "",
    error_detail: "",
    reactions: [],
    is_deleted: false,
    is_read: false,
    read_at: null,
    sent_by: null,
    sent_by_assistant: false,
    llm_processed: false,
    llm_skip_reason: "",
    timestamp: new Date(Date.UTC(2026, 0, 1, 10, 0, 0) + id * 1000).toISOString(),
    created_at: new Date().toISOString(),
    attachments: [],
    ...overrides,
  };
}

export function conversation(overrides: Partial<Conversation> = {}): Conversation {
  id += 1;
  return {
    id,
    platform: "whatsapp",
    platform_account: { id: 1, display_name: "Sales WhatsApp" },
    contact: { id, name: `Contact ${id}`, username: "", phone_number: "+15550100", profile_picture_url: null, external_id: `c${id}`, platform_ids: {}, is_trusted: false, attributes: {} },
    is_archived: false,
    archived_at: null,
    archived_by: null,
    ai_enabled: false,
    needs_human: false,
    needs_human_reason: "",
    ai_paused_until: null,
    sendable: ["text", "media", "listing_card", "template"],
    message_tag: null,
    last_message_at: new Date(Date.UTC(2026, 0, 1) + id * 60000).toISOString(),
    last_message_preview: "Hi",
    unread_count: 0,
    created_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}
