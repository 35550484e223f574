// Settings → AI assistant: the provider and how the assistant answers (owners and admins change them, agents read),
// the connection test, the FAQ it quotes, and what it did.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import {
  createFaq,
  deleteFaq,
  getAssistantSettings,
  getAssistantStats,
  listFaq,
  saveAssistantSettings,
  testAssistantSettings,
  updateFaq,
  WEEKDAYS,
  type AssistantSettings,
  type AssistantStats,
  type FaqEntry,
  type SettingsTest,
} from "../../api/assistant";
import { canManage, useAuth } from "../../app/auth";
import { Icon } from "../../components/Icon";
import { fullTime } from "../../lib/format";
import { qk } from "../../state/keys";
import { fieldLabel } from "../thread/assistant";
import { DEFAULT_RANGE, fieldErrors, timeZones, toForm, toPayload, WEEKDAY_LABEL, type AssistantForm } from "./assistantForm";
import { ErrorText, Section } from "./common";

const PROVIDER_HELP = "OpenAI-compatible: OpenAI, Ollama, vLLM, OpenRouter, Gemini…";

export function AssistantSettingsPage() {
  const { role } = useAuth();
  const manage = canManage(role);
  const settings = useQuery({ queryKey: qk.assistantSettings, queryFn: getAssistantSettings });
  return (
    <>
      <Section title="AI assistant">
        <p className="muted">
          The assistant answers customers of trusted contacts in conversations whose AI switch is on, searches your active
          listings, sends their cards, and hands the conversation to a person when it should.
        </p>
        {!manage && <p className="notice">Only owners and admins can change the assistant. You can read its settings.</p>}
        {settings.isPending && <p role="status">Loading…</p>}
        <ErrorText error={settings.error} />
        {settings.data && <SettingsForm settings={settings.data} manage={manage} />}
      </Section>
      <FaqSection manage={manage} />
      <StatsSection />
    </>
  );
}

