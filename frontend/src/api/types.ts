// Names for the generated OpenAPI types (src/api/schema.d.ts), plus the few fields the app reads that the backend
// does not have yet (BACKEND_NEEDS.md). Those are optional here, so the app works with and without them.
import type { components } from "./schema";

type S = components["schemas"];

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
export type PlatformAccount = S["PlatformAccount"] & {
  /** BACKEND_NEEDS §6: the callback URL to paste into Meta / Twilio. Computed on the client when absent. */
  webhook_url?: string;
};
export type SyncRun = S["SyncRun"];
export type Listing = S["Listing"];
export type ListingImage = S["ListingImage"];
export type ListingImages = S["ListingImages"];
export type Card = S["Card"];
export type CardDisplay = S["CardDisplay"];
export type ContactLink = S["ContactLink"];

/** Where a conversation stands in the platforms' reply windows (backend: inbox/outbound.py `Window`). */
export type WindowState = "open" | "human_agent" | "templates_only" | "closed";

export type Conversation = S["Conversation"] & {
  /** BACKEND_NEEDS §3: the reply window, known before the agent types. */
  messaging_window?: WindowState;
  /** BACKEND_NEEDS §3: when the current window closes (ISO), null when it is closed. */
  window_expires_at?: string | null;
  last_inbound_at?: string | null;
  /** BACKEND_NEEDS §2: for resync. */
  updated_at?: string;
};

export type ConversationDetail = Omit<S["ConversationDetail"], "messages"> &
  Conversation & { messages: Message[] };

export type Message = S["Message"] & {
  /** BACKEND_NEEDS §1: the idempotency key the send carried, echoed back (and in message.created). */
  client_key?: string | null;
  /** Client only: an optimistic message not yet confirmed by the server. */
  _pending?: "sending" | "error";
  /** Client only: why the optimistic send failed (network, 409 …). */
  _error?: string;
};

export type Paginated<T> = { next: string | null; previous: string | null; results: T[] };

export type TemplateComponent = { type: string; parameters?: { type: string; text?: string }[]; [key: string]: unknown };
export type TemplateSend = { name: string; language: string; components: TemplateComponent[] };

/** BACKEND_NEEDS §4: an approved WhatsApp template as the account's provider lists it. */
export type WhatsAppTemplate = {
  name: string;
  language: string;
  category?: string;
  status?: string;
  /** The body text with {{1}}, {{2}} … placeholders. */
  body: string;
  /** How many body parameters it takes. */
  parameter_count: number;
};

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
