import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { Link, type To } from "react-router";
import { windowState } from "../../api/adapters";
import { cursorOf, getConversation, listMessages, retryMessage } from "../../api/endpoints";
import type { Conversation, Message } from "../../api/types";
import { useAuth } from "../../app/auth";
import { contactName } from "../../app/notify";
import { Avatar } from "../../components/Avatar";
import { Icon, PlatformIcon, platformLabel } from "../../components/Icon";
import { dayKey, dayLabel } from "../../lib/format";
import { findConversation, threadMessages, upsertMessage } from "../../state/cache";
import { qk } from "../../state/keys";
import { discardOptimistic, retryOptimistic } from "../../state/send";
import { useConversationActions } from "../inbox/actions";
import { useAccounts } from "../inbox/useConversations";
import { AssistantNotices, AssistantSwitches, LeadFields } from "./AssistantControls";
import { Composer } from "./Composer";
import { MessageView } from "./MessageView";

export const THREAD_PAGE = 50;
/** Ask for the older page when the first message on screen is this close to the top of what is loaded. */
const PREFETCH_ROWS = 15;

/** One row of the windowed thread: a message, with the day it starts (a separator above it) when the day changes
 * there. The separator belongs to the message after the change, and the first message loaded only shows its day
 * once nothing older is left to load, so prepending a page never changes the height of a row already on screen. */
export type Row = { key: string; message: Message; day: string | null };

export function buildRows(messages: Message[], hasOlder: boolean): Row[] {
  const rows: Row[] = [];
  let day = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    const d = dayKey(new Date(message.timestamp));
    const label = d !== day && (i > 0 || !hasOlder) ? dayLabel(message.timestamp) : null;
    day = d;
    rows.push({ key: message.client_key ? `k-${message.client_key}` : `m-${message.id}`, message, day: label });
  }
  return rows;
}

function WindowNotice({ state, closesAt }: { state: string; closesAt: number | null }) {
  if (state === "open") {
    if (!closesAt) return null;
    const hours = Math.max(0, Math.round((closesAt - Date.now()) / 3600000));
    return hours <= 3 ? (
      <div className="window-note" role="status">
        The 24-hour reply window closes in {hours < 1 ? "less than an hour" : `${hours} h`}.
      </div>
    ) : null;
  }
  if (state === "human_agent")
    return (
      <div className="window-note" role="status">
        More than 24 hours since the customer wrote: replies go as a human agent’s (allowed up to 7 days).
      </div>
    );
  return null;
}