function Field({ id, label, error, help, children, wide }: { id: string; label: string; error?: string; help?: string; children: ReactNode; wide?: boolean }) {
  return (
    <div className={`field${wide ? " wide" : ""}${error ? " invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {help && (
        <span id={`${id}-help`} className="help">
          {help}
        </span>
      )}
      {error && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** The props that tie an input to its help and its error. */
function described(id: string, error?: string, help?: string) {
  const ids = [help ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { id, "aria-describedby": ids || undefined, "aria-invalid": error ? true : undefined };
}

function SettingsForm({ settings, manage }: { settings: AssistantSettings; manage: boolean }) {
  const qc = useQueryClient();
  const [form, setForm] = useState<AssistantForm>(() => toForm(settings));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const [test, setTest] = useState<SettingsTest | null>(null);
  const zones = timeZones();
  const keyError = errors.api_key ?? errors.clear_api_key;
  const keyHelp = settings.api_key_set ? "A key is saved — leave blank to keep it." : "No key saved yet.";
  const set = <K extends keyof AssistantForm>(name: K, value: AssistantForm[K]) => {
    setSaved(false);
    setForm((current) => ({ ...current, [name]: value }));
  };
  const save = useMutation({
    mutationFn: saveAssistantSettings,
    onSuccess: (row) => {
      setErrors({});
      setSaved(true);
      // What the server stored (normalized hours, the key field blank again).
      setForm(toForm(row));
      qc.setQueryData(qk.assistantSettings, row);
    },
    onError: (error) => setErrors(fieldErrors(error)),
  });
  const runTest = useMutation({ mutationFn: testAssistantSettings, onSuccess: setTest, onMutate: () => setTest(null) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const { payload, errors: local } = toPayload(form);
    if (Object.keys(local).length) {
      setErrors(local);
      return;
    }
    save.mutate(payload);
  };

  const text = (name: "base_url" | "model" | "time_zone" | "lead_fields" | "temperature" | "max_tokens" | "context_size" | "reply_delay_seconds", label: string, extra: { help?: string; type?: string; placeholder?: string; min?: number; max?: number; step?: number; list?: string; wide?: boolean } = {}) => {
    const id = `ai-${name}`;
    return (
      <Field id={id} label={label} error={errors[name]} help={extra.help} wide={extra.wide}>
        <input
          {...described(id, errors[name], extra.help)}
          name={name}
          type={extra.type ?? "text"}
          value={form[name]}
          placeholder={extra.placeholder}
          min={extra.min}
          max={extra.max}
          step={extra.step}
          list={extra.list}
          autoComplete="off"
          onChange={(e) => set(name, e.target.value)}
        />
      </Field>
    );
  };
  const area = (name: "system_prompt" | "guardrails" | "failure_message", label: string, help?: string) => {
    const id = `ai-${name}`;
    return (
      <Field id={id} label={label} error={errors[name]} help={help} wide>
        <textarea {...described(id, errors[name], help)} name={name} rows={name === "system_prompt" ? 6 : 3} value={form[name]} onChange={(e) => set(name, e.target.value)} />
      </Field>
    );
  };
  const check = (name: "is_active" | "failure_message_enabled" | "ai_on_for_trusted", label: string) => (
    <label className="check">
      <input type="checkbox" name={name} checked={form[name]} onChange={(e) => set(name, e.target.checked)} />
      {label}
    </label>
  );

  return (
    <form className="assistant-form" onSubmit={submit} noValidate aria-label="Assistant settings">
      <fieldset disabled={!manage} className="plain-fieldset">
        <div className="card assistant-active">
          <label className="toggle big">
            <input type="checkbox" role="switch" name="is_active" checked={form.is_active} onChange={(e) => set("is_active", e.target.checked)} />
            <span>Assistant active</span>
          </label>
          <span className="muted small">
            {form.is_active ? "It answers customers as set below." : "It answers no one; agents can still ask it for suggestions."}
          </span>
          {errors.is_active && <span className="field-error" role="alert">{errors.is_active}</span>}
        </div>

        <h3 className="form-title">Provider</h3>
        <div className="form-grid">
          <Field id="ai-provider" label="Provider" error={errors.provider} help={PROVIDER_HELP}>
            <select {...described("ai-provider", errors.provider, PROVIDER_HELP)} value={form.provider} onChange={(e) => set("provider", e.target.value as AssistantForm["provider"])}>
              <option value="openai">OpenAI-compatible</option>
              <option value="anthropic">Anthropic</option>
            </select>
          </Field>
          {text("base_url", "Base URL", { help: "Blank: the provider's public endpoint. E.g. http://127.0.0.1:11434/v1 for Ollama.", placeholder: form.provider === "anthropic" ? "https://api.anthropic.com" : "https://api.openai.com/v1" })}
          {text("model", "Model", { placeholder: form.provider === "anthropic" ? "claude-sonnet-4-20250514" : "gpt-4o-mini" })}
          <Field id="ai-api_key" label="API key" error={keyError} help={keyHelp}>
            <input
              {...described("ai-api_key", keyError, keyHelp)}
              name="api_key"
              type="password"
              autoComplete="new-password"
              value={form.api_key}
              placeholder={settings.api_key_set ? "••••••••  (saved)" : ""}
              onChange={(e) => set("api_key", e.target.value)}
            />
          </Field>
          {settings.api_key_set && (
            <label className="check">
              <input type="checkbox" checked={form.clear_api_key} disabled={Boolean(form.api_key.trim())} onChange={(e) => set("clear_api_key", e.target.checked)} />
              Forget the saved key
            </label>
          )}
          {text("temperature", "Temperature", { type: "number", min: 0, max: 2, step: 0.1, help: "0 to 2: lower is more predictable." })}
          {text("max_tokens", "Max tokens", { type: "number", min: 1, max: 8000, step: 1, help: "The longest answer (1 to 8000)." })}
          {text("context_size", "Context size", { type: "number", min: 1, max: 50, step: 1, help: "Recent messages the model reads (1 to 50)." })}
        </div>

        <h3 className="form-title">What it says</h3>
        <div className="form-grid">
          {area("system_prompt", "System prompt", "Who the assistant is and how it talks to your customers.")}
          {area("guardrails", "Guardrails", "Rules it must keep, added to the prompt (e.g. never promise a discount).")}
          {text("lead_fields", "Lead fields", { help: "What it may record about a lead, separated by commas: lowercase letters, digits and _ (e.g. purpose, budget_max, bedrooms, area).", wide: true })}
        </div>

        <h3 className="form-title">When it answers</h3>
        <div className="form-grid">
          <Field id="ai-answer_when" label="Answer" error={errors.answer_when}>
            <select {...described("ai-answer_when", errors.answer_when)} value={form.answer_when} onChange={(e) => set("answer_when", e.target.value as AssistantForm["answer_when"])}>
              <option value="always">Always</option>
              <option value="outside_hours">Only outside business hours</option>
            </select>
          </Field>
          {text("time_zone", "Time zone", { list: zones.length ? "ai-time-zones" : undefined, placeholder: "Europe/Madrid", help: "An IANA name: business hours are in this zone." })}
          {zones.length > 0 && (
            <datalist id="ai-time-zones">
              {zones.map((zone) => (
                <option key={zone} value={zone} />
              ))}
            </datalist>
          )}
          {text("reply_delay_seconds", "Reply delay (seconds)", { type: "number", min: 0, max: 120, step: 1, help: "Waits this long after a message, so several get one answer (0 to 120)." })}
          <div className="field-check">
            <span className="label">Trusted contacts</span>
            {check("ai_on_for_trusted", "AI on for new conversations of trusted contacts")}
          </div>
        </div>
        <BusinessHoursEditor form={form} set={set} error={errors.business_hours} />

        <h3 className="form-title">When it fails</h3>
        <div className="form-grid">
          <div className="field-check wide">{check("failure_message_enabled", "Send the customer a message when the assistant fails (once; the conversation goes to a person)")}</div>
          {area("failure_message", "Failure message")}
        </div>
      </fieldset>

      {errors[""] && (
        <p className="error" role="alert">
          {errors[""]}
        </p>
      )}
      {Object.keys(errors).some((k) => k !== "") && (
        <p className="error" role="alert">
          Some settings were not saved: see the fields marked below their labels.
        </p>
      )}
      {manage && (
        <div className="form-actions sticky-actions">
          <button className="btn primary" type="submit" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
          <button className="btn" type="button" disabled={runTest.isPending} onClick={() => runTest.mutate()} title="Checks the saved settings: save first">
            {runTest.isPending ? "Testing…" : "Test connection"}
          </button>
          {saved && <span role="status">Saved.</span>}
          <span className="muted small">Last changed {fullTime(settings.updated_at)}.</span>
        </div>
      )}
      <div aria-live="polite" data-testid="assistant-test">
        {test && (
          <p className={test.ok ? "test-ok" : "error"}>
            <Icon name={test.ok ? "check" : "alert"} size={16} /> {test.ok ? `Connected${test.model ? ` (${test.model})` : ""}. ` : ""}
            {test.message}
          </p>
        )}
        <ErrorText error={runTest.error} />
      </div>
    </form>
  );
}

function BusinessHoursEditor({ form, set, error }: { form: AssistantForm; set: <K extends keyof AssistantForm>(name: K, value: AssistantForm[K]) => void; error?: string }) {
  const setDay = (day: keyof AssistantForm["hours"], ranges: AssistantForm["hours"][keyof AssistantForm["hours"]]) => set("hours", { ...form.hours, [day]: ranges });
  return (
    <fieldset className="hours" aria-describedby={error ? "ai-hours-error" : "ai-hours-help"}>
      <legend>Business hours</legend>
      <p id="ai-hours-help" className="help">
        {form.answer_when === "outside_hours" ? "The assistant answers only outside these hours." : "Used when it answers only outside business hours."} In the time zone above.
      </p>
      <table className="hours-table">
        <tbody>
          {WEEKDAYS.map((day) => {
            const ranges = form.hours[day];
            const open = ranges.length > 0;
            return (
              <tr key={day}>
                <th scope="row">
                  <label className="check">
                    <input type="checkbox" checked={open} onChange={(e) => setDay(day, e.target.checked ? [{ ...DEFAULT_RANGE }] : [])} />
                    {WEEKDAY_LABEL[day]}
                  </label>
                </th>
                <td>
                  {!open && <span className="muted small">Closed</span>}
                  {ranges.map((range, i) => (
                    <span key={i} className="hours-range">
                      <input
                        type="time"
                        aria-label={`${WEEKDAY_LABEL[day]} opens (${i + 1})`}
                        value={range.start}
                        onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? { ...r, start: e.target.value } : r)))}
                      />
                      <span aria-hidden="true">–</span>
                      <input
                        type="time"
                        aria-label={`${WEEKDAY_LABEL[day]} closes (${i + 1})`}
                        value={range.end}
                        onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? { ...r, end: e.target.value } : r)))}
                      />
                      <button type="button" className="btn icon tiny" aria-label={`Remove ${WEEKDAY_LABEL[day]} hours ${i + 1}`} onClick={() => setDay(day, ranges.filter((_, j) => j !== i))}>
                        <Icon name="close" size={12} />
                      </button>
                    </span>
                  ))}
                  {open && ranges.length < 6 && (
                    <button type="button" className="btn small ghost" onClick={() => setDay(day, [...ranges, { start: "", end: "" }])} aria-label={`Add hours on ${WEEKDAY_LABEL[day]}`}>
                      <Icon name="plus" size={12} /> Add
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {error && (
        <p id="ai-hours-error" className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

// --- FAQ --------------------------------------------------------------------------------------------------------------
function FaqForm({ entry, onDone }: { entry?: FaqEntry; onDone: () => void }) {
  const qc = useQueryClient();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: (body: { question: string; answer: string }) => (entry ? updateFaq(entry.id, body) : createFaq(body)),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: qk.assistantFaq });
      onDone();
    },
    onError: (error) => setErrors(fieldErrors(error)),
  });
  const prefix = entry ? `faq-${entry.id}` : "faq-new";
  return (
    <form
      className="form-grid card"
      aria-label={entry ? "Edit FAQ entry" : "New FAQ entry"}
      noValidate
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        save.mutate({ question: String(data.get("question") ?? "").trim(), answer: String(data.get("answer") ?? "").trim() });
      }}
    >
      <Field id={`${prefix}-question`} label="Question" error={errors.question} wide>
        <input {...described(`${prefix}-question`, errors.question)} name="question" defaultValue={entry?.question} autoComplete="off" />
      </Field>
      <Field id={`${prefix}-answer`} label="Answer" error={errors.answer} wide>
        <textarea {...described(`${prefix}-answer`, errors.answer)} name="answer" rows={3} defaultValue={entry?.answer} />
      </Field>
      {errors[""] && (
        <p className="error wide" role="alert">
          {errors[""]}
        </p>
      )}
      <div className="form-actions wide">
        <button type="submit" className="btn primary" disabled={save.isPending}>
          {entry ? "Save" : "Add"}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function FaqSection({ manage }: { manage: boolean }) {
  const qc = useQueryClient();
  const faq = useQuery({ queryKey: qk.assistantFaq, queryFn: listFaq });
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<number | null>(null);
  const remove = useMutation({ mutationFn: deleteFaq, onSettled: () => qc.invalidateQueries({ queryKey: qk.assistantFaq }) });
  const rows = faq.data ?? [];
  return (
    <Section
      title="FAQ"
      actions={
        manage && !adding ? (
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            <Icon name="plus" size={16} /> Add a question
          </button>
        ) : null
      }
    >
      <p className="muted small">The assistant answers these questions with your words (its faq_lookup tool).</p>
      {adding && <FaqForm onDone={() => setAdding(false)} />}
      <ErrorText error={faq.error ?? remove.error} />
      <ul className="faq-list" aria-label="FAQ entries">
        {rows.map((entry) =>
          editing === entry.id ? (
            <li key={entry.id}>
              <FaqForm entry={entry} onDone={() => setEditing(null)} />
            </li>
          ) : (
            <li key={entry.id} className="card faq-entry" data-testid="faq-entry">
              <div className="faq-text">
                <strong>{entry.question}</strong>
                <p>{entry.answer}</p>
              </div>
              {manage && (
                <div className="row-actions">
                  <button type="button" className="btn small" onClick={() => setEditing(entry.id)} aria-label={`Edit “${entry.question}”`}>
                    Edit
                  </button>
                  <button
                    type="button"
                    className="btn small danger"
                    aria-label={`Delete “${entry.question}”`}
                    onClick={() => confirm(`Delete “${entry.question}”?`) && remove.mutate(entry.id)}
                  >
                    Delete
                  </button>
                </div>
              )}
            </li>
          ),
        )}
      </ul>
      {faq.data && rows.length === 0 && <p className="muted">No questions yet.</p>}
    </Section>
  );
}

// --- stats ------------------------------------------------------------------------------------------------------------
function Counts({ title, counts, label }: { title: string; counts: Record<string, number>; label: (key: string) => string }) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (!entries.length) return null;
  return (
    <div className="stat-breakdown">
      <h3>{title}</h3>
      <ul className="plain-list">
        {entries.map(([key, count]) => (
          <li key={key}>
            <span className="count">{count}</span> {label(key)}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function RepliesPerDay({ days }: { days: AssistantStats["replies_per_day"] }) {
  const max = Math.max(1, ...days.map((d) => d.replies));
  return (
    <ul className="bars" aria-label="Replies per day">
      {days.map((day) => (
        <li key={day.date}>
          <span className="bar-date">{day.date}</span>
          <span className="bar-track" aria-hidden="true">
            <span className="bar" style={{ width: `${(day.replies / max) * 100}%` }} />
          </span>
          <span className="bar-value">
            {day.replies}
            <span className="visually-hidden"> {day.replies === 1 ? "reply" : "replies"}</span>
          </span>
        </li>
      ))}
    </ul>
  );
}

function StatsSection() {
  const [days, setDays] = useState(30);
  const stats = useQuery({ queryKey: qk.assistantStats(days), queryFn: () => getAssistantStats(days) });
  const s = stats.data;
  return (
    <Section
      title="What the assistant did"
      actions={
        <>
          <label className="visually-hidden" htmlFor="ai-stats-days">
            Period
          </label>
          <select id="ai-stats-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
          </select>
        </>
      }
    >
      {stats.isPending && <p role="status">Loading…</p>}
      <ErrorText error={stats.error} />
      {s && (
        <div data-testid="assistant-stats">
          <dl className="stat-grid">
            <div>
              <dt>Conversations answered</dt>
              <dd>{s.conversations_answered}</dd>
            </div>
            <div>
              <dt>Resolved without a person</dt>
              <dd>{s.resolved_without_human}</dd>
            </div>
            <div>
              <dt>Handed to a person</dt>
              <dd>{s.handed_off}</dd>
            </div>
            <div>
              <dt>Failures</dt>
              <dd>{s.failures}</dd>
            </div>
          </dl>
          <div className="stat-breakdowns">
            <Counts title="Handed over because" counts={s.handed_off_by_reason} label={(reason) => reason} />
            <Counts title="Failures by cause" counts={s.failures_by_code} label={fieldLabel} />
          </div>
          <h3 className="form-title">Replies per day</h3>
          {s.replies_per_day.some((d) => d.replies > 0) ? <RepliesPerDay days={s.replies_per_day} /> : <p className="muted">No replies in this period.</p>}
        </div>
      )}
    </Section>
  );
}
