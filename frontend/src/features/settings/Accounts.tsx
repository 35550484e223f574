import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { newVerifyToken, PROVIDERS, testAccount, webhookUrl, type ConnectionTest } from "../../api/adapters";
import { createAccount, disconnectAccount, listAccounts, listSyncRuns, syncAccount, updateAccount } from "../../api/endpoints";
import type { Platform, PlatformAccount, Provider } from "../../api/types";
import { canManage, useAuth } from "../../app/auth";
import { Icon, PlatformIcon, platformLabel } from "../../components/Icon";
import { fullTime } from "../../lib/format";
import { qk } from "../../state/keys";
import { CopyField, ErrorText, Section, TextInput } from "./common";

const PROVIDER_LABEL: Record<Provider, string> = {
  meta: "Meta (Cloud API / Graph)",
  twilio: "Twilio",
  bridge: "WhatsApp-Web bridge",
  sandbox: "Sandbox (local, no vendor)",
};

const CREDENTIALS: Record<Provider, { key: string; label: string; secret?: boolean; optional?: boolean }[]> = {
  meta: [{ key: "access_token", label: "Access token", secret: true }],
  twilio: [
    { key: "account_sid", label: "Account SID" },
    { key: "auth_token", label: "Auth token", secret: true },
    { key: "messaging_service_sid", label: "Messaging service SID", optional: true },
  ],
  bridge: [
    { key: "base_url", label: "Bridge base URL" },
    { key: "api_key", label: "API key", secret: true, optional: true },
  ],
  sandbox: [],
};

function externalIdHelp(platform: Platform, provider: Provider): string {
  if (provider === "twilio") return "The Twilio WhatsApp number in E.164, e.g. +14155238886.";
  if (provider === "bridge") return "The bridge session name.";
  if (provider === "sandbox") return "Any id; deliveries to the sandbox webhook name it.";
  if (platform === "whatsapp") return "The Phone number ID (metadata.phone_number_id).";
  if (platform === "messenger") return "The Facebook Page ID.";
  return "The Instagram professional account id.";
}