export function ThreadView({
  conversationId,
  listed,
  backTo,
  onArchiveToggle,
  onMarkUnread,
}: {
  conversationId: number;
  listed: Conversation | null;
  backTo: To;
  onArchiveToggle: () => void;
  onMarkUnread: () => void;
}) {
  const qc = useQueryClient();
  const { me } = useAuth();
  const accounts = useAccounts();
  const actions = useConversationActions();
  const detail = useQuery({
    queryKey: qk.conversation(conversationId),
    queryFn: () => getConversation(conversationId, 1),
    initialData: () => {
      const known = listed ?? findConversation(qc, conversationId);
      return known ? { ...known, messages: [] } : undefined;
    },
    initialDataUpdatedAt: 0,
  });
  const conversation: Conversation | undefined = listed ?? detail.data;
  const thread = useInfiniteQuery({
    queryKey: qk.thread(conversationId),
    queryFn: ({ pageParam }) => listMessages(conversationId, pageParam, THREAD_PAGE),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => cursorOf(last.next),
    staleTime: 5 * 60_000,
  });
  const messages = useMemo(() => threadMessages(thread.data), [thread.data]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const hasOlder = Boolean(thread.hasNextPage);
  const rows = useMemo(() => buildRows(messages, hasOlder), [messages, hasOlder]);
  const account = accounts.data?.find((a) => a.id === conversation?.platform_account.id);
  // Until the thread is loaded the window is unknown: treated as open (the server still refuses with 409).
  const window =
    conversation && (thread.data || conversation.messaging_window)
      ? windowState(conversation, account?.provider, messages)
      : { state: "open" as const, closesAt: null };

  // Reply to one message: WhatsApp carries the quote to the customer (the send's `reply_to`); Messenger and
  // Instagram sends do not, so the app does not offer it there. Not while only a template may be sent.
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const replyable = conversation?.platform === "whatsapp" && window.state !== "templates_only" && window.state !== "closed";
  const onReply = useCallback((message: Message) => {
    setReplyTo(message);
    requestAnimationFrame(() => document.getElementById("composer-input")?.focus());
  }, []);
  const onCancelReply = useCallback(() => setReplyTo(null), []);
  const [assistantError, setAssistantError] = useState<string | null>(null);

  // Read on open (and when more arrives while it is open and visible).
  const unread = conversation?.unread_count ?? 0;
  useEffect(() => {
    if (!conversation || unread === 0 || document.hidden) return;
    const timer = setTimeout(() => actions.markRead.mutate(conversation), 600);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, unread]);

  const onRetry = useCallback(
    (message: Message) => {
      if (message._pending && message.client_key) void retryOptimistic(qc, message.client_key, me ?? null);
      else if (message.id > 0)
        void retryMessage(message.id).then((m) => upsertMessage(qc, m)).catch((error: Error) => {
          upsertMessage(qc, { ...message, error_message: error.message });
        });
    },
    [qc, me],
  );
  const onDiscard = useCallback((message: Message) => message.client_key && discardOptimistic(qc, message.client_key), [qc]);
  const { fetchNextPage } = thread;
  const fetchOlder = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  if (!conversation) {
    return (
      <section className="pane thread-pane" aria-label="Conversation">
        <div className="thread-placeholder" role="status">
          {detail.isError ? "This conversation could not be loaded." : "Loading…"}
        </div>
      </section>
    );
  }
  const name = contactName(conversation);
  return (
    <>
      <section className="pane thread-pane" aria-label={`Conversation with ${name}`}>
        <header className="thread-header">
          <Link to={backTo} className="btn icon back-button" aria-label="Back to conversations">
            <Icon name="back" />
          </Link>
          <Avatar name={name} url={conversation.contact.profile_picture_url} size={36} />
          <div className="thread-who">
            <h2>{name}</h2>
            <div className="thread-sub">
              <PlatformIcon platform={conversation.platform} size={14} />
              <span>
                {platformLabel(conversation.platform)} · {conversation.platform_account.display_name}
              </span>
              <span className={`window-badge ${window.state}`} data-testid="window-state">
                {window.state === "open" ? "Window open" : window.state === "templates_only" ? "Templates only" : window.state === "human_agent" ? "Human agent (7 days)" : "Window closed"}
              </span>
            </div>
          </div>
          <div className="thread-actions" role="toolbar" aria-label="Conversation actions">
            <button
              type="button"
              className="btn icon"
              onClick={() => (conversation.unread_count > 0 ? actions.markRead.mutate(conversation) : onMarkUnread())}
              aria-label={conversation.unread_count > 0 ? "Mark as read" : "Mark as unread (U)"}
              title={conversation.unread_count > 0 ? "Mark as read" : "Mark as unread (U)"}
            >
              <Icon name={conversation.unread_count > 0 ? "read" : "unread"} />
            </button>
            <button
              type="button"
              className="btn icon"
              onClick={onArchiveToggle}
              aria-label={conversation.is_archived ? "Unarchive (E)" : "Archive (E)"}
              title={conversation.is_archived ? "Unarchive (E)" : "Archive (E)"}
            >
              <Icon name={conversation.is_archived ? "unarchive" : "archive"} />
            </button>
            <AssistantSwitches conversation={conversation} onError={setAssistantError} />
          </div>
        </header>
        {conversation.is_archived && (
          <div className="window-note" role="status">
            Archived{conversation.archived_by ? ` by ${conversation.archived_by.full_name || conversation.archived_by.email}` : ""}. A new message from the customer brings it back to the inbox.
          </div>
        )}
        <AssistantNotices conversation={conversation} error={assistantError} />
        <WindowNotice state={window.state} closesAt={window.closesAt} />
        <MessageList
          rows={rows}
          byId={byId}
          pending={thread.isPending}
          ready={Boolean(thread.data)}
          hasOlder={hasOlder}
          loadingOlder={thread.isFetchingNextPage}
          fetchOlder={fetchOlder}
          meId={me?.id}
          contactName={name}
          onRetry={onRetry}
          onDiscard={onDiscard}
          onReply={replyable ? onReply : undefined}
        />
        <Composer
          conversation={conversation}
          provider={account?.provider}
          window={window.state}
          replyTo={replyable ? replyTo : null}
          onCancelReply={onCancelReply}
        />
      </section>
      <ContactPanel conversation={conversation} messages={messages} />
    </>
  );
}

type MessageListProps = {
  rows: Row[];
  byId: Map<number, Message>;
  pending: boolean;
  ready: boolean;
  hasOlder: boolean;
  loadingOlder: boolean;
  fetchOlder: () => void;
  meId?: number;
  contactName: string;
  onRetry: (message: Message) => void;
  onDiscard: (message: Message) => void;
  onReply?: (message: Message) => void;
};

/** The windowed thread (TanStack Virtual, measured rows). Its own component: scrolling re-renders the rows on
 * screen, not the header, the composer or the contact panel. It opens at the newest message, keeps what the agent
 * reads in place when an older page is prepended (anchored on the message at the top of the screen), and follows
 * new messages while at the bottom (and the agent's own sends anywhere). */
const MessageList = memo(function MessageList({
  rows,
  byId,
  pending,
  ready,
  hasOlder,
  loadingOlder,
  fetchOlder,
  meId,
  contactName,
  onRetry,
  onDiscard,
  onReply,
}: MessageListProps) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const indexByKey = useMemo(() => new Map(rows.map((row, i) => [row.key, i])), [rows]);
  const getItemKey = useCallback((i: number) => rows[i]?.key ?? i, [rows]);
  const estimateSize = useCallback((i: number) => (rows[i]?.day ? 108 : 72), [rows]);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize,
    overscan: 10,
    getItemKey,
  });

  const atBottom = useRef(true);
  // The message at the top of the screen and how far the screen's top is below its start.
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const previous = useRef<{ first: string | null; last: string | null }>({ first: null, last: null });
  const initialScrolled = useRef(false);

  // Older pages are asked for only once the opening scroll to the newest message has landed: before it, the first
  // rows are "on screen" at offset 0 and the older page would be fetched for nothing.
  const [landed, setLanded] = useState(false);

  const remember = useCallback(() => {
    const el = scrollRef.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (initialScrolled.current && (atBottom.current || el.scrollHeight <= el.clientHeight)) setLanded(true);
    const item = virtualizer.getVirtualItemForOffset(el.scrollTop);
    anchor.current = item ? { key: String(item.key), delta: el.scrollTop - item.start } : null;
  }, [virtualizer]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    const first = rows[0]?.key ?? null;
    const last = rows[rows.length - 1]?.key ?? null;
    const prev = previous.current;
    if (el && rows.length && ready) {
      if (!initialScrolled.current) {
        initialScrolled.current = true;
        atBottom.current = true;
        virtualizer.scrollToEnd();
      } else if (prev.first && first !== prev.first && indexByKey.has(prev.first)) {
        // Older messages were prepended: the message at the top of the screen stays where it was. Its new start
        // counts the new rows at their estimated height; TanStack corrects the scroll position as they are measured.
        const a = anchor.current;
        const index = a ? indexByKey.get(a.key) : undefined;
        const start = index === undefined ? undefined : virtualizer.getOffsetForIndex(index, "start")?.[0];
        if (a && start !== undefined) el.scrollTop = start + a.delta;
      } else if (last !== prev.last) {
        const newest = rows[rows.length - 1].message;
        const mine = newest.direction === "outbound" && (Boolean(newest._pending) || newest.sent_by?.id === meId);
        if (atBottom.current || mine) virtualizer.scrollToEnd();
      }
    }
    previous.current = { first, last };
    remember();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows, ready]);

  // Rows change size after they are first shown (photos and cards load, measurement replaces the estimate): at the
  // bottom, stay at the bottom. Only when the total size changed — a scroll alone never pulls the agent down again.
  const total = virtualizer.getTotalSize();
  const lastTotal = useRef(0);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el && initialScrolled.current && total !== lastTotal.current && atBottom.current) el.scrollTop = el.scrollHeight;
    lastTotal.current = total;
  }, [total]);

  const items = virtualizer.getVirtualItems();
  const firstShown = virtualizer.range?.startIndex ?? 0;
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || !landed || !hasOlder || loadingOlder) return;
    // Where the screen is now (the range above can lag one scroll event behind).
    const top = virtualizer.getVirtualItemForOffset(el.scrollTop)?.index ?? 0;
    if (top < PREFETCH_ROWS) fetchOlder();
  }, [landed, firstShown, hasOlder, loadingOlder, fetchOlder, virtualizer]);

  // A quote clicked: scroll its original into view and mark it for a moment.
  const [highlight, setHighlight] = useState<number | null>(null);
  const onJump = useCallback(
    (id: number) => {
      const index = rows.findIndex((row) => row.message.id === id);
      if (index < 0) return;
      virtualizer.scrollToIndex(index, { align: "center" });
      setHighlight(id);
      window.setTimeout(() => setHighlight((current) => (current === id ? null : current)), 1600);
    },
    [rows, virtualizer],
  );

  return (
    <div
      ref={scrollRef}
      className="thread-scroll"
      onScroll={remember}
      data-testid="thread"
      aria-label="Messages"
      aria-busy={loadingOlder}
      data-rows={rows.length}
      role="log"
      aria-live="polite"
      tabIndex={0}
    >
      {pending ? (
        <div className="thread-placeholder" role="status">
          Loading messages…
        </div>
      ) : (
        <>
          {/* Takes no room in the list (sticky, zero height): the rows' offsets stay the virtualizer's own. */}
          <div className="thread-loader" role="status">
            {hasOlder && loadingOlder ? <span>Loading earlier messages…</span> : null}
          </div>
          <div className="thread-inner" style={{ height: total }}>
            {items.map((item) => {
              const row = rows[item.index];
              const message = row.message;
              return (
                <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="thread-row" style={{ transform: `translateY(${item.start}px)` }}>
                  {row.day && (
                    <div className="day-sep" role="separator">
                      <span>{row.day}</span>
                    </div>
                  )}
                  <MessageView
                    message={message}
                    quoted={message.reply_to ? (byId.get(message.reply_to) ?? null) : undefined}
                    meId={meId}
                    contactName={contactName}
                    onRetry={onRetry}
                    onDiscard={onDiscard}
                    onReply={onReply}
                    onJump={onJump}
                    highlighted={highlight === message.id}
                  />
                </div>
              );
            })}
          </div>
        </>
      )}
    </div>
  );
});

