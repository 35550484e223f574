// What the thread shows of the AI assistant: the pause after an agent replied, why an inbound message was not
// answered, and the lead fields it (or an agent) filled in on the contact.
import { clockTime, dayKey, fullTime } from "../../lib/format";

/** "AI paused until 14:30 (an agent replied)" while `until` is in the future; null once it has passed. */
export function aiPausedLabel(until: string | null | undefined, now = Date.now()): string | null {
  if (!until) return null;
  const at = Date.parse(until);
  if (Number.isNaN(at) || at <= now) return null;
  const when = dayKey(new Date(at)) === dayKey(new Date(now)) ? clockTime(until) : fullTime(until);
  return `AI paused until ${when} (an agent replied)`;
}

const SKIP_REASONS: Record<string, string> = {
  assistant_inactive: "the assistant is switched off for the agency",
  switch_off: "the AI switch was off for this conversation",
  not_trusted: "the contact is not trusted",
  human_handling: "a person was handling the conversation",
  outside_hours: "it came in during business hours (the assistant answers outside them)",
  rate_limit: "the assistant reached its limit of replies per hour in this conversation",
  kind_not_answerable: "the assistant does not answer this kind of message",
  outside_window: "the platform's reply window was not open",
  provider_error: "the AI provider failed",
};

/** Reasons that say nothing an agent does not already see (the agency's assistant or this conversation's switch is
 * off): not marked on every message. */
const QUIET = new Set(["assistant_inactive", "switch_off"]);

/** Why the assistant did not answer an inbound message, as a sentence; null when there is nothing worth showing. */
export function skipReasonText(reason: string | null | undefined): string | null {
  if (!reason || QUIET.has(reason)) return null;
  return `The AI did not answer: ${SKIP_REASONS[reason] ?? reason.replace(/_/g, " ")}.`;
}

/** "move_in_date" → "Move in date". */
export function fieldLabel(key: string): string {
  const words = key.replace(/[_-]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}

function fieldValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  if (Array.isArray(value)) return value.map(fieldValue).filter(Boolean).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).trim();
}

/** The contact's lead fields (`contact.attributes`) to show, in the order given, empty ones left out. */
export function leadFields(attributes: unknown): { key: string; label: string; value: string }[] {
  if (!attributes || typeof attributes !== "object" || Array.isArray(attributes)) return [];
  return Object.entries(attributes as Record<string, unknown>)
    .map(([key, value]) => ({ key, label: fieldLabel(key), value: fieldValue(value) }))
    .filter((field) => field.value !== "");
}