function AccountForm({ account, onDone }: { account?: PlatformAccount; onDone: (created?: { account: PlatformAccount; verifyToken?: string }) => void }) {
  const qc = useQueryClient();
  const [platform, setPlatform] = useState<Platform>(account?.platform ?? "whatsapp");
  const [provider, setProvider] = useState<Provider>(account?.provider ?? "meta");
  const [verifyToken, setVerifyToken] = useState(() => (account ? "" : newVerifyToken()));
  const save = useMutation({
    mutationFn: async (form: FormData) => {
      const credentials: Record<string, string> = {};
      for (const field of CREDENTIALS[provider]) {
        const value = String(form.get(`cred_${field.key}`) ?? "").trim();
        if (value) credentials[field.key] = value;
      }
      const common = {
        display_name: String(form.get("display_name")),
        external_id: String(form.get("external_id")).trim(),
        phone_number: String(form.get("phone_number") ?? "").trim(),
        business_account_id: String(form.get("business_account_id") ?? "").trim(),
        ...(String(form.get("webhook_secret") ?? "") ? { webhook_secret: String(form.get("webhook_secret")) } : {}),
        ...(verifyToken && provider === "meta" ? { verify_token: verifyToken } : {}),
      };
      if (account) {
        return updateAccount(account.id, {
          ...common,
          ...(Object.keys(credentials).length ? { credentials, is_active: true } : {}),
        });
      }
      return createAccount({ platform, provider, ...common, credentials, is_active: true });
    },
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: qk.accounts });
      onDone({ account: saved, verifyToken: provider === "meta" && verifyToken ? verifyToken : undefined });
    },
  });
  return (
    <form
      className="form-grid card"
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        save.mutate(new FormData(e.currentTarget));
      }}
      aria-label={account ? `Edit ${account.display_name}` : "Connect an account"}
    >
      {!account && (
        <>
          <div className="field">
            <label htmlFor="acc-platform">Platform</label>
            <select
              id="acc-platform"
              value={platform}
              onChange={(e) => {
                const p = e.target.value as Platform;
                setPlatform(p);
                if (!PROVIDERS[p].includes(provider)) setProvider("meta");
              }}
            >
              <option value="whatsapp">WhatsApp</option>
              <option value="messenger">Messenger (Facebook Page)</option>
              <option value="instagram">Instagram</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="acc-provider">Provider</label>
            <select id="acc-provider" value={provider} onChange={(e) => setProvider(e.target.value as Provider)}>
              {PROVIDERS[platform].map((p) => (
                <option key={p} value={p}>
                  {PROVIDER_LABEL[p]}
                </option>
              ))}
            </select>
          </div>
        </>
      )}
      <TextInput label="Display name" name="display_name" defaultValue={account?.display_name} required />
      <TextInput label="External id" name="external_id" defaultValue={account?.external_id} required help={externalIdHelp(platform, provider)} />
      {platform === "whatsapp" && (
        <>
          <TextInput label="Phone number (E.164)" name="phone_number" defaultValue={account?.phone_number} placeholder="+15550783881" />
          {provider === "meta" && <TextInput label="WhatsApp Business Account id" name="business_account_id" defaultValue={account?.business_account_id} />}
        </>
      )}
      {CREDENTIALS[provider].map((field) => (
        <TextInput
          key={field.key}
          label={`${field.label}${field.optional ? " (optional)" : ""}`}
          name={`cred_${field.key}`}
          type={field.secret ? "password" : "text"}
          required={!account && !field.optional}
          help={account ? (account.credential_keys.includes(field.key) ? "Set — leave empty to keep it." : "Not set.") : undefined}
        />
      ))}
      {provider !== "twilio" && (
        <TextInput
          label={provider === "meta" ? "App secret override (optional)" : provider === "bridge" ? "Bridge shared secret" : "Webhook secret (signs sandbox deliveries)"}
          name="webhook_secret"
          type="password"
          help={account?.has_webhook_secret ? "Set — leave empty to keep it." : undefined}
        />
      )}
      {provider === "meta" && (
        <div className="field wide">
          <label htmlFor="acc-verify">Verify token (paste into Meta’s webhook settings)</label>
          <div className="copy-row">
            <input id="acc-verify" value={verifyToken} onChange={(e) => setVerifyToken(e.target.value)} placeholder={account?.has_verify_token ? "Set — type a new one to replace it" : "Uses the server's META_VERIFY_TOKEN when empty"} />
            <button type="button" className="btn small" onClick={() => setVerifyToken(newVerifyToken())}>
              Generate
            </button>
          </div>
          <span className="help">Shown once: Switchboard stores it and never shows it again.</span>
        </div>
      )}
      <div className="form-actions wide">
        <button className="btn primary" type="submit" disabled={save.isPending}>
          {account ? (account.needs_reconnect ? "Reconnect" : "Save") : "Connect"}
        </button>
        <button className="btn" type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
      <div className="wide">
        <ErrorText error={save.error} />
      </div>
    </form>
  );
}

function SyncStats({ account }: { account: PlatformAccount }) {
  const runs = useQuery({ queryKey: qk.syncRuns(account.id), queryFn: () => listSyncRuns(account.id, 1), refetchInterval: (q) => (q.state.data?.[0] && ["queued", "running"].includes(q.state.data[0].status) ? 2000 : false) });
  const run = runs.data?.[0];
  if (!run) return <p className="muted small">No history sync yet{account.last_sync_at ? ` (last at ${fullTime(account.last_sync_at)})` : ""}.</p>;
  return (
    <p className="small" data-testid="sync-stats">
      Last sync: <strong>{run.status}</strong> {run.finished_at ? fullTime(run.finished_at) : run.started_at ? "(running)" : "(queued)"} · {run.conversations_synced} conversations · {run.messages_seen} messages seen · {run.messages_new} new
      {run.errors ? ` · ${run.errors} errors` : ""}
      {run.duration_ms !== null ? ` · ${(run.duration_ms / 1000).toFixed(1)} s` : ""}
      {run.error && <span className="error"> — {run.error}</span>}
    </p>
  );
}

