// The AI assistant's calls (issue 12): its settings, FAQ and stats (Settings → AI assistant), and the two thread
// actions that are the assistant's (suggest a reply, hand back to the AI). Typed by the generated schema.
import { api, unwrap } from "./http";
import type { paths } from "./schema";
import type { Conversation } from "./types";

// Named by their operations, not by the schema's component names (which the backend's serializers decide).
type Json<T> = T extends { content: { "application/json": infer J } } ? J : never;
type Ok<Op> = Op extends { responses: { 200: infer R } } ? Json<R> : Op extends { responses: { 201: infer R } } ? Json<R> : never;
type Body<Op> = Op extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;
type Settings = paths["/api/assistant/settings/"];

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export type AssistantSettings = Ok<Settings["get"]>;
/** What the settings page offers (the API's choices). */
export type AssistantProvider = "openai" | "anthropic";
export type AnswerWhen = AssistantSettings["answer_when"];
/** What a PUT takes; `api_key` only when a new one is typed (absent: the stored one is kept). */
export type AssistantSettingsWrite = Body<Settings["put"]>;
/** Opening hours by weekday: `{"mon": [["09:00", "18:00"]], …}`; a day absent or `[]` is closed. */
export type BusinessHours = NonNullable<AssistantSettingsWrite["business_hours"]>;
export type SettingsTest = Ok<paths["/api/assistant/settings/test/"]["post"]>;
export type FaqEntry = Ok<paths["/api/assistant/faq/{id}/"]["get"]>;
type FaqWrite = Body<paths["/api/assistant/faq/"]["post"]>;
export type AssistantStats = Ok<paths["/api/assistant/stats/"]["get"]>;
export type SuggestedReply = Ok<paths["/api/messages/conversations/{id}/suggest-reply/"]["post"]>;

export const getAssistantSettings = () => unwrap(api.GET("/api/assistant/settings/")) as Promise<AssistantSettings>;
export const saveAssistantSettings = (body: AssistantSettingsWrite) =>
  unwrap(api.PUT("/api/assistant/settings/", { body })) as Promise<AssistantSettings>;
/** Checks the stored settings against the provider: always 200, `ok` and a sentence. */
export const testAssistantSettings = () =>
  unwrap(api.POST("/api/assistant/settings/test/")) as Promise<SettingsTest>;

export const listFaq = () => unwrap(api.GET("/api/assistant/faq/")) as Promise<FaqEntry[]>;
export const createFaq = (body: FaqWrite) =>
  unwrap(api.POST("/api/assistant/faq/", { body })) as Promise<FaqEntry>;
export const updateFaq = (id: number, body: FaqWrite) =>
  unwrap(api.PUT("/api/assistant/faq/{id}/", { params: { path: { id } }, body })) as Promise<FaqEntry>;
export const deleteFaq = (id: number) => unwrap(api.DELETE("/api/assistant/faq/{id}/", { params: { path: { id } } }));

export const getAssistantStats = (days = 30) =>
  unwrap(api.GET("/api/assistant/stats/", { params: { query: { days } } })) as Promise<AssistantStats>;

/** A draft from the assistant for the agent to edit; nothing is sent. 400/409 (not configured, the provider failed)
 * carry a sentence for the agent. */
export const suggestReply = (id: number) =>
  unwrap(
    api.POST("/api/messages/conversations/{id}/suggest-reply/", { params: { path: { id } } }),
  ) as Promise<SuggestedReply>;

/** The person is done: the assistant answers again (needs_human cleared, the pause lifted, the AI switch on). */
export const handBackToAi = (id: number) =>
  unwrap(
    api.POST("/api/messages/conversations/{id}/hand-back-to-ai/", { params: { path: { id } } }),
  ) as Promise<Conversation>;
