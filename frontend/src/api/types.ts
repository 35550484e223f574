// Names for the generated OpenAPI types (src/api/schema.d.ts). The fields BACKEND_NEEDS.md asked for are in the
// schema now; they stay optional here because the app also builds these objects itself (optimistic messages, test
// data) and its adapters fall back when a field is absent (an older server).
import type { components } from "./schema";

type S = components["schemas"];
/** `T` with the keys `K` optional. */
type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

export type User = S["User"];
export type Organization = S["Organization"];
export type Profile = S["Profile"];
export type Role = S["RoleEnum"];
export type Member = S["Member"];
export type Invitation = S["Invitation"];
export type MyInvitation = S["MyInvitation"];
export type Contact = S["Contact"];
export type Attachment = S["Attachment"];
export type Reaction = S["Reaction"];
export type MessageKind = S["MessageKindEnum"];
export type MessageStatus = S["MessageStatusEnum"];
export type Platform = S["PlatformEnum"];
export type Provider = S["ProviderEnum"];
/** `webhook_url` (BACKEND_NEEDS §6): the callback URL to paste into Meta / Twilio; computed on the client when absent. */
export type PlatformAccount = Optional<S["PlatformAccount"], "webhook_url">;
export type SyncRun = S["SyncRun"];
export type Listing = S["Listing"];
export type ListingImage = S["ListingImage"];
export type ListingImages = S["ListingImages"];
export type Card = S["Card"];
export type CardDisplay = S["CardDisplay"];
export type ContactLink = S["ContactLink"];

/** Where a conversation stands in the platforms' reply windows (backend: inbox/outbound.py `Window`). */
export type WindowState = "open" | "human_agent" | "templates_only" | "closed";

/** `messaging_window`, `window_expires_at` (when that state changes by itself, ISO; null when it will not),
 * `last_inbound_at` (BACKEND_NEEDS §3) and `updated_at` (§2, for resync). */
type AddedConversationFields = "messaging_window" | "window_expires_at" | "last_inbound_at" | "updated_at";
export type Conversation = Optional<S["Conversation"], AddedConversationFields>;

export type ConversationDetail = Omit<S["ConversationDetail"], "messages" | AddedConversationFields> &
  Conversation & { messages: Message[] };

/** `client_key` (BACKEND_NEEDS §1): the idempotency key the send carried, echoed back (and in message.created). */
export type Message = Optional<S["Message"], "client_key"> & {
  /** Client only: an optimistic message not yet confirmed by the server. */
  _pending?: "sending" | "error";
  /** Client only: why the optimistic send failed (network, 409 …). */
  _error?: string;
};

export type Paginated<T> = { next: string | null; previous: string | null; results: T[] };
/** A page of the conversation list: `unread_conversations` is the inbox's total (BACKEND_NEEDS §7). */
export type ConversationPage = Paginated<Conversation> & { unread_conversations?: number };

export type TemplateComponent = { type: string; parameters?: { type: string; text?: string }[]; [key: string]: unknown };
export type TemplateSend = { name: string; language: string; components: TemplateComponent[] };

/** BACKEND_NEEDS §4: an approved WhatsApp template as the account's provider lists it (`body` with {{1}}, {{2}} …
 * placeholders, `parameter_count` of them). Templates this browser remembers may lack the descriptive fields. */
export type WhatsAppTemplate = Optional<S["WhatsAppTemplate"], "display_name" | "category" | "status">;

export type ApiErrorBody = { detail?: string; code?: string; errors?: Record<string, string[]>; [key: string]: unknown };

/** The WebSocket's frames (docs/api.md, Real time). */
export type CardUpdate = { listing_id: number; card: Card | null; message: string; conversation_id: number | null; message_id: number | null };
export type ServerEvent =
  | { type: "connection.ready"; data: { user_id: number } }
  | { type: "message.created"; data: Message }
  | { type: "message.updated"; data: Message }
  | { type: "conversation.updated"; data: Conversation }
  | { type: "card.update"; data: CardUpdate }
  | { type: "pong"; data: { ts: number } };