function AccountCard({ account, manage }: { account: PlatformAccount; manage: boolean }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(account.needs_reconnect && manage);
  const [test, setTest] = useState<ConnectionTest | null>(null);
  const sync = useMutation({ mutationFn: () => syncAccount(account.id), onSettled: () => qc.invalidateQueries({ queryKey: qk.syncRuns(account.id) }) });
  const disconnect = useMutation({ mutationFn: () => disconnectAccount(account.id), onSuccess: () => qc.invalidateQueries({ queryKey: qk.accounts }) });
  return (
    <li className="card account-card" data-testid="account-card">
      <div className="account-head">
        <PlatformIcon platform={account.platform} size={24} />
        <div>
          <h3>{account.display_name}</h3>
          <div className="muted small">
            {platformLabel(account.platform)} · {PROVIDER_LABEL[account.provider]} · id {account.external_id}
            {account.phone_number ? ` · ${account.phone_number}` : ""}
          </div>
        </div>
        <span className={`status-pill ${!account.is_active ? "off" : account.needs_reconnect ? "warn" : "ok"}`}>
          {!account.is_active ? "Disconnected" : account.needs_reconnect ? "Needs reconnect" : "Connected"}
        </span>
      </div>
      {account.needs_reconnect && (
        <div className="banner warn" role="alert">
          <Icon name="alert" size={16} /> The platform refused this account’s credentials{account.last_error ? `: ${account.last_error}` : ""}. Enter new credentials to reconnect.
        </div>
      )}
      <div className="account-grid">
        <CopyField label="Webhook URL" value={webhookUrl(account)} />
        <div className="field">
          <span className="label">Verify token</span>
          <span>{account.provider !== "meta" ? "Not used by this provider." : account.has_verify_token ? "Set (hidden) — generate a new one in Edit." : "The server’s META_VERIFY_TOKEN."}</span>
        </div>
      </div>
      <SyncStats account={account} />
      {test && (
        <p className={test.ok ? "small" : "error"} role="status">
          {test.detail}
        </p>
      )}
      {manage && (
        <div className="form-actions">
          <button type="button" className="btn small" onClick={() => void testAccount(account.id).then((t) => { setTest(t); void qc.invalidateQueries({ queryKey: qk.syncRuns(account.id) }); })}>
            Test connection
          </button>
          <button type="button" className="btn small" onClick={() => sync.mutate()} disabled={sync.isPending || !account.is_active}>
            <Icon name="sync" size={14} /> Sync now
          </button>
          <button type="button" className="btn small" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            {account.needs_reconnect ? "Reconnect" : "Edit"}
          </button>
          {account.is_active && (
            <button
              type="button"
              className="btn small danger"
              onClick={() => {
                if (confirm(`Disconnect ${account.display_name}? Its conversations stay.`)) disconnect.mutate();
              }}
            >
              Disconnect
            </button>
          )}
        </div>
      )}
      <ErrorText error={sync.error ?? disconnect.error} />
      {editing && <AccountForm account={account} onDone={() => setEditing(false)} />}
    </li>
  );
}

export function AccountsSettings() {
  const { role } = useAuth();
  const manage = canManage(role);
  const accounts = useQuery({ queryKey: qk.accounts, queryFn: listAccounts });
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<{ account: PlatformAccount; verifyToken?: string } | null>(null);
  return (
    <Section
      title="Platform accounts"
      actions={
        manage && !adding ? (
          <button className="btn primary" type="button" onClick={() => setAdding(true)}>
            <Icon name="plus" size={16} /> Connect an account
          </button>
        ) : null
      }
    >
      {!manage && <p className="muted">Only owners and admins can connect or change accounts.</p>}
      {adding && (
        <AccountForm
          onDone={(result) => {
            setAdding(false);
            if (result) setCreated(result);
          }}
        />
      )}
      {created && (
        <div className="card success" role="status">
          <p>
            <strong>{created.account.display_name}</strong> is connected. Paste these into the platform’s webhook settings:
          </p>
          <CopyField label="Callback URL" value={webhookUrl(created.account)} />
          {created.verifyToken && <CopyField label="Verify token" value={created.verifyToken} />}
          <button type="button" className="btn small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {accounts.isPending && <p role="status">Loading…</p>}
      <ErrorText error={accounts.error} />
      <ul className="account-list">
        {(accounts.data ?? []).map((account) => (
          <AccountCard key={account.id} account={account} manage={manage} />
        ))}
      </ul>
      {accounts.data?.length === 0 && <p className="muted">No accounts yet. Connect a WhatsApp number, a Facebook Page or an Instagram account — or a sandbox one to try Switchboard.</p>}
    </Section>
  );
}
