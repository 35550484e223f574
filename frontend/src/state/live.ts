// The one WebSocket of this tab (/ws/messages/): connects with a fresh access token, answers 4401 by refreshing and
// reconnecting, otherwise reconnects with exponential backoff (and at once when the browser is back online), pings
// to notice a dead connection, and after every reconnect asks the app to resync what it missed.
import type { ServerEvent } from "../api/types";

export type LiveStatus = "connecting" | "online" | "offline";

export type LiveOptions = {
  getToken: () => Promise<string | null>;
  onEvent: (event: ServerEvent) => void;
  /** After a reconnect: `since` is when the previous connection was last known to be alive (ISO). */
  onResync: (since: string) => void;
  onStatus?: (status: LiveStatus) => void;
  /** 4401 after a refresh too: the session is over. */
  onUnauthorized?: () => void;
  url?: (token: string) => string;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  pingEveryMs?: number;
  pongTimeoutMs?: number;
};

export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

/** Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s … at most 30 s, with ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.8 + random() * 0.4));
}

function defaultUrl(token: string): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/messages/?token=${encodeURIComponent(token)}`;
}

export class LiveConnection {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private lastAlive: number | null = null;
  private everConnected = false;
  private stopped = true;
  private unauthorizedInRow = 0;
  status: LiveStatus = "offline";

  constructor(private readonly options: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (typeof window !== "undefined") window.addEventListener("online", this.handleOnline);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (typeof window !== "undefined") window.removeEventListener("online", this.handleOnline);
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
    this.setStatus("offline");
  }

  private handleOnline = () => {
    if (this.stopped || this.status === "online") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    void this.connect();
  };

  private setStatus(status: LiveStatus) {
    if (this.status === status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }

  private clearTimers() {
    if (this.timer) clearTimeout(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.timer = this.pingTimer = this.pongTimer = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.setStatus(this.everConnected ? "offline" : "connecting");
    let token: string | null = null;
    try {
      token = await this.options.getToken();
    } catch {
      token = null; // the server is unreachable: try again later
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    if (!token) {
      this.options.onUnauthorized?.();
      return;
    }
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const socket = new Impl((this.options.url ?? defaultUrl)(token));
    this.socket = socket;
    socket.onmessage = (message) => {
      if (this.socket !== socket) return;
      let event: ServerEvent;
      try {
        event = JSON.parse(String(message.data)) as ServerEvent;
      } catch {
        return;
      }
      this.alive();
      if (event.type === "connection.ready") {
        const wasConnected = this.everConnected;
        const since = this.lastAlive;
        this.everConnected = true;
        this.attempt = 0;
        this.unauthorizedInRow = 0;
        this.setStatus("online");
        this.startPing(socket);
        if (wasConnected && this.resyncFrom !== null) this.options.onResync(new Date(this.resyncFrom).toISOString());
        else if (wasConnected && since !== null) this.options.onResync(new Date(since).toISOString());
        this.resyncFrom = null;
        return;
      }
      if (event.type === "pong") return;
      this.options.onEvent(event);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.pongTimer) clearTimeout(this.pongTimer);
      this.pingTimer = this.pongTimer = null;
      if (this.resyncFrom === null && this.lastAlive !== null) this.resyncFrom = this.lastAlive;
      if (this.stopped) return;
      this.setStatus(this.everConnected ? "offline" : "connecting");
      if (close.code === 4401) {
        // The access token expired: a fresh one (getToken refreshes) and reconnect at once — twice in a row means
        // the session is gone.
        this.unauthorizedInRow += 1;
        if (this.unauthorizedInRow > 2) {
          this.options.onUnauthorized?.();
          return;
        }
        void this.connect();
        return;
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      /* onclose follows */
    };
  }

  /** The last moment the previous connection was known alive: resync from there. */
  private resyncFrom: number | null = null;

  private alive() {
    this.lastAlive = Date.now();
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  private startPing(socket: WebSocket) {
    const every = this.options.pingEveryMs ?? 25000;
    const timeout = this.options.pongTimeoutMs ?? 10000;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (socket.readyState !== 1) return;
      socket.send(JSON.stringify({ type: "ping" }));
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => socket.close(4000, "no pong"), timeout);
    }, every);
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempt, this.options.random);
    this.attempt += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  /** For tests and the offline banner's "Reconnect now". */
  reconnectNow(): void {
    this.handleOnline();
  }
}
