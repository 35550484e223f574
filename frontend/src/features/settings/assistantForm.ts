// The assistant settings form ↔ the API: numbers as typed (a value out of range reaches the server, whose sentence
// comes back by the field), business hours as rows per weekday, lead fields as one line.
import {
  WEEKDAYS,
  type AnswerWhen,
  type AssistantProvider,
  type AssistantSettings,
  type AssistantSettingsWrite,
  type BusinessHours,
  type Weekday,
} from "../../api/assistant";
import { ApiError } from "../../api/http";

export type HoursRange = { start: string; end: string };

export type AssistantForm = {
  is_active: boolean;
  provider: AssistantProvider;
  base_url: string;
  model: string;
  /** A new key; blank keeps the stored one. */
  api_key: string;
  /** Forget the stored key (ignored when a new one is typed). */
  clear_api_key: boolean;
  temperature: string;
  max_tokens: string;
  system_prompt: string;
  guardrails: string;
  context_size: string;
  answer_when: AnswerWhen;
  hours: Record<Weekday, HoursRange[]>;
  time_zone: string;
  reply_delay_seconds: string;
  failure_message: string;
  failure_message_enabled: boolean;
  ai_on_for_trusted: boolean;
  /** Comma-separated identifiers. */
  lead_fields: string;
};

export const WEEKDAY_LABEL: Record<Weekday, string> = {
  mon: "Monday",
  tue: "Tuesday",
  wed: "Wednesday",
  thu: "Thursday",
  fri: "Friday",
  sat: "Saturday",
  sun: "Sunday",
};

export const DEFAULT_RANGE: HoursRange = { start: "09:00", end: "18:00" };

function text(value: unknown): string {
  return value === null || value === undefined ? "" : String(value);
}

export function toForm(settings: AssistantSettings): AssistantForm {
  const hours = {} as Record<Weekday, HoursRange[]>;
  for (const day of WEEKDAYS) {
    const ranges = settings.business_hours?.[day] ?? [];
    hours[day] = ranges.filter((r) => Array.isArray(r) && r.length >= 2).map(([start, end]) => ({ start, end }));
  }
  return {
    is_active: settings.is_active,
    provider: settings.provider === "anthropic" ? "anthropic" : "openai",
    base_url: text(settings.base_url),
    model: text(settings.model),
    api_key: "",
    clear_api_key: false,
    temperature: text(settings.temperature),
    max_tokens: text(settings.max_tokens),
    system_prompt: text(settings.system_prompt),
    guardrails: text(settings.guardrails),
    context_size: text(settings.context_size),
    answer_when: settings.answer_when,
    hours,
    time_zone: text(settings.time_zone),
    reply_delay_seconds: text(settings.reply_delay_seconds),
    failure_message: text(settings.failure_message),
    failure_message_enabled: settings.failure_message_enabled,
    ai_on_for_trusted: settings.ai_on_for_trusted,
    lead_fields: (settings.lead_fields ?? []).join(", "),
  };
}

export function parseLeadFields(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((field) => field.trim())
    .filter(Boolean);
}

const NUMBERS = ["temperature", "max_tokens", "context_size", "reply_delay_seconds"] as const;

/** The PUT body, or the fields that are not numbers at all (said here; ranges are the server's to check). */
export function toPayload(form: AssistantForm): { payload: AssistantSettingsWrite; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const numbers = {} as Record<(typeof NUMBERS)[number], number>;
  for (const name of NUMBERS) {
    const value = form[name].trim();
    numbers[name] = Number(value);
    if (value === "" || !Number.isFinite(numbers[name])) errors[name] = "Enter a number.";
  }
  const business_hours: BusinessHours = {};
  for (const day of WEEKDAYS) business_hours[day] = form.hours[day].map((r) => [r.start, r.end]);
  const payload: AssistantSettingsWrite = {
    is_active: form.is_active,
    provider: form.provider,
    base_url: form.base_url.trim(),
    model: form.model.trim(),
    ...numbers,
    system_prompt: form.system_prompt,
    guardrails: form.guardrails,
    answer_when: form.answer_when,
    business_hours,
    time_zone: form.time_zone.trim(),
    failure_message: form.failure_message,
    failure_message_enabled: form.failure_message_enabled,
    ai_on_for_trusted: form.ai_on_for_trusted,
    lead_fields: parseLeadFields(form.lead_fields),
  };
  if (form.api_key.trim()) payload.api_key = form.api_key.trim();
  else if (form.clear_api_key) payload.clear_api_key = true;
  return { payload, errors };
}

function flatten(value: unknown, into: string[]): void {
  if (typeof value === "string") into.push(value);
  else if (Array.isArray(value)) value.forEach((v) => flatten(v, into));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => flatten(v, into));
}

/** A 400's `errors` as one sentence per field (nested ones — a weekday of business_hours — joined under the field);
 * the rest (`non_field_errors`, the detail when no field is named) under "". */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return error ? { "": error instanceof Error ? error.message : String(error) } : {};
  const out: Record<string, string> = {};
  const errors = (error.body.errors ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(errors)) {
    const messages: string[] = [];
    flatten(value, messages);
    const name = key === "non_field_errors" ? "" : key.split(".")[0];
    out[name] = [out[name], ...messages].filter(Boolean).join(" ");
  }
  if (!Object.keys(out).length) out[""] = error.message;
  return out;
}

/** Time zones for the picker (the browser's list; the server checks the value against its own). */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}