function ContactPanel({ conversation, messages }: { conversation: Conversation; messages: Message[] }) {
  const c = conversation.contact;
  const name = contactName(conversation);
  const media = messages.filter((m) => m.attachments.some((a) => a.url && a.kind === "image")).length;
  return (
    <aside className="pane contact-pane" aria-label="Contact">
      <div className="contact-head">
        <Avatar name={name} url={c.profile_picture_url} size={64} />
        <h2>{name}</h2>
        {c.username && <div className="muted">@{c.username}</div>}
      </div>
      <dl className="kv">
        {c.phone_number && (
          <div>
            <dt>Phone</dt>
            <dd>{c.phone_number}</dd>
          </div>
        )}
        <div>
          <dt>Channel</dt>
          <dd>
            {platformLabel(conversation.platform)} · {conversation.platform_account.display_name}
          </dd>
        </div>
        <div>
          <dt>Since</dt>
          <dd>{new Date(conversation.created_at).toLocaleDateString()}</dd>
        </div>
        <div>
          <dt>Messages loaded</dt>
          <dd>
            {messages.length} ({media} with photos)
          </dd>
        </div>
        <div>
          <dt>AI assistant</dt>
          <dd>{conversation.needs_human ? "Handed over to a person" : conversation.ai_enabled ? "On" : "Off"}</dd>
        </div>
        <div>
          <dt>Trusted</dt>
          <dd>{c.is_trusted ? "Yes" : "No"}</dd>
        </div>
      </dl>
      <LeadFields conversation={conversation} />
    </aside>
  );
}
