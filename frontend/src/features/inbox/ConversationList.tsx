import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useCallback, useEffect, useMemo, useRef } from "react";
import { Link } from "react-router";
import { locallyUnread } from "../../api/adapters";
import type { Conversation } from "../../api/types";
import { contactName } from "../../app/notify";
import { PlatformIcon } from "../../components/Icon";
import { Avatar } from "../../components/Avatar";
import { shortTime } from "../../lib/format";

export const ROW_HEIGHT = 80;
/** Rows before the end of the loaded list at which the next page is asked for. */
const PREFETCH_ROWS = 30;
const fixedRowHeight = () => ROW_HEIGHT;

const Row = memo(function Row({
  conversation,
  selected,
  markedUnread,
  search,
}: {
  conversation: Conversation;
  selected: boolean;
  markedUnread: boolean;
  search: string;
}) {
  const name = contactName(conversation);
  const unread = conversation.unread_count > 0 || markedUnread;
  return (
    <Link
      to={{ pathname: `/inbox/${conversation.id}`, search }}
      className={`conv-row${selected ? " selected" : ""}${unread ? " unread" : ""}${conversation.needs_human ? " needs-human" : ""}`}
      aria-current={selected ? "true" : undefined}
      data-conversation-id={conversation.id}
      data-platform={conversation.platform}
      data-needs-human={conversation.needs_human || undefined}
    >
      <span className="conv-avatar">
        <Avatar name={name} url={conversation.contact.profile_picture_url} />
        <span className="conv-platform">
          <PlatformIcon platform={conversation.platform} size={16} />
        </span>
      </span>
      <span className="conv-body">
        <span className="conv-top">
          <span className="conv-name">{name}</span>
          <time className="conv-time" dateTime={conversation.last_message_at}>
            {shortTime(conversation.last_message_at)}
          </time>
        </span>
        <span className="conv-bottom">
          <span className="conv-preview">{conversation.last_message_preview || "No messages yet"}</span>
          {conversation.unread_count > 0 ? (
            <span className="badge" aria-label={`${conversation.unread_count} unread`}>
              {conversation.unread_count > 99 ? "99+" : conversation.unread_count}
            </span>
          ) : markedUnread ? (
            <span className="dot" aria-label="Marked unread" />
          ) : null}
        </span>
        <span className="conv-foot">
          <span className="conv-account">{conversation.platform_account.display_name}</span>
          {conversation.needs_human && (
            <span className="needs-human-pill" title={conversation.needs_human_reason || "The AI assistant handed this conversation over"}>
              Needs human
            </span>
          )}
        </span>
      </span>
    </Link>
  );
});

export function ConversationList({
  rows,
  selectedId,
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  search,
  emptyText,
  markedVersion,
}: {
  rows: Conversation[];
  selectedId: number | null;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => void;
  search: string;
  emptyText: string;
  markedVersion: number;
}) {
  const parentRef = useRef<HTMLDivElement>(null);
  // A stable key function: the virtualizer recomputes every row's offset whenever it changes, and it would
  // otherwise change on every render (every scrolled frame) — 10,000 rows' worth of work per frame.
  const getItemKey = useCallback((index: number) => rows[index]?.id ?? "loader", [rows]);
  const virtualizer = useVirtualizer({
    count: rows.length + (hasNextPage ? 1 : 0),
    getScrollElement: () => parentRef.current,
    estimateSize: fixedRowHeight,
    overscan: 8,
    getItemKey,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;

  // Infinite scroll: ask for the next page when the loader row, or a row PREFETCH_ROWS before it, is rendered.
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - PREFETCH_ROWS) fetchNextPage();
  }, [lastIndex, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  // Keep the selected row in view when it is changed from the keyboard.
  const selectedIndex = useMemo(() => (selectedId === null ? -1 : rows.findIndex((r) => r.id === selectedId)), [rows, selectedId]);
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: "auto" });
  }, [selectedIndex, virtualizer]);

  const marked = locallyUnread();
  void markedVersion;

  if (!rows.length && !hasNextPage) {
    return (
      <div className="conv-empty" role="status">
        {emptyText}
      </div>
    );
  }
  return (
    <div ref={parentRef} className="conv-scroll" data-testid="conversation-list" aria-label="Conversations" role="region">
      <ul className="conv-list" style={{ height: virtualizer.getTotalSize() }} aria-busy={isFetchingNextPage}>
        {items.map((item) => {
          const conversation = rows[item.index];
          return (
            <li
              key={item.key}
              className="conv-item"
              style={{ transform: `translateY(${item.start}px)`, height: item.size }}
              aria-setsize={hasNextPage ? -1 : rows.length}
              aria-posinset={item.index + 1}
            >
              {conversation ? (
                <Row
                  conversation={conversation}
                  selected={conversation.id === selectedId}
                  markedUnread={marked.has(conversation.id)}
                  search={search}
                />
              ) : (
                <div className="conv-loader" role="status">
                  Loading more…
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
