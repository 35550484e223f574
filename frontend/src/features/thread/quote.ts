// Replies: who a quoted message is from and the line shown for it, and the quoted message itself when it is older
// than what the thread has loaded (one GET of that message, cached).
import { useQuery } from "@tanstack/react-query";
import { getMessage } from "../../api/endpoints";
import type { Message } from "../../api/types";
import { qk } from "../../state/keys";

const KIND_LABEL: Record<string, string> = {
  image: "Photo",
  video: "Video",
  audio: "Audio",
  document: "Document",
  sticker: "Sticker",
  location: "Location",
  contacts: "Contact card",
  interactive: "Reply button",
  reaction: "Reaction",
  listing_card: "Listing card",
  unsupported: "Unsupported message",
  system: "System message",
};

/** The one line a quote shows: the text, else what kind of message it is. */
export function quoteText(message: Pick<Message, "text" | "kind" | "is_deleted">): string {
  if (message.is_deleted) return "Deleted message";
  const text = message.text.trim().replace(/\s+/g, " ");
  if (text) return text.length > 160 ? `${text.slice(0, 157)}…` : text;
  return KIND_LABEL[message.kind] ?? "Message";
}

/** The agent who sent a message, as the thread names them ("You" for oneself). */
export function agentName(sentBy: NonNullable<Message["sent_by"]>, meId?: number): string {
  return sentBy.id === meId ? "You" : sentBy.full_name || sentBy.email;
}

/** Who wrote a quoted message, as the thread names people. */
export function quoteAuthor(message: Pick<Message, "direction" | "sent_by">, contactName: string, meId?: number): string {
  if (message.direction === "inbound") return contactName;
  if (message.sent_by) return agentName(message.sent_by, meId);
  return "Business";
}

/** Can the agent reply to this message (quote it)? Only messages the server stored, and that say something. */
export function canQuote(message: Message): boolean {
  return message.id > 0 && !message._pending && !message.is_deleted && message.kind !== "system" && message.kind !== "reaction";
}

/** The quoted message: from the loaded thread when it is there, otherwise fetched once. */
export function useQuoted(id: number | null, loaded: Message | null | undefined): Message | null {
  const query = useQuery({
    queryKey: qk.message(id ?? 0),
    queryFn: () => getMessage(id!),
    enabled: id !== null && id > 0 && !loaded,
    staleTime: 10 * 60_000,
    retry: false,
  });
  return loaded ?? query.data ?? null;
}
