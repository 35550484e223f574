// The app's calls that need backend additions (BACKEND_NEEDS.md). Each one uses the addition when the generated
// schema has it (src/api/capabilities.ts) and otherwise does the best the current API allows — so the app works today
// and switches over as soon as `npm run api:generate` picks the addition up.
import { capabilities } from "./capabilities";
import { cursorOf, listConversations, markAllRead, type ConversationFilters } from "./endpoints";
import { ApiError, authFetch, NetworkError, request } from "./http";
import type {
  Conversation,
  Message,
  PlatformAccount,
  Provider,
  TemplateSend,
  WhatsAppTemplate,
  WindowState,
} from "./types";

// --- §1 sends with an idempotency key --------------------------------------------------------------------------------
export type SendInput =
  | { text: string; reply_to?: number }
  | { file: File; text?: string }
  | { listing_id: number }
  | { template: TemplateSend };

export function newIdempotencyKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** POST a message with `Idempotency-Key: <key>` (BACKEND_NEEDS §1): the same key sent twice gives the same message
 * (201 the first time, 200 with the stored message after), so a retry after a dropped connection can never create a
 * second one. The key also goes in the body as `client_key` (the server takes either; they must be equal). */
export async function sendMessage(conversationId: number, input: SendInput, key: string): Promise<Message> {
  const headers = new Headers({ "Idempotency-Key": key });
  let body: BodyInit;
  if ("file" in input) {
    const form = new FormData();
    form.append("file", input.file);
    if (input.text) form.append("text", input.text);
    form.append("client_key", key);
    body = form;
  } else {
    headers.set("Content-Type", "application/json");
    body = JSON.stringify({ ...input, client_key: key });
  }
  const response = await authFetch(`/api/messages/conversations/${conversationId}/messages/`, {
    method: "POST",
    headers,
    body,
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) throw new ApiError(response.status, data);
  return { ...(data as Message), client_key: (data as Message).client_key ?? key };
}

/** Whether a failure may be retried with the same key (nothing reached the server, or it failed mid-way). */
export function isRetryableSendError(error: unknown): boolean {
  if (error instanceof NetworkError) return true;
  return error instanceof ApiError && (error.status >= 500 || error.status === 429);
}

// --- §2 resync after a reconnect -------------------------------------------------------------------------------------
/** Conversations changed since `since` (ISO). With `updated_since` (BACKEND_NEEDS §2) the server says exactly which;
 * today it walks the activity-ordered list from the top until it passes `since`: every conversation with a new
 * message while we were away is in that prefix (archive changes by others are picked up at the next full load). */
export async function conversationsChangedSince(
  since: string,
  filters: ConversationFilters,
  maxPages = 10,
): Promise<{ conversations: Conversation[]; complete: boolean }> {
  const found: Conversation[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const query = capabilities.updatedSince ? { ...filters, updated_since: since } : filters;
    const result = await listConversations(query as ConversationFilters, cursor, 100);
    for (const conversation of result.results) {
      if (!capabilities.updatedSince && conversation.last_message_at < since) {
        return { conversations: found, complete: true };
      }
      found.push(conversation);
    }
    if (!result.next) return { conversations: found, complete: true };
    cursor = cursorOf(result.next);
  }
  return { conversations: found, complete: false };
}

// --- §3 the reply window ---------------------------------------------------------------------------------------------
const DAY = 24 * 3600 * 1000;

/** Where the conversation stands in the reply windows (backend inbox/outbound.py `messaging_window`). Uses the
 * server's `messaging_window` and `window_expires_at` (BACKEND_NEEDS §3) until that time passes — the server sends no
 * event when a window lapses — and otherwise computes it from `last_inbound_at`, or the newest inbound message loaded. */
export function windowState(
  conversation: Pick<Conversation, "platform" | "messaging_window" | "window_expires_at" | "last_inbound_at">,
  provider: Provider | undefined,
  messages: Pick<Message, "direction" | "timestamp">[],
  now = Date.now(),
): { state: WindowState; closesAt: number | null } {
  if (conversation.messaging_window) {
    const expires = conversation.window_expires_at ? Date.parse(conversation.window_expires_at) : NaN;
    if (Number.isNaN(expires)) return { state: conversation.messaging_window, closesAt: null };
    if (now < expires) return { state: conversation.messaging_window, closesAt: expires };
    // The state the server gave has ended since: work out the next one from the same last_inbound_at.
  }
  if (conversation.platform === "whatsapp" && provider === "bridge") return { state: "open", closesAt: null };
  let last = conversation.last_inbound_at ? Date.parse(conversation.last_inbound_at) : NaN;
  if (Number.isNaN(last)) {
    for (const message of messages) {
      if (message.direction !== "inbound") continue;
      const at = Date.parse(message.timestamp);
      if (Number.isNaN(last) || at > last) last = at;
    }
  }
  const age = Number.isNaN(last) ? Infinity : now - last;
  if (age <= DAY) return { state: "open", closesAt: last + DAY };
  if (conversation.platform === "whatsapp") return { state: "templates_only", closesAt: null };
  if (age <= 7 * DAY) return { state: "human_agent", closesAt: last + 7 * DAY };
  return { state: "closed", closesAt: null };
}

// --- §4 WhatsApp templates -------------------------------------------------------------------------------------------
const RECENT_TEMPLATES = "sb.recentTemplates";

/** The account's approved templates (BACKEND_NEEDS §4: `GET …/templates/`); the ones this browser sent before when
 * the server has no list to give — an older server, an account without templates (404), one that must be reconnected
 * or lacks its business account id (409), a platform that could not be read (502) — so the picker still works. */
export async function listTemplates(accountId: number): Promise<WhatsAppTemplate[]> {
  if (!capabilities.templates) return recentTemplates(accountId);
  try {
    const templates = await request<WhatsAppTemplate[]>(`/api/platforms/accounts/${accountId}/templates/`);
    return Array.isArray(templates) ? templates : recentTemplates(accountId);
  } catch (error) {
    if (error instanceof ApiError && [404, 409, 502].includes(error.status)) return recentTemplates(accountId);
    throw error;
  }
}

export function recentTemplates(accountId: number): WhatsAppTemplate[] {
  try {
    const all = JSON.parse(localStorage.getItem(RECENT_TEMPLATES) ?? "{}") as Record<string, WhatsAppTemplate[]>;
    return all[String(accountId)] ?? [];
  } catch {
    return [];
  }
}

export function rememberTemplate(accountId: number, template: WhatsAppTemplate): void {
  const all = JSON.parse(localStorage.getItem(RECENT_TEMPLATES) ?? "{}") as Record<string, WhatsAppTemplate[]>;
  const list = (all[String(accountId)] ?? []).filter((t) => !(t.name === template.name && t.language === template.language));
  all[String(accountId)] = [template, ...list].slice(0, 10);
  localStorage.setItem(RECENT_TEMPLATES, JSON.stringify(all));
}

/** The send body of a template with its body parameters filled in. */
export function templateSend(template: WhatsAppTemplate, values: string[]): TemplateSend {
  const parameters = values.slice(0, template.parameter_count).map((text) => ({ type: "text", text }));
  return {
    name: template.name,
    language: template.language,
    components: parameters.length ? [{ type: "body", parameters }] : [],
  };
}

// --- §5 mark unread --------------------------------------------------------------------------------------------------
const LOCAL_UNREAD = "sb.markedUnread";

export function locallyUnread(): Set<number> {
  try {
    return new Set(JSON.parse(localStorage.getItem(LOCAL_UNREAD) ?? "[]") as number[]);
  } catch {
    return new Set();
  }
}

function setLocallyUnread(id: number, unread: boolean): void {
  const ids = locallyUnread();
  if (unread) ids.add(id);
  else ids.delete(id);
  localStorage.setItem(LOCAL_UNREAD, JSON.stringify([...ids]));
}

/** Mark a conversation unread (BACKEND_NEEDS §5: `mark-unread/`); until the API has it, a mark kept in this browser
 * that the next read clears. */
export async function markUnread(conversation: Conversation): Promise<Conversation> {
  if (capabilities.markUnread) {
    return request<Conversation>(`/api/messages/conversations/${conversation.id}/mark-unread/`, { method: "POST" });
  }
  setLocallyUnread(conversation.id, true);
  return { ...conversation, unread_count: Math.max(1, conversation.unread_count) };
}

export async function markRead(conversation: Conversation): Promise<Conversation> {
  setLocallyUnread(conversation.id, false);
  return markAllRead(conversation.id);
}

// --- §6 platform accounts: webhook URL, verify token, connection test ------------------------------------------------
export function webhookUrl(account: Pick<PlatformAccount, "platform" | "provider" | "webhook_url">, origin = location.origin): string {
  if (account.webhook_url) return account.webhook_url;
  if (account.provider === "sandbox") return `${origin}/api/webhooks/sandbox/${account.platform}/`;
  if (account.provider === "twilio") return `${origin}/api/webhooks/twilio/`;
  if (account.provider === "bridge") return `${origin}/api/whatsapp/callback`;
  return `${origin}/api/webhooks/${account.platform}/`;
}

/** A verify token for Meta's webhook handshake, made here and shown once (the API never returns it). */
export function newVerifyToken(): string {
  const bytes = new Uint8Array(18);
  crypto.getRandomValues(bytes);
  return "sb_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export type ConnectionTest = { ok: boolean; detail: string };

/** Check an account's credentials (BACKEND_NEEDS §6 `test/`); until then a history sync, which checks them too. */
export async function testAccount(accountId: number): Promise<ConnectionTest> {
  if (capabilities.accountTest) {
    return request<ConnectionTest>(`/api/platforms/accounts/${accountId}/test/`, { method: "POST" });
  }
  try {
    await request(`/api/platforms/accounts/${accountId}/sync/`, { method: "POST" });
    return { ok: true, detail: "A sync started: its result below shows whether the credentials work." };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

/** Providers each platform can be connected through (backend platforms/services.py PROVIDERS_BY_PLATFORM + sandbox). */
export const PROVIDERS: Record<"whatsapp" | "messenger" | "instagram", Provider[]> = {
  whatsapp: ["meta", "twilio", "bridge", "sandbox"],
  messenger: ["meta", "sandbox"],
  instagram: ["meta", "sandbox"],
};
