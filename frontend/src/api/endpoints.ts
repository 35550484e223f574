// Every call the app makes that the current schema has, typed by src/api/schema.d.ts through openapi-fetch.
import { api, unwrap } from "./http";
import type {
  CardDisplay,
  ContactLink,
  Conversation,
  ConversationDetail,
  ConversationPage,
  Invitation,
  Listing,
  ListingImage,
  ListingImages,
  Member,
  Message,
  MyInvitation,
  Paginated,
  PlatformAccount,
  Platform,
  Profile,
  Role,
  SyncRun,
} from "./types";
import type { components } from "./schema";

type S = components["schemas"];

export type ConversationFilters = {
  platform?: Platform;
  platform_account?: number;
  unread?: boolean;
  is_archived?: boolean;
  /** Only conversations the AI assistant handed over to a person (or failed on). */
  needs_human?: boolean;
  search?: string;
};

/** The `cursor` query value of a `next` / `previous` link (the API gives absolute URLs). */
export function cursorOf(link: string | null): string | undefined {
  if (!link) return undefined;
  return new URL(link, "http://x").searchParams.get("cursor") ?? undefined;
}

// --- auth ------------------------------------------------------------------------------------------------------------
export const login = (body: S["LoginRequest"]) => unwrap(api.POST("/api/accounts/login/", { body }));
export const register = (body: S["RegisterRequest"]) => unwrap(api.POST("/api/accounts/register/", { body }));
export const logout = (refresh: string) => unwrap(api.POST("/api/accounts/logout/", { body: { refresh } }));
export const passwordSet = (body: S["PasswordSetRequest"]) => unwrap(api.POST("/api/accounts/password/set/", { body }));
export const getMe = () => unwrap(api.GET("/api/accounts/me/")) as Promise<Profile>;
export const updateMe = (full_name: string) => unwrap(api.PATCH("/api/accounts/me/", { body: { full_name } }));
export const acceptMyInvitation = (id: number) =>
  unwrap(api.POST("/api/accounts/me/invitations/{id}/accept/", { params: { path: { id } } }));
export const declineMyInvitation = (id: number) =>
  unwrap(api.POST("/api/accounts/me/invitations/{id}/decline/", { params: { path: { id } } }));
export type { MyInvitation };

// --- members and invitations -----------------------------------------------------------------------------------------
export const listMembers = () => unwrap(api.GET("/api/accounts/members/")) as Promise<Member[]>;
export const updateMember = (id: number, role: Role) =>
  unwrap(api.PATCH("/api/accounts/members/{id}/", { params: { path: { id } }, body: { role } }));
export const removeMember = (id: number) =>
  unwrap(api.DELETE("/api/accounts/members/{id}/", { params: { path: { id } } }));
export const listInvitations = () => unwrap(api.GET("/api/accounts/invitations/")) as Promise<Invitation[]>;
export const createInvitation = (email: string, role: Role) =>
  unwrap(api.POST("/api/accounts/invitations/", { body: { email, role } }));
export const revokeInvitation = (id: number) =>
  unwrap(api.POST("/api/accounts/invitations/{id}/revoke/", { params: { path: { id } } }));
export const resendInvitation = (id: number) =>
  unwrap(api.POST("/api/accounts/invitations/{id}/resend/", { params: { path: { id } } }));

// --- conversations and messages --------------------------------------------------------------------------------------
export async function listConversations(
  filters: ConversationFilters,
  cursor?: string,
  pageSize = 50,
): Promise<ConversationPage> {
  const query = { ...filters, cursor, page_size: pageSize };
  return unwrap(api.GET("/api/messages/conversations/", { params: { query } })) as Promise<ConversationPage>;
}

export const getConversation = (id: number, messagesLimit = 1) =>
  unwrap(
    api.GET("/api/messages/conversations/{id}/", {
      params: { path: { id }, query: { messages_limit: messagesLimit } as never },
    }),
  ) as Promise<ConversationDetail>;

export async function listMessages(conversation: number, cursor?: string, pageSize = 50): Promise<Paginated<Message>> {
  return unwrap(
    api.GET("/api/messages/messages/", { params: { query: { conversation, cursor, page_size: pageSize } } }),
  ) as Promise<Paginated<Message>>;
}

export const archiveConversation = (id: number) =>
  unwrap(api.POST("/api/messages/conversations/{id}/archive/", { params: { path: { id } } })) as Promise<Conversation>;
export const unarchiveConversation = (id: number) =>
  unwrap(api.POST("/api/messages/conversations/{id}/unarchive/", { params: { path: { id } } })) as Promise<Conversation>;
export const markAllRead = (id: number) =>
  unwrap(api.POST("/api/messages/conversations/{id}/mark-all-read/", { params: { path: { id } } })) as Promise<Conversation>;
