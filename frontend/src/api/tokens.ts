// Tokens live in localStorage so every tab shares one session; the refresh is single-flight across tabs (Web Locks),
// because the backend rotates refresh tokens and blacklists the old one.
export type Tokens = { access: string; refresh: string };

const KEY = "sb.auth";
const listeners = new Set<(tokens: Tokens | null) => void>();

export function readTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<Tokens>;
    return value.access && value.refresh ? { access: value.access, refresh: value.refresh } : null;
  } catch {
    return null;
  }
}

export function writeTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  listeners.forEach((listener) => listener(tokens));
}

export function onTokens(listener: (tokens: Tokens | null) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Seconds since the epoch at which a JWT expires (0 when unreadable). */
export function jwtExpiry(token: string): number {
  try {
    const payload = token.split(".")[1];
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    return Number((JSON.parse(json) as { exp?: number }).exp ?? 0);
  } catch {
    return 0;
  }
}

export function isFresh(token: string, marginSeconds = 20): boolean {
  return jwtExpiry(token) - marginSeconds > Date.now() / 1000;
}

// Other tabs logging in or out.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key === KEY) listeners.forEach((listener) => listener(readTokens()));
  });
}
