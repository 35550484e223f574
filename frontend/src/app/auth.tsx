import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import * as endpoints from "../api/endpoints";
import { onSessionExpired, setOrganization } from "../api/http";
import { onTokens, readTokens, writeTokens, type Tokens } from "../api/tokens";
import type { Profile, Role } from "../api/types";
import { qk } from "../state/keys";

type AuthState = {
  tokens: Tokens | null;
  me: Profile | undefined;
  role: Role | null;
  /** The session ended by itself (refresh refused): the login page says so; drafts are kept. */
  expired: boolean;
  login: (email: string, password: string) => Promise<void>;
  register: (body: { email: string; password: string; full_name?: string; organization_name: string }) => Promise<void>;
  adopt: (tokens: Tokens) => void;
  logout: () => Promise<void>;
  switchOrganization: (slug: string) => void;
};

const AuthContext = createContext<AuthState | null>(null);
const ORG_KEY = "sb.organization";

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [tokens, setTokens] = useState<Tokens | null>(() => readTokens());
  const [expired, setExpired] = useState(false);
  const [organization, setOrg] = useState<string | null>(() => localStorage.getItem(ORG_KEY));
  setOrganization(organization);

  useEffect(() => onTokens(setTokens), []);
  useEffect(
    () =>
      onSessionExpired(() => {
        setExpired(true);
        qc.clear();
      }),
    [qc],
  );

  const me = useQuery({ queryKey: [...qk.me, organization], queryFn: endpoints.getMe, enabled: Boolean(tokens) });

  const adopt = useCallback((next: Tokens) => {
    setExpired(false);
    writeTokens(next);
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      tokens,
      me: tokens ? me.data : undefined,
      role: (tokens && me.data?.role) || null,
      expired,
      adopt,
      login: async (email, password) => {
        const answer = await endpoints.login({ email, password });
        performance.mark("sb:logged-in");
        qc.clear();
        adopt({ access: answer.access, refresh: answer.refresh });
      },
      register: async (body) => {
        const answer = await endpoints.register({ full_name: "", ...body });
        qc.clear();
        adopt({ access: answer.access, refresh: answer.refresh });
      },
      logout: async () => {
        const refresh = readTokens()?.refresh;
        writeTokens(null);
        qc.clear();
        if (refresh) await endpoints.logout(refresh).catch(() => undefined);
      },
      switchOrganization: (slug) => {
        localStorage.setItem(ORG_KEY, slug);
        setOrganization(slug);
        setOrg(slug);
        qc.clear();
      },
    }),
    [tokens, me.data, expired, adopt, qc],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

export function canManage(role: Role | null): boolean {
  return role === "owner" || role === "admin";
}
