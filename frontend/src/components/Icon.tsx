// Inline SVG icons (stroke style); decorative unless given a `label`.
const PATHS: Record<string, string> = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  settings: "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM19 12l2-1-1-3-2 .5-1.5-1.5.5-2-3-1-1 2h-2l-1-2-3 1 .5 2L6 7.5 4 7l-1 3 2 1v2l-2 1 1 3 2-.5L7.5 18 7 20l3 1 1-2h2l1 2 3-1-.5-2 1.5-1.5 2 .5 1-3-2-1z",
  command: "M9 6a3 3 0 1 0-3 3h12a3 3 0 1 0-3-3v12a3 3 0 1 0 3-3H6a3 3 0 1 0 3 3z",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  archive: "M3 5h18v4H3zM5 9v10h14V9M10 13h4",
  unarchive: "M3 5h18v4H3zM5 9v10h14V9M12 17v-6M9 14l3-3 3 3",
  unread: "M4 6h16v12H4zM4 7l8 6 8-6",
  read: "M4 10l8-5 8 5v9H4zM4 10l8 5 8-5",
  ai: "M12 3l2 5 5 2-5 2-2 5-2-5-5-2 5-2zM19 16l1 2 2 1-2 1-1 2-1-2-2-1 2-1z",
  send: "M4 12l16-8-6 16-2-6z",
  attach: "M16 7l-7 7a2 2 0 0 0 3 3l7-7a4 4 0 0 0-6-6l-7 7a6 6 0 0 0 8 8l6-6",
  listing: "M4 11l8-6 8 6M6 10v9h12v-9M10 19v-5h4v5",
  template: "M5 4h14v16H5zM8 8h8M8 12h8M8 16h5",
  back: "M15 5l-7 7 7 7",
  check: "M5 12l5 5 9-10",
  checks: "M2 12l5 5 9-10M10 16l1 1 9-10",
  clock: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM12 7v5l3 3",
  alert: "M12 3l10 18H2zM12 10v5M12 18v.5",
  search: "M10 4a6 6 0 1 0 0 12 6 6 0 0 0 0-12zM15 15l5 5",
  close: "M6 6l12 12M18 6L6 18",
  retry: "M4 12a8 8 0 0 1 14-5l2 2M20 4v5h-5M20 12a8 8 0 0 1-14 5l-2-2M4 20v-5h5",
  location: "M12 21s-7-6-7-11a7 7 0 0 1 14 0c0 5-7 11-7 11zM12 8a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
  doc: "M6 3h8l4 4v14H6zM14 3v4h4M9 13h6M9 17h6",
  user: "M12 4a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM4 21a8 8 0 0 1 16 0",
  plus: "M12 5v14M5 12h14",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  up: "M12 19V5M6 11l6-6 6 6",
  down: "M12 5v14M6 13l6 6 6-6",
  copy: "M8 8h12v12H8zM4 16V4h12",
  reply: "M9 14L4 9l5-5M4 9h10a6 6 0 0 1 6 6v4",
  sync: "M4 12a8 8 0 0 1 14-5l2 2M20 4v5h-5M20 12a8 8 0 0 1-14 5l-2-2M4 20v-5h5",
  emoji: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01",
};

export function Icon({ name, label, size = 20 }: { name: string; label?: string; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      role={label ? "img" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      focusable="false"
    >
      <path d={PATHS[name] ?? PATHS.alert} />
    </svg>
  );
}

const PLATFORM_LABEL = { whatsapp: "WhatsApp", messenger: "Messenger", instagram: "Instagram" } as const;
export function platformLabel(platform: string): string {
  return PLATFORM_LABEL[platform as keyof typeof PLATFORM_LABEL] ?? platform;
}

/** The platform's mark, in its colours, always with a text alternative. */
export function PlatformIcon({ platform, size = 16 }: { platform: string; size?: number }) {
  const label = platformLabel(platform);
  if (platform === "whatsapp") {
    return (
      <svg width={size} height={size} viewBox="0 0 24 24" role="img" aria-label={label} className="platform-icon">
        <circle cx="12" cy="12" r="11" fill="#128c4b" />
        <path d="M7.5 17.5l.8-2.6a5 5 0 1 1 2 1.8z" fill="none" stroke="#fff" strokeWidth="1.6" strokeLinejoin="round" />
      </svg>
    );
  }
  if (platform === "messenger") {
    return (
      <svg width={size} height={size} viewBox="0 0 24 24" role="img" aria-label={label} className="platform-icon">
        <circle cx="12" cy="12" r="11" fill="#0866ff" />
        <path d="M6.5 14l3.5-3.8 2.2 2 3.3-2.2-3.5 3.8-2.2-2z" fill="#fff" />
      </svg>
    );
  }
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" role="img" aria-label={label} className="platform-icon">
      <rect x="1" y="1" width="22" height="22" rx="7" fill="#c1358b" />
      <rect x="6" y="6" width="12" height="12" rx="4" fill="none" stroke="#fff" strokeWidth="1.7" />
      <circle cx="12" cy="12" r="2.6" fill="none" stroke="#fff" strokeWidth="1.7" />
    </svg>
  );
}
