import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type ClipboardEvent, type DragEvent, type FormEvent, type KeyboardEvent } from "react";
import { listTemplates, rememberTemplate, templateSend, type SendInput } from "../../api/adapters";
import { suggestReply } from "../../api/assistant";
import { getListing, listListings } from "../../api/endpoints";
import { ApiError } from "../../api/http";
import type { Conversation, Message, Provider, WhatsAppTemplate, WindowState } from "../../api/types";
import { useAuth } from "../../app/auth";
import { contactName } from "../../app/notify";
import { Icon } from "../../components/Icon";
import { fileSize, formatPrice } from "../../lib/format";
import { qk } from "../../state/keys";
import { sendOptimistic } from "../../state/send";
import { quoteAuthor, quoteText } from "./quote";

const DRAFT = (id: number) => `sb.draft.${id}`;
const LIMITS: Record<string, number> = { whatsapp: 4096, messenger: 2000, instagram: 1000 };

export function readDraft(id: number): string {
  return localStorage.getItem(DRAFT(id)) ?? "";
}
export function writeDraft(id: number, text: string): void {
  if (text) localStorage.setItem(DRAFT(id), text);
  else localStorage.removeItem(DRAFT(id));
}

function templatesAllowed(conversation: Conversation, provider: Provider | undefined) {
  return conversation.platform === "whatsapp" && provider !== "bridge";
}

