// Ctrl/⌘+K: jump to a conversation (loaded ones at once, the server's search as you type) or run an action.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate } from "react-router";
import { listConversations } from "../../api/endpoints";
import type { Conversation } from "../../api/types";
import { useCommands } from "../../app/commands";
import { contactName } from "../../app/notify";
import { PlatformIcon } from "../../components/Icon";
import type { ConversationPages } from "../../state/cache";
import { qk } from "../../state/keys";

type Item = { id: string; label: string; hint?: string; group: string; run: () => void; platform?: string };

export default function CommandPalette({ onClose }: { onClose: () => void }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const commands = useCommands();
  const [query, setQuery] = useState("");
  const [debounced, setDebounced] = useState("");
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => previous?.focus();
  }, []);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(query.trim()), 200);
    return () => clearTimeout(t);
  }, [query]);

  const remote = useQuery({
    queryKey: ["palette", debounced],
    queryFn: () => listConversations({ search: debounced }, undefined, 8),
    enabled: debounced.length >= 2,
    staleTime: 30_000,
  });

  const items = useMemo<Item[]>(() => {
    const q = query.trim().toLowerCase();
    const loaded = new Map<number, Conversation>();
    for (const [, data] of qc.getQueriesData<ConversationPages>({ queryKey: qk.allConversations })) {
      data?.pages.forEach((p) => p.results.forEach((c) => loaded.set(c.id, c)));
    }
    (remote.data?.results ?? []).forEach((c) => loaded.set(c.id, c));
    const conversations = [...loaded.values()]
      .filter((c) => !q || contactName(c).toLowerCase().includes(q) || (c.last_message_preview ?? "").toLowerCase().includes(q) || (remote.data?.results ?? []).some((r) => r.id === c.id))
      .slice(0, 8)
      .map<Item>((c) => ({
        id: `c-${c.id}`,
        label: contactName(c),
        hint: c.last_message_preview,
        group: "Conversations",
        platform: c.platform,
        run: () => navigate(`/inbox/${c.id}`),
      }));
    const nav: Item[] = [
      { id: "go-inbox", label: "Go to inbox", group: "Go to", run: () => navigate("/inbox") },
      { id: "go-archive", label: "Go to archive", group: "Go to", run: () => navigate("/inbox?archived=1") },
      { id: "go-unread", label: "Go to unread", group: "Go to", run: () => navigate("/inbox?unread=1") },
      { id: "go-accounts", label: "Settings: platform accounts", group: "Go to", run: () => navigate("/settings/accounts") },
      { id: "go-members", label: "Settings: members and roles", group: "Go to", run: () => navigate("/settings/members") },
      { id: "go-listings", label: "Settings: listings", group: "Go to", run: () => navigate("/settings/listings") },
      { id: "go-assistant", label: "Settings: AI assistant", group: "Go to", run: () => navigate("/settings/assistant") },
      { id: "go-prefs", label: "Settings: notifications and sound", group: "Go to", run: () => navigate("/settings/preferences") },
    ];
    const actions = commands.map<Item>((c) => ({ id: c.id, label: c.label, hint: c.shortcut, group: c.group ?? "Actions", run: c.run }));
    const match = (i: Item) => !q || i.label.toLowerCase().includes(q);
    return [...conversations, ...actions.filter(match), ...nav.filter(match)];
  }, [query, qc, remote.data, commands, navigate]);

  useEffect(() => setActive(0), [query]);

  const run = (item: Item | undefined) => {
    if (!item) return;
    onClose();
    item.run();
  };

  return (
    <div className="palette-backdrop" onClick={onClose}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette" onClick={(e) => e.stopPropagation()}>
        <input
          ref={inputRef}
          className="palette-input"
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-activedescendant={items[active] ? `palette-${items[active].id}` : undefined}
          aria-label="Search conversations and commands"
          placeholder="Jump to a conversation or run a command…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") {
              e.preventDefault();
              setActive((a) => Math.min(items.length - 1, a + 1));
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              setActive((a) => Math.max(0, a - 1));
            } else if (e.key === "Enter") {
              e.preventDefault();
              run(items[active]);
            } else if (e.key === "Escape") {
              e.preventDefault();
              onClose();
            }
          }}
        />
        <ul id="palette-list" role="listbox" className="palette-list" aria-label="Results">
          {items.map((item, i) => (
            <li
              key={item.id}
              id={`palette-${item.id}`}
              role="option"
              aria-selected={i === active}
              className={`palette-item${i === active ? " active" : ""}`}
              onMouseEnter={() => setActive(i)}
              onClick={() => run(item)}
            >
              <span className="palette-group">{item.group}</span>
              {item.platform && <PlatformIcon platform={item.platform} size={14} />}
              <span className="palette-label">{item.label}</span>
              {item.hint && <span className="palette-hint">{item.hint}</span>}
            </li>
          ))}
          {!items.length && <li className="palette-item muted">Nothing found.</li>}
        </ul>
      </div>
    </div>
  );
}
