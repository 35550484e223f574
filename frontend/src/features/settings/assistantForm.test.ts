import { describe, expect, it } from "vitest";
import type { AssistantSettings } from "../../api/assistant";
import { ApiError } from "../../api/http";
import { fieldErrors, parseLeadFields, toForm, toPayload } from "./assistantForm";

const stored: AssistantSettings = {
  is_active: true,
  provider: "anthropic",
  base_url: "",
  model: "claude-sonnet-4-20250514",
  temperature: 0.3,
  max_tokens: 400,
  system_prompt: "You are the agency's assistant.",
  guardrails: "Never promise a discount.",
  context_size: 10,
  answer_when: "outside_hours",
  business_hours: { mon: [["09:00", "13:00"], ["15:00", "19:00"]], sat: [["10:00", "14:00"]] },
  time_zone: "Europe/Madrid",
  reply_delay_seconds: 8,
  failure_message: "A colleague will answer shortly.",
  failure_message_enabled: true,
  ai_on_for_trusted: false,
  lead_fields: ["purpose", "budget_max", "bedrooms"],
  api_key_set: true,
  updated_at: "2026-01-01T10:00:00Z",
};

describe("assistant settings form ↔ API", () => {
  it("reads the stored settings into the form: numbers as text, hours per weekday, lead fields on one line, no key", () => {
    const form = toForm(stored);
    expect(form.temperature).toBe("0.3");
    expect(form.max_tokens).toBe("400");
    expect(form.api_key).toBe("");
    expect(form.clear_api_key).toBe(false);
    expect(form.lead_fields).toBe("purpose, budget_max, bedrooms");
    expect(form.hours.mon).toEqual([{ start: "09:00", end: "13:00" }, { start: "15:00", end: "19:00" }]);
    expect(form.hours.sat).toEqual([{ start: "10:00", end: "14:00" }]);
    expect(form.hours.sun).toEqual([]);
  });

  it("writes every setting back, keeping the stored key when none is typed (closed days as [])", () => {
    const { payload, errors } = toPayload(toForm(stored));
    expect(errors).toEqual({});
    expect(payload).toEqual({
      is_active: true,
      provider: "anthropic",
      base_url: "",
      model: "claude-sonnet-4-20250514",
      temperature: 0.3,
      max_tokens: 400,
      context_size: 10,
      reply_delay_seconds: 8,
      system_prompt: "You are the agency's assistant.",
      guardrails: "Never promise a discount.",
      answer_when: "outside_hours",
      business_hours: { mon: [["09:00", "13:00"], ["15:00", "19:00"]], tue: [], wed: [], thu: [], fri: [], sat: [["10:00", "14:00"]], sun: [] },
      time_zone: "Europe/Madrid",
      failure_message: "A colleague will answer shortly.",
      failure_message_enabled: true,
      ai_on_for_trusted: false,
      lead_fields: ["purpose", "budget_max", "bedrooms"],
    });
    expect("api_key" in payload).toBe(false);
    expect("clear_api_key" in payload).toBe(false);
  });

  it("sends a new key when one is typed (trimmed), and forgetting the key only without a new one", () => {
    const form = { ...toForm(stored), api_key: "  sk-new-key ", clear_api_key: true };
    expect(toPayload(form).payload.api_key).toBe("sk-new-key");
    expect("clear_api_key" in toPayload(form).payload).toBe(false);
    expect(toPayload({ ...form, api_key: "" }).payload.clear_api_key).toBe(true);
  });

  it("sends numbers out of range for the server to refuse, and stops at fields that are not numbers at all", () => {
    const form = toForm(stored);
    expect(toPayload({ ...form, temperature: "5" }).payload.temperature).toBe(5);
    expect(toPayload({ ...form, temperature: "", max_tokens: " " }).errors).toEqual({ temperature: "Enter a number.", max_tokens: "Enter a number." });
  });

  it("splits lead fields on commas and spaces", () => {
    expect(parseLeadFields(" purpose,budget_max  bedrooms,, area ")).toEqual(["purpose", "budget_max", "bedrooms", "area"]);
    expect(parseLeadFields("")).toEqual([]);
  });

  it("puts a 400's messages by their field (a weekday's under business_hours), the rest on the form", () => {
    const error = new ApiError(400, {
      detail: "Invalid input.",
      code: "invalid",
      errors: {
        temperature: ["Ensure this value is less than or equal to 2.0."],
        business_hours: ["mon: 18:00-09:00 does not end after it starts."],
        "lead_fields.1": ["Lowercase letters, digits and _."],
        non_field_errors: ["Write a failure message or turn it off."],
      },
    });
    expect(fieldErrors(error)).toEqual({
      temperature: "Ensure this value is less than or equal to 2.0.",
      business_hours: "mon: 18:00-09:00 does not end after it starts.",
      lead_fields: "Lowercase letters, digits and _.",
      "": "Write a failure message or turn it off.",
    });
    expect(fieldErrors(new ApiError(403, { detail: "Only owners and admins of the organization may do this." }))).toEqual({
      "": "Only owners and admins of the organization may do this.",
    });
    expect(fieldErrors(null)).toEqual({});
  });
});
