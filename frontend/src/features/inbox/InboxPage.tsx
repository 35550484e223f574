import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import type { ConversationFilters } from "../../api/endpoints";
import type { Platform } from "../../api/types";
import { isTyping, useRegisterCommands } from "../../app/commands";
import { Icon } from "../../components/Icon";
import { ThreadView } from "../thread/Thread";
import { ConversationList } from "./ConversationList";
import { useConversationActions } from "./actions";
import { useAccounts, useConversations } from "./useConversations";

let inboxRenderedMarked = false;

export function filtersFromParams(params: URLSearchParams): ConversationFilters {
  const filters: ConversationFilters = {};
  const platform = params.get("platform");
  if (platform === "whatsapp" || platform === "messenger" || platform === "instagram") filters.platform = platform as Platform;
  const account = Number(params.get("account"));
  if (account > 0) filters.platform_account = account;
  if (params.get("unread") === "1") filters.unread = true;
  if (params.get("archived") === "1") filters.is_archived = true;
  if (params.get("needs_human") === "1") filters.needs_human = true;
  const q = params.get("q")?.trim();
  if (q) filters.search = q;
  return filters;
}

export function InboxPage() {
  const { conversationId } = useParams();
  const selectedId = conversationId ? Number(conversationId) : null;
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  const conversations = useConversations(filters);
  const accounts = useAccounts();
  const actions = useConversationActions();
  const [searchText, setSearchText] = useState(params.get("q") ?? "");
  const searchRef = useRef<HTMLInputElement>(null);
  const [markedVersion, setMarkedVersion] = useState(0);
  const search = params.toString() ? `?${params.toString()}` : "";
  const rows = conversations.rows;

  useEffect(() => {
    if (!inboxRenderedMarked && conversations.data) {
      inboxRenderedMarked = true;
      requestAnimationFrame(() => performance.mark("sb:inbox-rendered"));
    }
  }, [conversations.data]);

  // Debounced search into the URL.
  useEffect(() => {
    const timer = setTimeout(() => {
      const current = params.get("q") ?? "";
      if (searchText.trim() === current) return;
      const next = new URLSearchParams(params);
      if (searchText.trim()) next.set("q", searchText.trim());
      else next.delete("q");
      setParams(next, { replace: true });
    }, 250);
    return () => clearTimeout(timer);
  }, [searchText, params, setParams]);

  const setFilter = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const selected = rows.find((r) => r.id === selectedId) ?? null;
  // Where J/K move from: the conversation last moved to, even before the route change has rendered (J pressed twice
  // quickly moves twice), and otherwise the one the route shows.
  const cursor = useRef<number | null>(selectedId);
  useEffect(() => {
    cursor.current = selectedId;
  }, [selectedId]);
  const move = (delta: number) => {
    if (!rows.length) return;
    const from = cursor.current;
    const index = from === null ? -1 : rows.findIndex((r) => r.id === from);
    const next = rows[Math.min(rows.length - 1, Math.max(0, index + delta))];
    if (next) cursor.current = next.id;
    if (next) navigate({ pathname: `/inbox/${next.id}`, search });
    if (index + delta >= rows.length - 5 && conversations.hasNextPage) void conversations.fetchNextPage();
  };
  const toggleArchive = () => {
    if (!selected) return;
    if (selected.is_archived) actions.unarchive.mutate(selected);
    else {
      const index = rows.findIndex((r) => r.id === selected.id);
      actions.archive.mutate(selected);
      const next = rows[index + 1] ?? rows[index - 1];
      navigate({ pathname: next && next.id !== selected.id ? `/inbox/${next.id}` : "/inbox", search });
    }
  };
  const markUnread = () => {
    if (!selected) return;
    actions.markUnread.mutate(selected, { onSettled: () => setMarkedVersion((v) => v + 1) });
    // Leave it: an open conversation is read again at once.
    navigate({ pathname: "/inbox", search });
  };
  const focusComposer = () => document.getElementById("composer-input")?.focus();

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (isTyping(event) || event.ctrlKey || event.metaKey || event.altKey) {
        if (event.key === "Escape" && isTyping(event)) (event.target as HTMLElement).blur();
        return;
      }
      switch (event.key) {
        case "j":
          move(1);
          break;
        case "k":
          move(-1);
          break;
        case "e":
          toggleArchive();
          break;
        case "u":
          markUnread();
          break;
        case "r":
        case "c":
          event.preventDefault();
          focusComposer();
          break;
        case "/":
          event.preventDefault();
          searchRef.current?.focus();
          break;
        case "Escape":
          if (selectedId !== null) navigate({ pathname: "/inbox", search });
          break;
        default:
          return;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  useRegisterCommands(
    [
      { id: "inbox.next", label: "Next conversation", shortcut: "J", run: () => move(1), group: "Conversation" },
      { id: "inbox.prev", label: "Previous conversation", shortcut: "K", run: () => move(-1), group: "Conversation" },
      ...(selected
        ? [
            {
              id: "inbox.archive",
              label: selected.is_archived ? "Unarchive conversation" : "Archive conversation",
              shortcut: "E",
              run: toggleArchive,
              group: "Conversation",
            },
            { id: "inbox.unread", label: "Mark as unread", shortcut: "U", run: markUnread, group: "Conversation" },
            { id: "inbox.read", label: "Mark as read", run: () => actions.markRead.mutate(selected), group: "Conversation" },
            {
              id: "inbox.ai",
              label: selected.ai_enabled ? "Turn the AI assistant off" : "Turn the AI assistant on",
              run: () => void actions.setAi(selected, !selected.ai_enabled).catch(() => undefined),
              group: "Conversation",
            },
            {
              id: "inbox.trusted",
              label: selected.contact.is_trusted ? "Stop trusting this contact" : "Trust this contact (the AI may answer them)",
              run: () => void actions.setTrusted(selected, !selected.contact.is_trusted).catch(() => undefined),
              group: "Conversation",
            },
            ...(selected.needs_human
              ? [{ id: "inbox.handBack", label: "Hand back to AI", run: () => void actions.handBack(selected).catch(() => undefined), group: "Conversation" }]
              : []),
            { id: "inbox.compose", label: "Focus the composer", shortcut: "R", run: focusComposer, group: "Conversation" },
          ]
        : []),
      { id: "inbox.search", label: "Search conversations", shortcut: "/", run: () => searchRef.current?.focus(), group: "Inbox" },
      { id: "inbox.unreadOnly", label: "Show only unread", run: () => setFilter("unread", "1"), group: "Inbox" },
      { id: "inbox.needsHuman", label: "Show conversations that need a human", run: () => setFilter("needs_human", "1"), group: "Inbox" },
      { id: "inbox.archiveView", label: "Show the archive", run: () => setFilter("archived", "1"), group: "Inbox" },
      { id: "inbox.inboxView", label: "Show the inbox", run: () => setFilter("archived", null), group: "Inbox" },
    ],
    [selected, rows, params],
  );

  const archived = filters.is_archived === true;
  const emptyText = filters.search
    ? `No conversation matches “${filters.search}”.`
    : archived
      ? "The archive is empty."
      : filters.needs_human
        ? "No conversation needs a human right now."
        : filters.unread
          ? "Nothing unread. 🎉"
        : "No conversations yet. Connect an account in Settings.";

  return (
    <div className={`inbox${selectedId !== null ? " has-thread" : ""}`}>
      <section className="pane list-pane" aria-label={archived ? "Archive" : "Inbox"}>
        <header className="list-header">
          <div className="list-title">
            <h1>{archived ? "Archive" : "Inbox"}</h1>
            <div className="segmented" role="group" aria-label="Inbox or archive">
              <button type="button" aria-pressed={!archived} onClick={() => setFilter("archived", null)}>
                Inbox
              </button>
              <button type="button" aria-pressed={archived} onClick={() => setFilter("archived", "1")}>
                Archive
              </button>
            </div>
          </div>
          <div className="search">
            <Icon name="search" size={16} />
            <label htmlFor="conversation-search" className="visually-hidden">
              Search conversations
            </label>
            <input
              id="conversation-search"
              ref={searchRef}
              type="search"
              placeholder="Search name, phone or message  ( / )"
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
            />
          </div>
          <div className="filters">
            <label className="visually-hidden" htmlFor="filter-platform">
              Platform
            </label>
            <select id="filter-platform" value={filters.platform ?? ""} onChange={(e) => setFilter("platform", e.target.value || null)}>
              <option value="">All platforms</option>
              <option value="whatsapp">WhatsApp</option>
              <option value="messenger">Messenger</option>
              <option value="instagram">Instagram</option>
            </select>
            <label className="visually-hidden" htmlFor="filter-account">
              Account
            </label>
            <select
              id="filter-account"
              value={filters.platform_account ? String(filters.platform_account) : ""}
              onChange={(e) => setFilter("account", e.target.value || null)}
            >
              <option value="">All accounts</option>
              {(accounts.data ?? [])
                .filter((a) => !filters.platform || a.platform === filters.platform)
                .map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.display_name}
                  </option>
                ))}
            </select>
            <label className="check">
              <input type="checkbox" checked={filters.unread === true} onChange={(e) => setFilter("unread", e.target.checked ? "1" : null)} />
              Unread
            </label>
            <label className="check" title="Conversations the AI assistant handed over to a person">
              <input
                type="checkbox"
                checked={filters.needs_human === true}
                onChange={(e) => setFilter("needs_human", e.target.checked ? "1" : null)}
              />
              Needs human
            </label>
          </div>
        </header>
        {conversations.isPending ? (
          <div className="conv-empty" role="status">
            Loading conversations…
          </div>
        ) : conversations.isError ? (
          <div className="conv-empty" role="alert">
            Conversations could not be loaded. <button className="btn small" onClick={() => void conversations.refetch()}>Try again</button>
          </div>
        ) : (
          <ConversationList
            rows={rows}
            selectedId={selectedId}
            hasNextPage={Boolean(conversations.hasNextPage)}
            isFetchingNextPage={conversations.isFetchingNextPage}
            fetchNextPage={() => void conversations.fetchNextPage()}
            search={search}
            emptyText={emptyText}
            markedVersion={markedVersion}
          />
        )}
      </section>
      {selectedId !== null ? (
        <ThreadView
          key={selectedId}
          conversationId={selectedId}
          listed={selected}
          backTo={{ pathname: "/inbox", search }}
          onArchiveToggle={toggleArchive}
          onMarkUnread={markUnread}
        />
      ) : (
        <section className="pane thread-pane empty" aria-label="Conversation">
          <div className="thread-placeholder">
            <Icon name="inbox" size={40} />
            <p>Select a conversation.</p>
            <p className="muted small">
              <kbd>J</kbd>/<kbd>K</kbd> move · <kbd>E</kbd> archive · <kbd>U</kbd> unread · <kbd>R</kbd> reply · <kbd>Ctrl</kbd>+<kbd>K</kbd> commands
            </p>
          </div>
        </section>
      )}
    </div>
  );
}
