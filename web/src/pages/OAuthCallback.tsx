// Where a provider sends the browser back (OAUTH_CALLBACK_URL = https://<studio>/signin/callback/{provider}): the
// page hands code and state to the API's callback with a same-origin fetch, so the flow's HttpOnly cookie goes
// along and proves this is the browser that started the sign-in, then keeps the session like a password sign-in.
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, type AuthResponse } from "../api";
import { useAuth } from "../auth";
import { ErrorMessage, Loading, PageTitle } from "../ui";

// A state is single use: one request per state, even if the page renders twice (StrictMode, a re-render).
const pending = new Map<string, Promise<AuthResponse>>();

function finish(provider: string, query: URLSearchParams): Promise<AuthResponse> {
  const key = `${provider}:${query.get("state") ?? ""}:${query.get("error") ?? ""}`;
  let request = pending.get(key);
  if (!request) {
    const forwarded = new URLSearchParams();
    for (const name of ["code", "state", "error", "error_description"]) {
      const value = query.get(name);
      if (value !== null) forwarded.set(name, value);
    }
    request = api<AuthResponse>(`/auth/oauth/${encodeURIComponent(provider)}/callback?${forwarded}`, {
      auth: false,
    });
    pending.set(key, request);
  }
  return request;
}

export function OAuthCallback() {
  const { provider = "" } = useParams();
  const [query] = useSearchParams();
  const { accept } = useAuth();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let current = true;
    finish(provider, query)
      .then((auth) => {
        if (!current) return;
        accept(auth);
        navigate("/library", { replace: true });
      })
      .catch((caught) => current && setError(caught));
    return () => {
      current = false;
    };
  }, [provider, query, accept, navigate]);

  return (
    <section className="narrow card">
      <PageTitle>Signing you in</PageTitle>
      {error ? (
        <>
          <ErrorMessage error={error} />
          <p>
            <Link to="/signin">Back to sign in</Link>
          </p>
        </>
      ) : (
        <Loading what="your account" />
      )}
    </section>
  );
}
