import type { ConversationFilters } from "../api/endpoints";

export const qk = {
  me: ["me"] as const,
  conversations: (filters: ConversationFilters) => ["conversations", filters] as const,
  allConversations: ["conversations"] as const,
  conversation: (id: number) => ["conversation", id] as const,
  thread: (id: number) => ["thread", id] as const,
  allThreads: ["thread"] as const,
  message: (id: number) => ["message", id] as const,
  accounts: ["accounts"] as const,
  syncRuns: (id: number) => ["syncRuns", id] as const,
  listings: (search = "") => ["listings", search] as const,
  allListings: ["listings"] as const,
  listing: (id: number) => ["listing", id] as const,
  listingImages: (id: number) => ["listingImages", id] as const,
  listingContacts: (id: number) => ["listingContacts", id] as const,
  card: (listingId: number) => ["card", listingId] as const,
  members: ["members"] as const,
  invitations: ["invitations"] as const,
  templates: (accountId: number) => ["templates", accountId] as const,
};
