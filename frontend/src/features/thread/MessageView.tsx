// One message as the agent sees it: every kind the backend stores (inbox/models.py MessageKind), with the payload
// shapes the platform parsers produce (whatsapp/parsers, meta/messaging.py).
import { useQuery } from "@tanstack/react-query";
import { memo, useState, type KeyboardEvent, type ReactNode } from "react";
import { listingCard } from "../../api/endpoints";
import type { Attachment, Message } from "../../api/types";
import { Icon } from "../../components/Icon";
import { clockTime, fileSize, formatPrice, fullTime, linkify } from "../../lib/format";
import { qk } from "../../state/keys";
import { skipReasonText } from "./assistant";
import { Lightbox } from "./Lightbox";
import { agentName, canQuote, quoteAuthor, quoteText, useQuoted } from "./quote";

type P = Record<string, unknown>;
const obj = (v: unknown): P => (v && typeof v === "object" && !Array.isArray(v) ? (v as P) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

export function RichText({ text }: { text: string }) {
  if (!text) return null;
  return (
    <p className="msg-text">
      {linkify(text).map((part, i) =>
        part.href ? (
          <a key={i} href={part.href} target="_blank" rel="noopener noreferrer nofollow">
            {part.text}
          </a>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </p>
  );
}

function MediaState({ attachment, what }: { attachment: Attachment; what: string }) {
  if (attachment.status === "pending") return <div className="media-placeholder">{what} loading…</div>;
  return (
    <div className="media-placeholder failed" title={attachment.error || undefined}>
      <Icon name="alert" size={16} /> {what} could not be downloaded{attachment.status === "rejected" ? " (refused as unsafe)" : ""}.
    </div>
  );
}

function Images({ attachments, onOpen }: { attachments: Attachment[]; onOpen: (index: number) => void }) {
  return (
    <div className={`media-grid n${Math.min(attachments.length, 4)}`}>
      {attachments.map((a, i) =>
        a.url ? (
          <button key={a.id} type="button" className="media-thumb" onClick={() => onOpen(i)} aria-label={`Open photo ${i + 1}${a.caption ? `: ${a.caption}` : ""}`}>
            <img src={a.thumbnail_url || a.url} alt={a.caption || `Photo ${i + 1}`} loading="lazy" width={a.width ?? undefined} height={a.height ?? undefined} />
          </button>
        ) : (
          <MediaState key={a.id} attachment={a} what="Photo" />
        ),
      )}
    </div>
  );
}

function DocumentLink({ attachment }: { attachment: Attachment }) {
  const name = attachment.filename || "Document";
  if (!attachment.url) return <MediaState attachment={attachment} what={name} />;
  return (
    <a className="doc" href={attachment.url} target="_blank" rel="noopener noreferrer" download={attachment.filename || undefined}>
      <Icon name="doc" size={28} />
      <span>
        <span className="doc-name">{name}</span>
        <span className="doc-meta">{[attachment.mime_type.split(";")[0], fileSize(attachment.size)].filter(Boolean).join(" · ")}</span>
      </span>
    </a>
  );
}

function Location({ payload }: { payload: P }) {
  const loc = Object.keys(obj(payload.location)).length ? obj(payload.location) : payload;
  const lat = Number(loc.latitude);
  const lon = Number(loc.longitude);
  const name = str(loc.name);
  const address = str(loc.address);
  const hasPoint = Number.isFinite(lat) && Number.isFinite(lon) && (lat !== 0 || lon !== 0);
  const href = hasPoint
    ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`
    : str(loc.url) || undefined;
  return (
    <div className="location">
      <Icon name="location" size={28} />
      <div>
        <div className="location-name">{name || "Shared location"}</div>
        {address && <div className="location-address">{address}</div>}
        {hasPoint && <div className="location-coords">{lat.toFixed(5)}, {lon.toFixed(5)}</div>}
        {href && (
          <a href={href} target="_blank" rel="noopener noreferrer">
            Open in map
          </a>
        )}
      </div>
    </div>
  );
}

type SharedContact = { name: string; phones: string[]; emails: string[]; org: string };

export function parseContacts(payload: P): SharedContact[] {
  const out: SharedContact[] = arr(payload.contacts).map((c) => {
    const contact = obj(c);
    const name = obj(contact.name);
    return {
      name: str(name.formatted_name) || [str(name.first_name), str(name.last_name)].filter(Boolean).join(" ") || "Contact",
      phones: arr(contact.phones).map((p) => str(obj(p).phone)).filter(Boolean),
      emails: arr(contact.emails).map((e) => str(obj(e).email)).filter(Boolean),
      org: str(obj(contact.org).company),
    };
  });
  for (const card of arr(payload.vcards)) {
    const text = str(card);
    const fn = /^FN[^:]*:(.*)$/m.exec(text)?.[1]?.trim() ?? "Contact";
    const phones = [...text.matchAll(/^TEL[^:]*:(.*)$/gm)].map((m) => m[1].trim());
    const emails = [...text.matchAll(/^EMAIL[^:]*:(.*)$/gm)].map((m) => m[1].trim());
    const org = /^ORG[^:]*:(.*)$/m.exec(text)?.[1]?.replace(/;+$/, "").trim() ?? "";
    out.push({ name: fn, phones, emails, org });
  }
  return out;
}

function Contacts({ payload, attachments }: { payload: P; attachments: Attachment[] }) {
  const contacts = parseContacts(payload);
  return (
    <div className="contacts-list">
      {contacts.map((c, i) => (
        <div key={i} className="contact-card">
          <Icon name="user" size={24} />
          <div>
            <div className="contact-name">{c.name}</div>
            {c.org && <div className="muted small">{c.org}</div>}
            {c.phones.map((p) => (
              <div key={p}>
                <a href={`tel:${p.replace(/[^\d+]/g, "")}`}>{p}</a>
              </div>
            ))}
            {c.emails.map((e) => (
              <div key={e}>
                <a href={`mailto:${e}`}>{e}</a>
              </div>
            ))}
          </div>
        </div>
      ))}
      {!contacts.length && attachments.map((a) => <DocumentLink key={a.id} attachment={a} />)}
    </div>
  );
}

/** What the customer tapped or submitted: WhatsApp button / list / flow replies and orders, Messenger postbacks and
 * quick replies; and the generic templates businesses send (echoes). */
function Interactive({ message, payload }: { message: Message; payload: P }) {
  const type = str(payload.type);
  const postback = obj(payload.postback);
  const quick = obj(payload.quick_reply);
  const templates = arr(payload.templates);
  if (templates.length) {
    return (
      <div className="generic-templates">
        {templates.flatMap((t) => arr(obj(t).elements)).map((e, i) => {
          const el = obj(e);
          return (
            <div key={i} className="generic-card">
              {str(el.image_url) && <img src={str(el.image_url)} alt="" loading="lazy" />}
              <div className="generic-body">
                <div className="generic-title">{str(el.title)}</div>
                {str(el.subtitle) && <div className="muted small">{str(el.subtitle)}</div>}
                <div className="generic-buttons">
                  {arr(el.buttons).map((b, j) => (
                    <span key={j} className="chip">
                      {str(obj(b).title)}
                    </span>
                  ))}
                </div>
              </div>
            </div>
          );
        })}
      </div>
    );
  }
  if (type === "order") {
    const items = arr(payload.product_items).map(obj);
    return (
      <div className="order">
        <div className="order-title">Order · {items.length} item{items.length === 1 ? "" : "s"}</div>
        <ul>
          {items.map((item, i) => (
            <li key={i}>
              {str(item.quantity)} × {str(item.product_retailer_id)} — {formatPrice(str(item.item_price), str(item.currency))}
            </li>
          ))}
        </ul>
        <RichText text={message.text} />
      </div>
    );
  }
  if (type === "nfm_reply") {
    const response = obj(payload.response);
    return (
      <div className="reply-chip-block">
        <span className="chip-label">Form submitted{str(payload.name) ? ` (${str(payload.name)})` : ""}</span>
        <dl className="kv">
          {Object.entries(response)
            .filter(([k]) => k !== "flow_token")
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{str(v) || JSON.stringify(v)}</dd>
              </div>
            ))}
        </dl>
      </div>
    );
  }
  const title = str(payload.title) || str(postback.title) || message.text;
  const label =
    type === "list_reply" ? "Chose from list" : Object.keys(postback).length ? "Tapped button" : Object.keys(quick).length ? "Quick reply" : "Tapped button";
  return (
    <div className="reply-chip-block">
      <span className="chip-label">{label}</span>
      <span className="chip strong">{title || str(postback.payload) || "—"}</span>
      {str(payload.description) && <div className="muted small">{str(payload.description)}</div>}
    </div>
  );
}

export function ListingCardView({ message, payload }: { message: Message; payload: P }) {
  const listingId = Number(payload.listing_id) || Number(obj(payload.card).id) || 0;
  const snapshot = obj(payload.card);
  const live = useQuery({
    queryKey: qk.card(listingId),
    queryFn: () => listingCard(listingId),
    enabled: listingId > 0,
    staleTime: 4 * 60_000,
    retry: false,
  });
  const card = { ...snapshot, ...(live.data?.card ?? {}) } as P;
  const images = arr(card.thumbnails).length ? arr(card.thumbnails) : arr(card.images);
  const title = str(card.title) || str(card.label) || message.text.split("\n")[0] || "Listing";
  const price = formatPrice(str(card.price) || null, str(card.currency) || undefined);
  const bedrooms = card.bedrooms === null || card.bedrooms === undefined ? null : Number(card.bedrooms);
  const [open, setOpen] = useState<number | null>(null);
  return (
    <div className="listing-card" data-testid="listing-card">
      {images.length > 0 ? (
        <div className="photo-strip" role="list" aria-label="Listing photos">
          {images.map((src, i) => (
            <button key={i} type="button" role="listitem" className="strip-photo" onClick={() => setOpen(i)} aria-label={`Open photo ${i + 1} of ${title}`}>
              <img src={str(src)} alt="" loading="lazy" />
            </button>
          ))}
        </div>
      ) : (
        <div className="photo-strip empty" aria-hidden="true">
          <Icon name="listing" size={32} />
        </div>
      )}
      <div className="listing-body">
        <div className="listing-title">{title}</div>
        {price && <div className="listing-price">{price}</div>}
        <div className="listing-meta">
          {str(card.location) && (
            <span>
              <Icon name="location" size={14} /> {str(card.location)}
            </span>
          )}
          {bedrooms !== null && !Number.isNaN(bedrooms) && <span>{bedrooms} bedroom{bedrooms === 1 ? "" : "s"}</span>}
          {str(card.label) && str(card.label) !== title && <span>Ref {str(card.label)}</span>}
        </div>
        {payload.internal ? <div className="muted small">{message.text}</div> : null}
      </div>
      {open !== null && (
        <Lightbox images={images.map((s, i) => ({ src: str(arr(card.images)[i]) || str(s), alt: `${title} photo ${i + 1}` }))} start={open} onClose={() => setOpen(null)} />
      )}
    </div>
  );
}

function Unsupported({ message, payload }: { message: Message; payload: P }) {
  const type = str(payload.unsupported_type) || (str(payload.type) !== "unsupported" ? str(payload.type) : "");
  const unsupported = arr(payload.unsupported).map((u) => str(obj(u).type)).filter(Boolean);
  const what = type || unsupported[0] || "";
  return (
    <div className="unsupported">
      <Icon name="alert" size={16} />
      <span>
        This message can’t be shown here{what ? ` (${what.replace(/_/g, " ")})` : ""}. Open it on the customer’s app to see it.
      </span>
      <RichText text={message.text} />
    </div>
  );
}

const TICKS: Record<string, { icon: string; label: string }> = {
  queued: { icon: "clock", label: "Queued" },
  sending: { icon: "clock", label: "Sending" },
  sent: { icon: "check", label: "Sent" },
  delivered: { icon: "checks", label: "Delivered" },
  read: { icon: "checks", label: "Read" },
  failed: { icon: "alert", label: "Failed" },
};

export function StatusTicks({ message }: { message: Message }) {
  if (message.direction !== "outbound") return null;
  const status = message._pending === "sending" ? "sending" : message._pending === "error" ? "failed" : message.status;
  const tick = TICKS[status] ?? TICKS.sent;
  return (
    <span className={`ticks ${status}`} data-status={status} title={tick.label}>
      <Icon name={tick.icon} size={14} label={tick.label} />
    </span>
  );
}

function Content({ message, onOpenImage }: { message: Message; onOpenImage: (i: number) => void }) {
  const payload = obj(message.payload);
  const attachments = message.attachments ?? [];
  const story = obj(payload.story);
  const prefix: ReactNode[] = [];
  if (payload.forwarded) prefix.push(<div key="fw" className="msg-flag">{payload.frequently_forwarded ? "Forwarded many times" : "Forwarded"}</div>);
  if (story.type === "reply") prefix.push(<div key="st" className="msg-flag">Replied to your story</div>);
  if (story.type === "mention") prefix.push(<div key="st" className="msg-flag">Mentioned you in their story</div>);
  const referral = obj(payload.referral);
  if (str(referral.headline) || str(referral.source_url))
    prefix.push(
      <div key="ref" className="msg-flag">
        From ad: {str(referral.headline) || str(referral.source_url)}
      </div>,
    );
  if (Object.keys(obj(payload.referred_product)).length)
    prefix.push(<div key="prod" className="msg-flag">About product {str(obj(payload.referred_product).product_retailer_id)}</div>);
  if (payload.template) {
    const template = obj(payload.template);
    prefix.push(<div key="tpl" className="msg-flag">Template · {str(template.name)} ({str(template.language)})</div>);
  }

  let body: ReactNode;
  switch (message.kind) {
    case "image": {
      const images = attachments.filter((a) => a.kind === "image" || a.kind === "sticker");
      const others = attachments.filter((a) => !images.includes(a));
      const shared = arr(payload.shared).map(obj);
      body = (
        <>
          {images.length > 0 && <Images attachments={images} onOpen={onOpenImage} />}
          {others.map((a) => (a.kind === "video" ? <VideoPlayer key={a.id} attachment={a} /> : <DocumentLink key={a.id} attachment={a} />))}
          {shared.map((s, i) => (
            <div key={i} className="msg-flag">Shared a post{str(s.title) ? `: ${str(s.title)}` : ""}</div>
          ))}
          {!images.length && story.type && <div className="media-placeholder">The story is no longer available.</div>}
          <RichText text={message.text} />
        </>
      );
      break;
    }
    case "video": {
      const shared = arr(payload.shared).map(obj);
      body = (
        <>
          {attachments.map((a) => (a.kind === "image" ? <Images key={a.id} attachments={[a]} onOpen={onOpenImage} /> : <VideoPlayer key={a.id} attachment={a} />))}
          {shared.map((s, i) => (
            <div key={i} className="msg-flag">
              Shared a {str(s.type) === "ig_reel" || str(s.type) === "reel" ? "reel" : "video"}
              {str(s.title) ? `: ${str(s.title)}` : ""}
            </div>
          ))}
          <RichText text={message.text} />
        </>
      );
      break;
    }
    case "audio":
      body = (
        <>
          {attachments.map((a) =>
            a.url ? (
              <div key={a.id} className="audio">
                <span className="chip-label">{payload.voice ? "Voice note" : "Audio"}</span>
                <audio controls preload="none" src={a.url} aria-label={payload.voice ? "Voice note" : "Audio message"} />
              </div>
            ) : (
              <MediaState key={a.id} attachment={a} what={payload.voice ? "Voice note" : "Audio"} />
            ),
          )}
          <RichText text={message.text} />
        </>
      );
      break;
    case "document":
      body = (
        <>
          {attachments.map((a) => (a.kind === "image" ? <Images key={a.id} attachments={[a]} onOpen={onOpenImage} /> : <DocumentLink key={a.id} attachment={a} />))}
          <RichText text={message.text} />
        </>
      );
      break;
    case "sticker":
      body = payload.like_heart ? (
        <span className="big-emoji" role="img" aria-label="Heart">
          {message.text || "❤️"}
        </span>
      ) : (
        <div className="sticker">
          {attachments.map((a) =>
            a.url ? <img key={a.id} src={a.url} alt="Sticker" width={120} height={120} loading="lazy" /> : <MediaState key={a.id} attachment={a} what="Sticker" />,
          )}
          {!attachments.length && <span className="muted">Sticker</span>}
        </div>
      );
      break;
    case "location":
      body = <Location payload={payload} />;
      break;
    case "contacts":
      body = <Contacts payload={payload} attachments={attachments} />;
      break;
    case "interactive":
      body = <Interactive message={message} payload={payload} />;
      break;
    case "reaction":
      body = (
        <span className="muted">
          Reacted {message.text || str(payload.emoji)}
        </span>
      );
      break;
    case "listing_card":
      body = <ListingCardView message={message} payload={payload} />;
      break;
    case "unsupported":
      body = <Unsupported message={message} payload={payload} />;
      break;
    default:
      body = (
        <>
          {payload.like_heart ? (
            <span className="big-emoji" role="img" aria-label="Heart">
              {message.text}
            </span>
          ) : (
            <RichText text={message.text} />
          )}
          {arr(payload.links).map((l, i) => {
            const link = obj(l);
            return (
              <a key={i} className="link-card" href={str(link.url)} target="_blank" rel="noopener noreferrer nofollow">
                {str(link.title) || str(link.url)}
              </a>
            );
          })}
          {attachments.filter((a) => a.kind === "image").length > 0 && (
            <Images attachments={attachments.filter((a) => a.kind === "image")} onOpen={onOpenImage} />
          )}
        </>
      );
  }
  return (
    <>
      {prefix}
      {body}
    </>
  );
}

function VideoPlayer({ attachment }: { attachment: Attachment }) {
  if (!attachment.url) return <MediaState attachment={attachment} what="Video" />;
  return <video className="video" controls preload="metadata" src={attachment.url} aria-label={attachment.caption || "Video"} />;
}

export type MessageViewProps = {
  message: Message;
  /** For a reply: the message it quotes when the thread has it loaded (null: older, fetched on its own). */
  quoted?: Message | null;
  meId?: number;
  /** How the thread names the customer (quotes say who wrote what). */
  contactName?: string;
  onRetry?: (message: Message) => void;
  onDiscard?: (message: Message) => void;
  /** Offered on messages that can be quoted: the "Reply" action (and R while focus is in the message). */
  onReply?: (message: Message) => void;
  /** Scroll the thread to a loaded message (a quote's original). */
  onJump?: (id: number) => void;
  /** Briefly marked: the original a quote was clicked for. */
  highlighted?: boolean;
};

function Quote({ id, loaded, contactName, meId, onJump }: { id: number; loaded: Message | null; contactName: string; meId?: number; onJump?: (id: number) => void }) {
  const quoted = useQuoted(id, loaded);
  const author = quoted ? quoteAuthor(quoted, contactName, meId) : "";
  const content = quoted ? (
    <>
      <span className="quote-author">{author}</span>
      <span className="quote-text">{quoteText(quoted)}</span>
    </>
  ) : (
    <span className="quote-text">An earlier message</span>
  );
  return (
    <blockquote className="quote" data-quoted-id={id}>
      {onJump && loaded ? (
        <button type="button" className="quote-jump" onClick={() => onJump(id)} title="Show the original message">
          {content}
        </button>
      ) : (
        content
      )}
    </blockquote>
  );
}

export const MessageView = memo(function MessageView({ message, quoted, meId, contactName = "Customer", onRetry, onDiscard, onReply, onJump, highlighted }: MessageViewProps) {
  const [lightbox, setLightbox] = useState<number | null>(null);
  const outbound = message.direction === "outbound";
  const payload = obj(message.payload);
  if (message.kind === "system") {
    const system = obj(payload.system);
    const text = message.text || str(system.body) || (str(payload.type) === "request_welcome" ? "The customer opened the chat for the first time." : "System message");
    return (
      <div className="msg-system" role="note" data-kind="system">
        {text}
      </div>
    );
  }
  const images = (message.attachments ?? []).filter((a) => (a.kind === "image" || a.kind === "sticker") && a.url);
  const failed = message._pending === "error" || message.status === "failed";
  const internal = Boolean(payload.internal);
  const author = outbound
    ? internal
      ? "Note"
      : message.sent_by
        ? agentName(message.sent_by, meId)
        : message.sent_by_assistant
          ? "Assistant"
          : "Business"
    : null;
  const skipped = outbound ? null : skipReasonText(message.llm_skip_reason);
  const replyable = Boolean(onReply) && canQuote(message);
  const onKeyDown = replyable
    ? (event: KeyboardEvent<HTMLDivElement>) => {
        if ((event.key === "r" || event.key === "R") && !event.ctrlKey && !event.metaKey && !event.altKey) {
          event.preventDefault();
          event.stopPropagation(); // not the inbox's R (focus the composer without a quote)
          onReply!(message);
        }
      }
    : undefined;
  return (
    <div
      className={`msg ${outbound ? "out" : "in"}${failed ? " failed" : ""}${internal ? " internal" : ""}${highlighted ? " flash" : ""}`}
      data-kind={message.kind}
      data-message-id={message.id}
      data-status={message._pending ?? message.status}
      onKeyDown={onKeyDown}
    >
      <div className="msg-line">
        <div className="bubble">
          {quoted !== undefined && message.reply_to !== null && (
            <Quote id={message.reply_to} loaded={quoted} contactName={contactName} meId={meId} onJump={onJump} />
          )}
          {message.is_deleted ? (
            <p className="msg-deleted">
              <Icon name="trash" size={14} /> This message was deleted
              {message.text ? <span className="visually-hidden">: {message.text}</span> : null}
            </p>
          ) : (
            <Content message={message} onOpenImage={setLightbox} />
          )}
          <div className="msg-meta">
            {author && <span className="msg-author">{author}</span>}
            {message.sent_by_assistant && (
              <span className="ai-badge" title="Written by the AI assistant" data-testid="ai-badge">
                AI
              </span>
            )}
            {skipped && (
              <span className="ai-skip" title={skipped}>
                <Icon name="ai" size={12} label={skipped} />
              </span>
            )}
            <time dateTime={message.timestamp} title={fullTime(message.timestamp)}>
              {clockTime(message.timestamp)}
            </time>
            <StatusTicks message={message} />
          </div>
        </div>
        {replyable && (
          <div className="msg-actions">
            <button type="button" className="btn icon tiny msg-action" aria-label="Reply" title="Reply (R)" onClick={() => onReply!(message)}>
              <Icon name="reply" size={16} />
            </button>
          </div>
        )}
      </div>
      {message.reactions.length > 0 && (
        <div className="reactions" aria-label="Reactions">
          {message.reactions.map((r, i) => (
            <span key={i} className="reaction" title={`${r.by === "agent" ? "Agent" : "Customer"}${r.at ? ` · ${fullTime(r.at)}` : ""}`}>
              {r.emoji}
            </span>
          ))}
        </div>
      )}
      {failed && (
        <div className="msg-error" role="alert">
          <span>{message._error || message.error_message || "Not delivered."}</span>
          {message.error_code && <span className="muted small"> (code {message.error_code})</span>}
          {onRetry && (
            <button type="button" className="btn small" onClick={() => onRetry(message)}>
              <Icon name="retry" size={14} /> Retry
            </button>
          )}
          {message._pending === "error" && onDiscard && (
            <button type="button" className="btn small ghost" onClick={() => onDiscard(message)}>
              Discard
            </button>
          )}
        </div>
      )}
      {lightbox !== null && (
        <Lightbox images={images.map((a, i) => ({ src: a.url!, alt: a.caption || `Photo ${i + 1}` }))} start={lightbox} onClose={() => setLightbox(null)} />
      )}
    </div>
  );
});