export function Composer({
  conversation,
  provider,
  window,
  replyTo = null,
  onCancelReply,
}: {
  conversation: Conversation;
  provider?: Provider;
  window: WindowState;
  /** The message the next text quotes (the send's `reply_to`), shown above the box with a cancel button. */
  replyTo?: Message | null;
  onCancelReply?: () => void;
}) {
  const qc = useQueryClient();
  const { me } = useAuth();
  const [text, setText] = useState(() => readDraft(conversation.id));
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const [panel, setPanel] = useState<"none" | "listings" | "templates">(window === "templates_only" ? "templates" : "none");
  const [notice, setNotice] = useState<string | null>(null);
  const [suggesting, setSuggesting] = useState(false);
  const [suggestedListings, setSuggestedListings] = useState<number[]>([]);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const limit = LIMITS[conversation.platform] ?? 4096;
  const templatesOnly = window === "templates_only";
  const closed = window === "closed";

  useEffect(() => {
    if (templatesOnly) setPanel("templates");
    else setPanel((current) => (current === "templates" ? "none" : current));
  }, [templatesOnly]);

  useEffect(() => writeDraft(conversation.id, text), [conversation.id, text]);

  useEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(200, el.scrollHeight)}px`;
  }, [text]);

  async function send(input: SendInput, label?: string): Promise<boolean> {
    setNotice(null);
    const outcome = await sendOptimistic(qc, { conversationId: conversation.id, input, by: me ?? null, label });
    if (!outcome.ok && outcome.error instanceof ApiError && outcome.error.status === 409) {
      setNotice(outcome.error.message);
      if (outcome.error.body.templates_required) setPanel("templates");
    }
    return outcome.ok;
  }

  /** The assistant drafts a reply into the box for the agent to edit and send; it sends nothing itself. */
  async function suggest() {
    setNotice(null);
    setSuggesting(true);
    try {
      const draft = await suggestReply(conversation.id);
      setText(draft.text);
      setSuggestedListings(draft.listing_ids ?? []);
      if (!draft.text && !draft.listing_ids?.length) setNotice("The assistant had no reply to suggest.");
      requestAnimationFrame(() => inputRef.current?.focus());
    } catch (error) {
      setNotice(suggestionError(error));
    } finally {
      setSuggesting(false);
    }
  }

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (!body && !files.length) return;
    if (body.length > limit) {
      setNotice(`At most ${limit} characters on this platform.`);
      return;
    }
    const queued = files;
    // A reply quotes with its text: files go on their own then (an upload carries no `reply_to`).
    const quote = replyTo && replyTo.id > 0 && body ? { reply_to: replyTo.id } : {};
    setFiles([]);
    setText("");
    writeDraft(conversation.id, "");
    if (queued.length) {
      // WhatsApp takes the text as the first file's caption; Messenger and Instagram send it on its own.
      const caption = conversation.platform === "whatsapp" && body.length <= 1024 && !replyTo ? body : "";
      queued.forEach((file, i) => void send({ file, text: i === 0 ? caption : undefined }));
      if (body && !caption) void send({ text: body, ...quote });
    } else {
      void send({ text: body, ...quote });
    }
    if (replyTo) onCancelReply?.();
    inputRef.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && replyTo) {
      event.preventDefault();
      event.stopPropagation(); // cancels the reply; a second Escape leaves the box as before
      onCancelReply?.();
    }
  }

  function addFiles(list: FileList | File[] | null) {
    if (!list) return;
    const added = Array.from(list).filter((f) => f.size > 0);
    if (added.length) setFiles((current) => [...current, ...added].slice(0, 10));
  }

  function onPaste(event: ClipboardEvent<HTMLTextAreaElement>) {
    const pasted = Array.from(event.clipboardData.files);
    if (pasted.length) {
      event.preventDefault();
      addFiles(pasted);
    }
  }

  function onDrop(event: DragEvent<HTMLFormElement>) {
    event.preventDefault();
    setDragging(false);
    addFiles(event.dataTransfer.files);
  }

  if (closed) {
    return (
      <div className="composer closed" role="status">
        The customer last wrote more than 7 days ago: {conversation.platform === "instagram" ? "Instagram" : "Messenger"} allows no reply until they
        write again.
      </div>
    );
  }

  return (
    <form
      className={`composer${dragging ? " dragging" : ""}`}
      onSubmit={submit}
      onDragOver={(e) => {
        if (templatesOnly) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      aria-label="Reply"
    >
      {notice && (
        <div className="composer-notice" role="alert">
          {notice}
        </div>
      )}
      {panel === "templates" && templatesAllowed(conversation, provider) && (
        <TemplatePicker
          accountId={conversation.platform_account.id}
          required={templatesOnly}
          onClose={templatesOnly ? undefined : () => setPanel("none")}
          onSend={(template, values) => {
            rememberTemplate(conversation.platform_account.id, template);
            void send({ template: templateSend(template, values) });
            if (!templatesOnly) setPanel("none");
          }}
        />
      )}
      {panel === "listings" && (
        <ListingPicker
          onClose={() => setPanel("none")}
          onPick={(id, title) => {
            setPanel("none");
            void send({ listing_id: id }, title);
          }}
        />
      )}
      {!templatesOnly && suggestedListings.length > 0 && (
        <SuggestedListings
          ids={suggestedListings}
          onSend={(id, title) => {
            setSuggestedListings((ids) => ids.filter((x) => x !== id));
            void send({ listing_id: id }, title);
          }}
          onDismiss={() => setSuggestedListings([])}
        />
      )}
      {suggesting && (
        <div className="composer-status" role="status">
          The assistant is drafting a reply…
        </div>
      )}
      {!templatesOnly && replyTo && (
        <div className="composer-reply" role="group" aria-label="Replying to a message" data-testid="composer-reply">
          <Icon name="reply" size={16} />
          <blockquote className="quote">
            <span className="quote-author">Replying to {quoteAuthor(replyTo, contactName(conversation), me?.id)}</span>
            <span className="quote-text">{quoteText(replyTo)}</span>
          </blockquote>
          <button type="button" className="btn icon tiny" aria-label="Cancel reply" title="Cancel reply (Esc)" onClick={() => { onCancelReply?.(); inputRef.current?.focus(); }}>
            <Icon name="close" size={12} />
          </button>
        </div>
      )}
      {!templatesOnly && files.length > 0 && (
        <ul className="file-chips" aria-label="Attachments to send">
          {files.map((file, i) => (
            <li key={i} className="chip">
              {file.type.startsWith("image/") && <img src={URL.createObjectURL(file)} alt="" width={28} height={28} />}
              <span>
                {file.name} <span className="muted small">{fileSize(file.size)}</span>
              </span>
              <button type="button" className="btn icon tiny" aria-label={`Remove ${file.name}`} onClick={() => setFiles(files.filter((_, j) => j !== i))}>
                <Icon name="close" size={12} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {!templatesOnly && (
        <div className="composer-row">
          <div className="composer-tools">
            <button type="button" className="btn icon" aria-label="Attach files" title="Attach files (or drop / paste them)" onClick={() => fileRef.current?.click()}>
              <Icon name="attach" />
            </button>
            <input ref={fileRef} type="file" multiple hidden onChange={(e) => { addFiles(e.target.files); e.target.value = ""; }} aria-hidden="true" tabIndex={-1} />
            <button type="button" className="btn icon" aria-label="Send a listing card" title="Send a listing card" aria-pressed={panel === "listings"} onClick={() => setPanel(panel === "listings" ? "none" : "listings")}>
              <Icon name="listing" />
            </button>
            {templatesAllowed(conversation, provider) && (
              <button type="button" className="btn icon" aria-label="Send a WhatsApp template" title="Send a WhatsApp template" aria-pressed={panel === "templates"} onClick={() => setPanel(panel === "templates" ? "none" : "templates")}>
                <Icon name="template" />
              </button>
            )}
            <button
              type="button"
              className="btn icon"
              aria-label="Suggest reply"
              title="Suggest a reply: the AI assistant drafts it here for you to edit; nothing is sent"
              onClick={() => void suggest()}
              disabled={suggesting}
              aria-busy={suggesting}
            >
              <Icon name="ai" />
            </button>
          </div>
          <label htmlFor="composer-input" className="visually-hidden">
            Message
          </label>
          <textarea
            id="composer-input"
            ref={inputRef}
            rows={1}
            value={text}
            placeholder={`Reply on ${conversation.platform === "whatsapp" ? "WhatsApp" : conversation.platform === "messenger" ? "Messenger" : "Instagram"}…`}
            title="Enter sends, Shift+Enter starts a new line"
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            aria-describedby="composer-count"
          />
          <span id="composer-count" className={`composer-count${text.length > limit ? " over" : ""}`} aria-live="polite">
            {text.length > limit * 0.8 ? `${text.length}/${limit}` : ""}
          </span>
          <button type="submit" className="btn primary send" aria-label="Send" disabled={!text.trim() && !files.length}>
            <Icon name="send" />
          </button>
        </div>
      )}
    </form>
  );
}

function TemplatePicker({
  accountId,
  required,
  onClose,
  onSend,
}: {
  accountId: number;
  required: boolean;
  onClose?: () => void;
  onSend: (template: WhatsAppTemplate, values: string[]) => void;
}) {
  const templates = useQuery({ queryKey: qk.templates(accountId), queryFn: () => listTemplates(accountId), staleTime: 10 * 60_000 });
  const [chosen, setChosen] = useState<WhatsAppTemplate | null>(null);
  const [custom, setCustom] = useState({ name: "", language: "en_US", body: "" });
  const [values, setValues] = useState<string[]>([]);
  const list = templates.data ?? [];
  const template: WhatsAppTemplate | null =
    chosen ??
    (custom.name.trim()
      ? { name: custom.name.trim(), language: custom.language.trim(), body: custom.body, parameter_count: countParams(custom.body) }
      : null);
  const preview = template ? fill(template.body, values) : "";
  return (
    <div className="picker" role="group" aria-labelledby="template-title" data-testid="template-picker" aria-busy={templates.isPending}>
      <div className="picker-head">
        <h3 id="template-title">{required ? "24-hour window closed — send an approved template" : "Send a WhatsApp template"}</h3>
        {onClose && (
          <button type="button" className="btn icon tiny" aria-label="Close templates" onClick={onClose}>
            <Icon name="close" size={14} />
          </button>
        )}
      </div>
      {required && (
        <p className="muted small">
          The customer last wrote more than 24 hours ago. WhatsApp allows only an approved template until they reply.
        </p>
      )}
      {list.length > 0 && (
        <div className="template-list" role="radiogroup" aria-label="Templates">
          {list.map((t) => (
            <label key={`${t.name}:${t.language}`} className={`template-option${chosen === t ? " chosen" : ""}`}>
              <input type="radio" name="template" checked={chosen === t} onChange={() => { setChosen(t); setValues([]); }} />
              <span>
                <strong>{t.name}</strong> <span className="muted small">{t.language}{t.category ? ` · ${t.category}` : ""}</span>
                {t.body && <span className="template-body">{t.body}</span>}
              </span>
            </label>
          ))}
        </div>
      )}
      <details open={!list.length} onToggle={() => setChosen(null)}>
        <summary>Another template by name</summary>
        <div className="template-custom">
          <label>
            Name
            <input value={custom.name} onChange={(e) => { setChosen(null); setCustom({ ...custom, name: e.target.value }); }} placeholder="viewing_follow_up" />
          </label>
          <label>
            Language
            <input value={custom.language} onChange={(e) => setCustom({ ...custom, language: e.target.value })} placeholder="en_US" />
          </label>
          <label className="wide">
            Body (for the preview; use {"{{1}}"}, {"{{2}}"} for parameters)
            <input value={custom.body} onChange={(e) => setCustom({ ...custom, body: e.target.value })} placeholder="Hi {{1}}, shall we book the viewing?" />
          </label>
        </div>
      </details>
      {template && template.parameter_count > 0 && (
        <div className="template-params">
          {Array.from({ length: template.parameter_count }, (_, i) => (
            <label key={i}>
              {`{{${i + 1}}}`}
              <input value={values[i] ?? ""} onChange={(e) => { const next = [...values]; next[i] = e.target.value; setValues(next); }} />
            </label>
          ))}
        </div>
      )}
      {preview && <div className="template-preview" aria-label="Preview">{preview}</div>}
      <div className="picker-actions">
        <button type="button" className="btn primary" disabled={!template || !template.name || (template.language === "" )} onClick={() => template && onSend(template, values)}>
          Send template
        </button>
      </div>
    </div>
  );
}

/** The sentence to show when no draft came: the API's own (assistant not configured, provider failed — 400/409). */
export function suggestionError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = Object.values(error.body.errors ?? {}).flat();
    if (error.body.detail) return error.body.detail;
    if (fields.length) return fields.join(" ");
    return `No suggestion (the server answered ${error.status}).`;
  }
  return error instanceof Error ? error.message : String(error);
}

function SuggestedListings({ ids, onSend, onDismiss }: { ids: number[]; onSend: (id: number, title: string) => void; onDismiss: () => void }) {
  return (
    <div className="suggested-listings" role="group" aria-label="Listings the assistant suggests">
      <span className="muted small">Suggested cards:</span>
      {ids.map((id) => (
        <SuggestedListing key={id} id={id} onSend={onSend} />
      ))}
      <button type="button" className="btn icon tiny" aria-label="Dismiss suggested cards" onClick={onDismiss}>
        <Icon name="close" size={12} />
      </button>
    </div>
  );
}

function SuggestedListing({ id, onSend }: { id: number; onSend: (id: number, title: string) => void }) {
  const listing = useQuery({ queryKey: qk.listing(id), queryFn: () => getListing(id), staleTime: 60_000 });
  const title = listing.data?.title ?? `Listing ${id}`;
  return (
    <button type="button" className="chip" onClick={() => onSend(id, `🏠 ${title}`)} title="Send this listing card">
      <Icon name="listing" size={14} /> Send “{title}”
    </button>
  );
}

export function countParams(body: string): number {
  let max = 0;
  for (const m of body.matchAll(/\{\{(\d+)\}\}/g)) max = Math.max(max, Number(m[1]));
  return max;
}

function fill(body: string, values: string[]): string {
  return body.replace(/\{\{(\d+)\}\}/g, (all, n) => values[Number(n) - 1] || all);
}

function ListingPicker({ onPick, onClose }: { onPick: (id: number, title: string) => void; onClose: () => void }) {
  const [search, setSearch] = useState("");
  const listings = useQuery({ queryKey: qk.listings(search), queryFn: () => listListings(search || undefined), staleTime: 60_000 });
  const rows = listings.data?.results ?? [];
  return (
    <div className="picker" role="group" aria-labelledby="listing-title" data-testid="listing-picker">
      <div className="picker-head">
        <h3 id="listing-title">Send a listing card</h3>
        <button type="button" className="btn icon tiny" aria-label="Close listings" onClick={onClose}>
          <Icon name="close" size={14} />
        </button>
      </div>
      <label className="visually-hidden" htmlFor="listing-search">
        Search listings
      </label>
      <input id="listing-search" type="search" placeholder="Search listings" value={search} onChange={(e) => setSearch(e.target.value)} autoFocus />
      <ul className="listing-options">
        {rows.map((l) => (
          <li key={l.id}>
            <button type="button" className="listing-option" onClick={() => onPick(l.id, `🏠 ${l.title}`)}>
              <strong>{l.title}</strong>
              <span className="muted small">
                {[formatPrice(l.price, l.currency), l.location, `${l.image_count} photo${l.image_count === 1 ? "" : "s"}`].filter(Boolean).join(" · ")}
              </span>
            </button>
          </li>
        ))}
        {!rows.length && <li className="muted small">{listings.isPending ? "Loading…" : "No listings yet — add them in Settings → Listings."}</li>}
      </ul>
    </div>
  );
}
