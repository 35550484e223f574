// One Intl formatter per format, made once: `Date#toLocale…String(locale, options)` builds a new formatter on every
// call (a fraction of a millisecond each), which is most of the cost of painting a row of the inbox or a thread.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify(options);
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, options);
    formatters.set(key, format);
  }
  return format;
}
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
const WEEKDAY: Intl.DateTimeFormatOptions = { weekday: "short" };
const DAY_MONTH: Intl.DateTimeFormatOptions = { day: "numeric", month: "short" };
const FULL: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" };
const LONG_DAY: Intl.DateTimeFormatOptions = { weekday: "long", day: "numeric", month: "long", year: "numeric" };

function sameDate(a: Date, b: Date): boolean {
  return a.getDate() === b.getDate() && a.getMonth() === b.getMonth() && a.getFullYear() === b.getFullYear();
}

/** The local calendar day of a timestamp, as a number that sorts and compares (20261201). */
export function dayKey(date: Date): number {
  return date.getFullYear() * 10000 + (date.getMonth() + 1) * 100 + date.getDate();
}

export function shortTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (sameDate(date, now)) return formatter(TIME).format(date);
  const days = (now.getTime() - date.getTime()) / 86400000;
  if (days < 6) return formatter(WEEKDAY).format(date);
  return formatter(DAY_MONTH).format(date);
}

/** Hours and minutes, as a message's time. */
export function clockTime(iso: string): string {
  return formatter(TIME).format(new Date(iso));
}

export function fullTime(iso: string): string {
  return formatter(FULL).format(new Date(iso));
}

export function dayLabel(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (sameDate(date, now)) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDate(date, yesterday)) return "Yesterday";
  return formatter(LONG_DAY).format(date);
}

export function formatPrice(price: string | number | null | undefined, currency?: string | null): string {
  if (price === null || price === undefined || price === "") return "";
  const amount = Number(price);
  if (Number.isNaN(amount)) return String(price);
  try {
    return new Intl.NumberFormat(undefined, {
      style: currency ? "currency" : "decimal",
      currency: currency || undefined,
      maximumFractionDigits: amount % 1 === 0 ? 0 : 2,
    }).format(amount);
  } catch {
    return `${amount.toLocaleString()} ${currency ?? ""}`.trim();
  }
}

export function fileSize(bytes: number | null | undefined): string {
  if (!bytes) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function initials(name: string): string {
  const parts = name.replace(/^@/, "").trim().split(/\s+/).filter(Boolean);
  return (parts[0]?.[0] ?? "?").toUpperCase() + (parts[1]?.[0] ?? "").toUpperCase();
}

/** Split text into plain runs and links (http(s) URLs and www. hosts). */
export function linkify(text: string): { text: string; href?: string }[] {
  const out: { text: string; href?: string }[] = [];
  const re = /\b(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]]|www\.[^\s<>"]+[^\s<>".,;:!?)\]])/g;
  let last = 0;
  for (const match of text.matchAll(re)) {
    const start = match.index ?? 0;
    if (start > last) out.push({ text: text.slice(last, start) });
    const url = match[0];
    out.push({ text: url, href: url.startsWith("http") ? url : `https://${url}` });
    last = start + url.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