/** The conversation's AI switch (the assistant answers only when it is on and the contact is trusted). */
export const toggleAi = (id: number, enabled: boolean) =>
  unwrap(
    api.POST("/api/messages/conversations/{id}/toggle-ai/", { params: { path: { id } }, body: { enabled } }),
  ) as Promise<Conversation>;
/** Trust the conversation's contact or stop trusting them (every conversation of the contact is broadcast). */
export const toggleTrusted = (id: number, trusted: boolean) =>
  unwrap(
    api.POST("/api/messages/conversations/{id}/toggle-trusted/", { params: { path: { id } }, body: { trusted } }),
  ) as Promise<Conversation>;
export const getMessage = (id: number) =>
  unwrap(api.GET("/api/messages/messages/{id}/", { params: { path: { id } } })) as Promise<Message>;
export const retryMessage = (id: number) =>
  unwrap(api.POST("/api/messages/messages/{id}/retry/", { params: { path: { id } } })) as Promise<Message>;

// --- platform accounts -----------------------------------------------------------------------------------------------
export const listAccounts = () => unwrap(api.GET("/api/platforms/accounts/")) as Promise<PlatformAccount[]>;
export const createAccount = (body: S["PlatformAccountCreateRequest"]) =>
  unwrap(api.POST("/api/platforms/accounts/", { body })) as Promise<PlatformAccount>;
export const updateAccount = (id: number, body: S["PatchedPlatformAccountUpdateRequest"]) =>
  unwrap(api.PATCH("/api/platforms/accounts/{id}/", { params: { path: { id } }, body })) as Promise<PlatformAccount>;
export const disconnectAccount = (id: number) =>
  unwrap(api.DELETE("/api/platforms/accounts/{id}/", { params: { path: { id } } }));
export const listSyncRuns = (id: number, limit = 5) =>
  unwrap(
    api.GET("/api/platforms/accounts/{id}/sync-runs/", { params: { path: { id }, query: { limit } } }),
  ) as Promise<SyncRun[]>;
export const syncAccount = (id: number) =>
  unwrap(api.POST("/api/platforms/accounts/{id}/sync/", { params: { path: { id } } })) as Promise<SyncRun>;

// --- listings --------------------------------------------------------------------------------------------------------
export const listListings = (search?: string) =>
  unwrap(api.GET("/api/listings/", { params: { query: { search, page_size: 200 } } })) as Promise<
    Paginated<Listing> & { count: number }
  >;
export const getListing = (id: number) =>
  unwrap(api.GET("/api/listings/{id}/", { params: { path: { id } } })) as Promise<Listing>;
export const createListing = (body: S["ListingWriteRequest"]) =>
  unwrap(api.POST("/api/listings/", { body })) as Promise<Listing>;
export const updateListing = (id: number, body: S["PatchedListingWriteRequest"]) =>
  unwrap(api.PATCH("/api/listings/{id}/", { params: { path: { id } }, body })) as Promise<Listing>;
export const deleteListing = (id: number) => unwrap(api.DELETE("/api/listings/{id}/", { params: { path: { id } } }));
export const listingImages = (id: number) =>
  unwrap(api.GET("/api/listings/{id}/images/", { params: { path: { id } } })) as Promise<ListingImages>;
export async function uploadListingImage(id: number, file: File, caption = ""): Promise<ListingImage> {
  const form = new FormData();
  form.append("file", file);
  form.append("caption", caption);
  return unwrap(
    api.POST("/api/listings/{id}/images/", {
      params: { path: { id } },
      body: form as never,
      bodySerializer: (body: unknown) => body as FormData,
    }),
  ) as Promise<ListingImage>;
}
export const reorderListingImages = (id: number, image_ids: number[]) =>
  unwrap(
    api.POST("/api/listings/{id}/images/reorder/", { params: { path: { id } }, body: { image_ids } }),
  ) as Promise<ListingImage[]>;
export const deleteListingImage = (id: number, imageId: number) =>
  unwrap(api.DELETE("/api/listings/{id}/images/{image_id}/", { params: { path: { id, image_id: imageId } } }));
export const listingCard = (id: number) =>
  unwrap(api.GET("/api/listings/{id}/card-display/", { params: { path: { id } } })) as Promise<CardDisplay>;
export const listingContacts = (id: number) =>
  unwrap(api.GET("/api/listings/{id}/contacts/", { params: { path: { id } } })) as Promise<ContactLink[]>;
export const linkListingContact = (id: number, body: { contact?: number; phone_number?: string }) =>
  unwrap(api.POST("/api/listings/{id}/contacts/", { params: { path: { id } }, body })) as Promise<ContactLink>;
export const unlinkListingContact = (id: number, linkId: number) =>
  unwrap(api.DELETE("/api/listings/{id}/contacts/{link_id}/", { params: { path: { id, link_id: linkId } } }));
