import { useState, type FormEvent, type ReactNode } from "react";
import { Link, Navigate, useLocation, useNavigate, useSearchParams } from "react-router";
import { passwordSet } from "../../api/endpoints";
import { ApiError } from "../../api/http";
import { useAuth } from "../../app/auth";

function AuthFrame({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="auth">
      <div className="auth-card">
        <div className="brand">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          <span>Switchboard</span>
        </div>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 429) return "Too many attempts. Wait a moment and try again.";
    const fields = error.body.errors ? Object.values(error.body.errors).flat() : [];
    return fields.length ? fields.join(" ") : error.message;
  }
  return "The server cannot be reached. Check your connection.";
}

function Field(props: { label: string; name: string; type?: string; autoComplete?: string; required?: boolean; defaultValue?: string }) {
  const id = `f-${props.name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        autoComplete={props.autoComplete}
        required={props.required ?? true}
        defaultValue={props.defaultValue}
      />
    </div>
  );
}

export function LoginPage() {
  const { login, tokens, expired } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const from = (location.state as { from?: string } | null)?.from ?? "/inbox";
  if (tokens) return <Navigate to={from} replace />;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await login(String(form.get("email")), String(form.get("password")));
      navigate(from, { replace: true });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? "Wrong email or password." : errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Log in">
      {expired && (
        <p className="notice" role="status">
          Your session expired. Log in again — your unsent drafts are kept.
        </p>
      )}
      <form onSubmit={submit} className="stack">
        <Field label="Email" name="email" type="email" autoComplete="username" />
        <Field label="Password" name="password" type="password" autoComplete="current-password" />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p className="muted">
        New agency? <Link to="/signup">Create an account</Link> · Invited? <Link to="/accept-invite">Use your code</Link>
      </p>
    </AuthFrame>
  );
}

export function SignupPage() {
  const { register, tokens } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (tokens) return <Navigate to="/inbox" replace />;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await register({
        email: String(form.get("email")),
        password: String(form.get("password")),
        full_name: String(form.get("full_name") ?? ""),
        organization_name: String(form.get("organization_name")),
      });
      navigate("/settings/accounts", { replace: true });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthFrame title="Create your agency">
      <form onSubmit={submit} className="stack">
        <Field label="Agency name" name="organization_name" autoComplete="organization" />
        <Field label="Your name" name="full_name" autoComplete="name" required={false} />
        <Field label="Email" name="email" type="email" autoComplete="email" />
        <Field label="Password" name="password" type="password" autoComplete="new-password" />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create agency"}
        </button>
      </form>
      <p className="muted">
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </AuthFrame>
  );
}

/** An invited address without an account: the code from the email and a password (then accept in the inbox). */
export function AcceptInvitePage() {
  const { adopt } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setError(null);
    try {
      const answer = await passwordSet({
        token: String(form.get("token")),
        password: String(form.get("password")),
        full_name: String(form.get("full_name") ?? ""),
      });
      adopt({ access: answer.access, refresh: answer.refresh });
      navigate("/inbox", { replace: true });
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <AuthFrame title="Join your team">
      <form onSubmit={submit} className="stack">
        <Field label="Invitation code" name="token" defaultValue={params.get("code") ?? ""} />
        <Field label="Your name" name="full_name" autoComplete="name" required={false} />
        <Field label="Choose a password" name="password" type="password" autoComplete="new-password" />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button className="btn primary" type="submit">
          Set password
        </button>
      </form>
      <p className="muted">
        Already have an account? <Link to="/login">Log in</Link> and accept the invitation there.
      </p>
    </AuthFrame>
  );
}
