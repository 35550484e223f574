import { useMutation, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { NavLink, Outlet, useNavigate } from "react-router";
import { acceptMyInvitation, declineMyInvitation } from "../api/endpoints";
import { useAuth } from "./auth";
import { LiveProvider, OfflineBanner } from "./live";
import { useUnreadTitle } from "./title";
import { qk } from "../state/keys";
import { Icon } from "../components/Icon";

const CommandPalette = lazy(() => import("../features/palette/CommandPalette"));

function InvitationsBanner() {
  const { me, switchOrganization } = useAuth();
  const qc = useQueryClient();
  const accept = useMutation({
    mutationFn: acceptMyInvitation,
    onSuccess: () => qc.invalidateQueries({ queryKey: qk.me }),
  });
  const decline = useMutation({
    mutationFn: declineMyInvitation,
    onSuccess: () => qc.invalidateQueries({ queryKey: qk.me }),
  });
  const invitations = me?.invitations ?? [];
  if (!invitations.length) return null;
  return (
    <div className="banner info" role="region" aria-label="Invitations">
      {invitations.map((invitation) => (
        <div key={invitation.id} className="banner-row">
          <span>
            {invitation.invited_by?.full_name || invitation.invited_by?.email || "Someone"} invited you to{" "}
            <strong>{invitation.organization.name}</strong> as {invitation.role}.
          </span>
          <button
            className="btn small primary"
            type="button"
            onClick={() =>
              accept.mutate(invitation.id, { onSuccess: () => switchOrganization(invitation.organization.slug) })
            }
          >
            Accept
          </button>
          <button className="btn small" type="button" onClick={() => decline.mutate(invitation.id)}>
            Decline
          </button>
        </div>
      ))}
    </div>
  );
}

function UnreadTitle() {
  useUnreadTitle();
  return null;
}

export function Shell() {
  const { me, logout, switchOrganization } = useAuth();
  const navigate = useNavigate();
  const [paletteOpen, setPaletteOpen] = useState(false);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        setPaletteOpen((open) => !open);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  return (
    <LiveProvider>
      <UnreadTitle />
      <div className="shell">
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <nav className="rail" aria-label="Main">
          <div className="rail-brand" aria-hidden="true">
            <img src="/favicon.svg" alt="" width={28} height={28} />
          </div>
          <NavLink to="/inbox" className="rail-link" aria-label="Inbox" title="Inbox">
            <Icon name="inbox" />
            <span className="rail-label">Inbox</span>
          </NavLink>
          <NavLink to="/settings" className="rail-link" aria-label="Settings" title="Settings">
            <Icon name="settings" />
            <span className="rail-label">Settings</span>
          </NavLink>
          <button
            type="button"
            className="rail-link"
            aria-label="Command palette (Ctrl+K)"
            title="Command palette (Ctrl+K)"
            onClick={() => setPaletteOpen(true)}
          >
            <Icon name="command" />
            <span className="rail-label">Commands</span>
          </button>
          <div className="rail-spacer" />
          {me && me.memberships.length > 1 && (
            <label className="rail-org">
              <span className="visually-hidden">Agency</span>
              <select
                value={me.organization?.slug ?? ""}
                onChange={(e) => {
                  switchOrganization(e.target.value);
                  navigate("/inbox");
                }}
              >
                {me.memberships.map((m) => (
                  <option key={m.organization.id} value={m.organization.slug}>
                    {m.organization.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button
            type="button"
            className="rail-link"
            aria-label={`Log out ${me?.email ?? ""}`}
            title={`Log out ${me?.email ?? ""}`}
            onClick={() => void logout().then(() => navigate("/login"))}
          >
            <Icon name="logout" />
            <span className="rail-label">Log out</span>
          </button>
        </nav>
        <div className="shell-main">
          <OfflineBanner />
          <InvitationsBanner />
          <div id="main" className="shell-content">
            <Outlet />
          </div>
        </div>
      </div>
      {paletteOpen && (
        <Suspense fallback={null}>
          <CommandPalette onClose={() => setPaletteOpen(false)} />
        </Suspense>
      )}
    </LiveProvider>
  );
}
