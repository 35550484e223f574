import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { Link, type To } from "react-router";
import { windowState } from "../../api/adapters";
import { cursorOf, getConversation, listMessages, retryMessage } from "../../api/endpoints";
import type { Conversation, Message } from "../../api/types";
import { useAuth } from "../../app/auth";
import { contactName } from "../../app/notify";
import { Avatar } from "../../components/Avatar";
import { Icon, PlatformIcon, platformLabel } from "../../components/Icon";
import { dayLabel } from "../../lib/format";
import { findConversation, threadMessages, upsertMessage } from "../../state/cache";
import { qk } from "../../state/keys";
import { discardOptimistic, retryOptimistic } from "../../state/send";
import { useConversationActions } from "../inbox/actions";
import { useAccounts } from "../inbox/useConversations";
import { Composer } from "./Composer";
import { MessageView } from "./MessageView";

export const THREAD_PAGE = 50;

type Row = { type: "day"; key: string; label: string } | { type: "msg"; key: string; message: Message } | { type: "loader"; key: string };

export function buildRows(messages: Message[], hasOlder: boolean): Row[] {
  const rows: Row[] = [];
  if (hasOlder) rows.push({ type: "loader", key: "loader" });
  let day = "";
  for (const message of messages) {
    const d = new Date(message.timestamp).toDateString();
    if (d !== day) {
      day = d;
      rows.push({ type: "day", key: `day-${d}`, label: dayLabel(message.timestamp) });
    }
    rows.push({ type: "msg", key: message.client_key ? `k-${message.client_key}` : `m-${message.id}`, message });
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
  const rows = useMemo(() => buildRows(messages, Boolean(thread.hasNextPage)), [messages, thread.hasNextPage]);
  const account = accounts.data?.find((a) => a.id === conversation?.platform_account.id);
  // Until the thread is loaded the window is unknown: treated as open (the server still refuses with 409).
  const window =
    conversation && (thread.data || conversation.messaging_window)
      ? windowState(conversation, account?.provider, messages)
      : { state: "open" as const, closesAt: null };

  // Read on open (and when more arrives while it is open and visible).
  const unread = conversation?.unread_count ?? 0;
  useEffect(() => {
    if (!conversation || unread === 0 || document.hidden) return;
    const timer = setTimeout(() => actions.markRead.mutate(conversation), 600);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, unread]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.type === "msg" ? 72 : 36),
    overscan: 10,
    getItemKey: (i) => rows[i]?.key ?? i,
  });

  // Windowed rendering keeps the position when older pages are prepended and sticks to the newest when at bottom.
  const atBottom = useRef(true);
  const previous = useRef<{ first: string | null; last: string | null; total: number; count: number }>({ first: null, last: null, total: 0, count: 0 });
  const initialScrolled = useRef(false);
  const scrollToEnd = useCallback(() => {
    if (!rows.length) return;
    virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
    requestAnimationFrame(() => {
      virtualizer.scrollToIndex(rows.length - 1, { align: "end" });
      const el = scrollRef.current;
      if (el) el.scrollTop = el.scrollHeight;
    });
  }, [rows.length, virtualizer]);

  useLayoutEffect(() => {
    const el = scrollRef.current;
    const firstMsg = rows.find((r) => r.type === "msg")?.key ?? null;
    const last = rows[rows.length - 1]?.key ?? null;
    const prev = previous.current;
    const total = virtualizer.getTotalSize();
    if (el && rows.length) {
      if (!initialScrolled.current && thread.data) {
        initialScrolled.current = true;
        scrollToEnd();
      } else if (prev.first && firstMsg !== prev.first && rows.some((r) => r.key === prev.first)) {
        // Older messages were prepended: keep what the agent was looking at in place.
        el.scrollTop += total - prev.total;
      } else if (last !== prev.last) {
        const lastRow = rows[rows.length - 1];
        const mine = lastRow?.type === "msg" && lastRow.message.direction === "outbound";
        if (atBottom.current || mine) scrollToEnd();
      }
    }
    previous.current = { first: firstMsg, last, total, count: rows.length };
  }, [rows, thread.data, virtualizer, scrollToEnd]);

  const items = virtualizer.getVirtualItems();
  const firstIndex = items[0]?.index ?? 0;
  useEffect(() => {
    if (initialScrolled.current && firstIndex <= 2 && thread.hasNextPage && !thread.isFetchingNextPage) void thread.fetchNextPage();
  }, [firstIndex, thread]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
  };

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
            <label className="toggle" title="Let the AI assistant answer this conversation">
              <input
                type="checkbox"
                role="switch"
                checked={conversation.ai_enabled}
                onChange={(e) => void actions.setAi(conversation, e.target.checked)}
              />
              <span>AI {conversation.ai_enabled ? "on" : "off"}</span>
            </label>
          </div>
        </header>
        {conversation.is_archived && (
          <div className="window-note" role="status">
            Archived{conversation.archived_by ? ` by ${conversation.archived_by.full_name || conversation.archived_by.email}` : ""}. A new message from the customer brings it back to the inbox.
          </div>
        )}
        <WindowNotice state={window.state} closesAt={window.closesAt} />
        <div ref={scrollRef} className="thread-scroll" onScroll={onScroll} data-testid="thread" aria-label="Messages" role="log" aria-live="polite" tabIndex={0}>
          {thread.isPending ? (
            <div className="thread-placeholder" role="status">
              Loading messages…
            </div>
          ) : (
            <div className="thread-inner" style={{ height: virtualizer.getTotalSize() }}>
              {items.map((item) => {
                const row = rows[item.index];
                return (
                  <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="thread-row" style={{ transform: `translateY(${item.start}px)` }}>
                    {row.type === "day" ? (
                      <div className="day-sep" role="separator">
                        <span>{row.label}</span>
                      </div>
                    ) : row.type === "loader" ? (
                      <div className="thread-loader" role="status">
                        {thread.isFetchingNextPage ? "Loading earlier messages…" : "Scroll up for earlier messages"}
                      </div>
                    ) : (
                      <MessageView
                        message={row.message}
                        quoted={row.message.reply_to ? (byId.get(row.message.reply_to) ?? null) : undefined}
                        meId={me?.id}
                        onRetry={onRetry}
                        onDiscard={onDiscard}
                      />
                    )}
                  </div>
                );
              })}
            </div>
          )}
        </div>
        <Composer conversation={conversation} provider={account?.provider} window={window.state} />
      </section>
      <ContactPanel conversation={conversation} messages={messages} />
    </>
  );
}

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
          <dd>{conversation.ai_enabled ? "On" : "Off"}</dd>
        </div>
      </dl>
    </aside>
  );
}
