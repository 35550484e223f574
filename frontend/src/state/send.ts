// Optimistic sends. The message shows at once (marked sending) under a temporary id; the POST carries an idempotency
// key, and every retry — automatic after a dropped connection, or the agent's — reuses that key, so the server stores
// the message once however often the request reaches it.
import type { QueryClient } from "@tanstack/react-query";
import { isRetryableSendError, newIdempotencyKey, sendMessage, type SendInput } from "../api/adapters";
import { ApiError, NetworkError } from "../api/http";
import type { Attachment, Message, MessageKind, User } from "../api/types";
import { patchMessage, removeMessage, upsertMessage } from "./cache";

export type SendDeps = {
  send: (conversationId: number, input: SendInput, key: string) => Promise<Message>;
  /** Waits between attempts; resolves early when the browser comes back online. */
  wait: (ms: number) => Promise<void>;
  now: () => number;
};

export const defaultDeps: SendDeps = {
  send: sendMessage,
  wait: (ms) =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        window.removeEventListener("online", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      window.addEventListener("online", done);
    }),
  now: () => Date.now(),
};

export const RETRY_DELAYS = [1000, 2000, 4000, 8000];

let tempIds = 0;
/** Negative ids never collide with the server's. */
export function tempId(): number {
  tempIds += 1;
  return -(Date.now() * 100 + (tempIds % 100));
}

function kindOf(input: SendInput): MessageKind {
  if ("listing_id" in input) return "listing_card";
  if ("file" in input) {
    const family = input.file.type.split("/")[0];
    return family === "image" || family === "video" || family === "audio" ? family : "document";
  }
  return "text";
}

function previewAttachment(input: SendInput): Attachment[] {
  if (!("file" in input)) return [];
  const url = typeof URL.createObjectURL === "function" ? URL.createObjectURL(input.file) : null;
  return [
    {
      id: -1,
      kind: kindOf(input),
      mime_type: input.file.type,
      filename: input.file.name,
      caption: input.text ?? "",
      status: "stored",
      error: "",
      size: input.file.size,
      width: null,
      height: null,
      url,
      thumbnail_url: null,
      media_id: null,
      source_kind: "upload",
    },
  ];
}

export function optimisticMessage(
  conversationId: number,
  input: SendInput,
  key: string,
  by: User | null,
  now: number,
  label?: string,
): Message {
  const text =
    "text" in input && input.text ? input.text : "template" in input ? `Template ${input.template.name}` : (label ?? "");
  return {
    id: tempId(),
    conversation: conversationId,
    direction: "outbound",
    kind: kindOf(input),
    text,
    payload: "listing_id" in input ? { listing_id: input.listing_id } : "template" in input ? { template: input.template } : {},
    reply_to: "reply_to" in input ? (input.reply_to ?? null) : null,
    reply_to_platform_id: null,
    platform_message_id: null,
    status: "queued",
    error_code: "",
    error_message: "",
    error_detail: "",
    reactions: [],
    is_deleted: false,
    is_read: true,
    read_at: null,
    sent_by: by ? { id: by.id, full_name: by.full_name, email: by.email } : null,
    sent_by_assistant: false,
    llm_processed: false,
    llm_skip_reason: "",
    timestamp: new Date(now).toISOString(),
    created_at: new Date(now).toISOString(),
    attachments: previewAttachment(input),
    client_key: key,
    _pending: "sending",
  };
}

export type Outbox = Map<string, { conversationId: number; input: SendInput; tempId: number }>;
/** Sends not yet confirmed, by key: what "Retry" resends with the same key. */
export const outbox: Outbox = new Map();

export type SendOutcome =
  | { ok: true; message: Message }
  | { ok: false; error: unknown; retryable: boolean };

/** POST with the same key until it succeeds, a non-retryable error comes back, or the attempts run out. */
export async function deliver(
  conversationId: number,
  input: SendInput,
  key: string,
  deps: SendDeps = defaultDeps,
  delays: number[] = RETRY_DELAYS,
): Promise<SendOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { ok: true, message: await deps.send(conversationId, input, key) };
    } catch (error) {
      const retryable = isRetryableSendError(error);
      if (!retryable || attempt >= delays.length) return { ok: false, error, retryable };
      await deps.wait(delays[attempt]);
    }
  }
}

export function describeSendError(error: unknown): string {
  if (error instanceof NetworkError) return "Not sent: no connection. It will be sent with the same key when you retry.";
  if (error instanceof ApiError) {
    const fields = error.body.errors ? Object.values(error.body.errors).flat().join(" ") : "";
    return fields || error.message;
  }
  return error instanceof Error ? error.message : "Not sent.";
}

/** Show the message now, deliver it, and settle the optimistic copy. `key` is given again for a manual retry. */
export async function sendOptimistic(
  qc: QueryClient,
  options: { conversationId: number; input: SendInput; by: User | null; key?: string; label?: string },
  deps: SendDeps = defaultDeps,
  delays: number[] = RETRY_DELAYS,
): Promise<SendOutcome> {
  const { conversationId, input } = options;
  const key = options.key ?? newIdempotencyKey();
  const existing = outbox.get(key);
  let id: number;
  if (existing) {
    id = existing.tempId;
    patchMessage(qc, conversationId, id, { _pending: "sending", _error: undefined });
  } else {
    const message = optimisticMessage(conversationId, input, key, options.by, deps.now(), options.label);
    id = message.id;
    outbox.set(key, { conversationId, input, tempId: id });
    upsertMessage(qc, message);
  }
  const outcome = await deliver(conversationId, input, key, deps, delays);
  if (outcome.ok) {
    outbox.delete(key);
    upsertMessage(qc, { ...outcome.message, client_key: outcome.message.client_key ?? key }, { fromSend: true });
  } else {
    patchMessage(qc, conversationId, id, { _pending: "error", _error: describeSendError(outcome.error) });
  }
  return outcome;
}

/** The agent pressed Retry on an optimistic message that did not go out. */
export function retryOptimistic(qc: QueryClient, key: string, by: User | null, deps: SendDeps = defaultDeps) {
  const entry = outbox.get(key);
  if (!entry) return Promise.resolve(null);
  return sendOptimistic(qc, { conversationId: entry.conversationId, input: entry.input, by, key }, deps);
}

/** Drop an optimistic message that was refused (e.g. 409 outside the window) so it can be sent another way. */
export function discardOptimistic(qc: QueryClient, key: string): SendInput | null {
  const entry = outbox.get(key);
  if (!entry) return null;
  outbox.delete(key);
  removeMessage(qc, entry.conversationId, entry.tempId);
  return entry.input;
}
