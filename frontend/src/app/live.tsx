import { useQueryClient } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from "react";
import { freshAccessToken } from "../api/http";
import { writeTokens } from "../api/tokens";
import type { Message, ServerEvent } from "../api/types";
import { findConversation } from "../state/cache";
import { applyEvent, resync } from "../state/events";
import { LiveConnection, type LiveStatus } from "../state/live";
import { notifyNewMessage } from "./notify";

type LiveState = { status: LiveStatus; reconnect: () => void; lastResync: string | null };
const LiveContext = createContext<LiveState>({ status: "connecting", reconnect: () => {}, lastResync: null });

export function LiveProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [lastResync, setLastResync] = useState<string | null>(null);
  const connection = useRef<LiveConnection | null>(null);

  useEffect(() => {
    const live = new LiveConnection({
      getToken: freshAccessToken,
      onEvent: (event: ServerEvent) => {
        applyEvent(qc, event);
        if (event.type === "message.created" && event.data.direction === "inbound") {
          const message = event.data as Message;
          notifyNewMessage(message, findConversation(qc, message.conversation));
        }
      },
      onResync: (since) => {
        void resync(qc, since).then(() => setLastResync(new Date().toISOString()));
      },
      onStatus: setStatus,
      onUnauthorized: () => writeTokens(null),
    });
    connection.current = live;
    live.start();
    // For the end-to-end tests and debugging: the state of this tab's one socket.
    (window as unknown as { __sbLive?: LiveConnection }).__sbLive = live;
    return () => live.stop();
  }, [qc]);

  return (
    <LiveContext.Provider value={{ status, reconnect: () => connection.current?.reconnectNow(), lastResync }}>
      {children}
    </LiveContext.Provider>
  );
}

export function useLive(): LiveState {
  return useContext(LiveContext);
}

export function OfflineBanner() {
  const { status, reconnect } = useLive();
  const [browserOnline, setBrowserOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const on = () => setBrowserOnline(true);
    const off = () => setBrowserOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  if (status === "online" && browserOnline) return null;
  if (status === "connecting" && browserOnline) return null;
  return (
    <div className="offline-banner" role="status" aria-live="polite" data-testid="offline-banner">
      <span>
        {browserOnline ? "Connection lost — reconnecting…" : "You are offline."} New messages will appear when the
        connection is back; nothing you send is lost.
      </span>
      {browserOnline && (
        <button type="button" className="btn small" onClick={reconnect}>
          Reconnect now
        </button>
      )}
    </div>
  );
}
