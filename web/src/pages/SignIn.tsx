// Sign in and sign up, with a button per OAuth provider the API has configured (none: no buttons). A button
// starts the flow with a same-origin fetch, so the browser keeps the flow's HttpOnly cookie, then leaves for the
// provider, which sends the browser back to /signin/callback/<provider> (OAUTH_CALLBACK_URL, see OAuthCallback).
import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, ApiError, type OAuthProviderInfo } from "../api";
import { useAuth } from "../auth";
import { ErrorMessage, Field, PageTitle } from "../ui";

function useNext(): string {
  const [params] = useSearchParams();
  const next = params.get("next") ?? "/library";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/library";
}

/** "Continue with Google/GitHub" for the configured providers; nothing when there are none (or on failure). */
function ProviderButtons() {
  const [providers, setProviders] = useState<OAuthProviderInfo[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    api<{ providers: OAuthProviderInfo[] }>("/auth/oauth/providers", { auth: false })
      .then((body) => setProviders(body.providers))
      .catch(() => setProviders([]));
  }, []);

  const start = async (provider: OAuthProviderInfo) => {
    setBusy(provider.id);
    setError(null);
    try {
      const { authorization_url } = await api<{ authorization_url: string }>(
        `/auth/oauth/${encodeURIComponent(provider.id)}?format=json`,
        { auth: false },
      );
      window.location.assign(authorization_url);
    } catch (caught) {
      setError(caught);
      setBusy(null);
    }
  };
  if (providers.length === 0) return null;
  return (
    <div className="providers">
      <ErrorMessage error={error} />
      {providers.map((provider) => (
        <button key={provider.id} type="button" disabled={busy !== null} onClick={() => void start(provider)}>
          {busy === provider.id ? `Going to ${provider.name}…` : `Continue with ${provider.name}`}
        </button>
      ))}
      <p className="muted">or with your email and password:</p>
    </div>
  );
}

export function SignIn() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const next = useNext();
  const [params] = useSearchParams();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
      navigate(next);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldMessage(name) : undefined);
  return (
    <section className="narrow card">
      <PageTitle>Sign in</PageTitle>
      {params.get("deleted") && (
        <p className="notice" role="status">
          Your account and everything in it were deleted.
        </p>
      )}
      <ProviderButtons />
      <form onSubmit={submit} noValidate>
        <ErrorMessage error={error} />
        <Field label="Email" error={fieldError("email")}>
          {(props) => (
            <input {...props} type="email" autoComplete="email" required value={email}
              onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password" error={fieldError("password")}>
          {(props) => (
            <input {...props} type="password" autoComplete="current-password" required value={password}
              onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </section>
  );
}

export function SignUp() {
  const { signUp } = useAuth();
  const navigate = useNavigate();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [fullName, setFullName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signUp(email, password, fullName);
      navigate("/library");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldMessage(name) : undefined);
  return (
    <section className="narrow card">
      <PageTitle>Create your account</PageTitle>
      <ProviderButtons />
      <form onSubmit={submit} noValidate>
        <ErrorMessage error={error} />
        <Field label="Your name (optional)" error={fieldError("full_name")}>
          {(props) => (
            <input {...props} autoComplete="name" maxLength={200} value={fullName}
              onChange={(e) => setFullName(e.target.value)} />
          )}
        </Field>
        <Field label="Email" error={fieldError("email")}>
          {(props) => (
            <input {...props} type="email" autoComplete="email" required value={email}
              onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password" error={fieldError("password")}
          hint="At least 12 characters. A few unrelated words make a good one; common passwords are refused.">
          {(props) => (
            <input {...props} type="password" autoComplete="new-password" required minLength={12} maxLength={1024}
              value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Creating account…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </section>
  );
}
