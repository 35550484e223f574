// One fetch for the whole app: adds the access token, refreshes it once on 401 (or before it expires) and retries,
// and turns a refused refresh into "session expired" (the app goes to the login page, keeping drafts).
import createClient from "openapi-fetch";
import type { ApiErrorBody } from "./types";
import type { paths } from "./schema";
import { isFresh, readTokens, writeTokens, type Tokens } from "./tokens";

export class ApiError extends Error {
  readonly status: number;
  readonly body: ApiErrorBody;
  constructor(status: number, body: ApiErrorBody) {
    super(body.detail || `Request failed (${status})`);
    this.status = status;
    this.body = body;
  }
  get code(): string | undefined {
    return this.body.code;
  }
  /** The first message for a field, or the detail. */
  field(name: string): string | undefined {
    return this.body.errors?.[name]?.[0];
  }
}

/** The network itself failed (offline, server down): a send may be retried with the same idempotency key. */
export class NetworkError extends Error {}

type SessionListener = () => void;
const sessionExpiredListeners = new Set<SessionListener>();
export function onSessionExpired(listener: SessionListener): () => void {
  sessionExpiredListeners.add(listener);
  return () => sessionExpiredListeners.delete(listener);
}

let organizationSlug: string | null = null;
/** X-Organization for every request (a user in several agencies picks one). */
export function setOrganization(slug: string | null): void {
  organizationSlug = slug;
}

let refreshing: Promise<Tokens | null> | null = null;

async function doRefresh(failedAccess: string | null): Promise<Tokens | null> {
  const run = async (): Promise<Tokens | null> => {
    const current = readTokens();
    if (!current) return null;
    // Another tab refreshed while we waited for the lock: use its tokens.
    if (current.access !== failedAccess && isFresh(current.access)) return current;
    const response = await fetch(new URL("/api/accounts/token/refresh/", origin()), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh: current.refresh }),
    }).catch(() => null);
    if (response === null) throw new NetworkError("The server cannot be reached.");
    if (!response.ok) {
      // The refresh token was rotated by another tab in the meantime: that tab wrote new tokens.
      const latest = readTokens();
      if (latest && latest.refresh !== current.refresh) return latest;
      writeTokens(null);
      sessionExpiredListeners.forEach((listener) => listener());
      return null;
    }
    const tokens = (await response.json()) as Tokens;
    writeTokens(tokens);
    return tokens;
  };
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? locks.request("sb.refresh", run) : run();
}

export function refreshTokens(failedAccess: string | null): Promise<Tokens | null> {
  refreshing ??= doRefresh(failedAccess).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A fresh access token, refreshing first when the stored one is about to expire (for the WebSocket too). */
export async function freshAccessToken(): Promise<string | null> {
  const tokens = readTokens();
  if (!tokens) return null;
  if (isFresh(tokens.access)) return tokens.access;
  return (await refreshTokens(tokens.access))?.access ?? null;
}

export async function authFetch(input: Request | string, init?: RequestInit): Promise<Response> {
  const request = typeof input === "string" ? new Request(new URL(input, origin()), init) : input;
  const attempt = async (token: string | null, req: Request) => {
    const headers = new Headers(req.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    if (organizationSlug) headers.set("X-Organization", organizationSlug);
    try {
      return await fetch(new Request(req, { headers }));
    } catch {
      throw new NetworkError("The server cannot be reached.");
    }
  };
  const retryCopy = request.clone();
  const token = await freshAccessToken();
  const response = await attempt(token, request);
  if (response.status !== 401 || !token) return response;
  const renewed = await refreshTokens(token);
  if (!renewed) return response;
  return attempt(renewed.access, retryCopy);
}

function origin(): string {
  return typeof location !== "undefined" ? location.origin : "http://localhost";
}

export const api = createClient<paths>({ baseUrl: origin(), fetch: authFetch });

/** Unwraps an openapi-fetch result: the data, or an ApiError with the API's JSON error shape. */
export async function unwrap<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await promise;
  if (!response.ok) throw new ApiError(response.status, (error ?? {}) as ApiErrorBody);
  return data as T;
}

/** A plain JSON call through authFetch, for the adapter endpoints the schema does not have yet. */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (init.body && typeof init.body === "string" && !headers.has("Content-Type")) {
    headers.set("Content-Type", "application/json");
  }
  const response = await authFetch(path, { ...init, headers });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw new ApiError(response.status, (body ?? {}) as ApiErrorBody);
  return body as T;
}
