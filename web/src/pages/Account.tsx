// The account: who you are, and deleting it with everything it owns (the password is asked again).
import { useState, type FormEvent } from "react";
import { api, ApiError } from "../api";
import { useAuth } from "../auth";
import { ErrorMessage, Field, PageTitle } from "../ui";

export function Account() {
  const { user, forget } = useAuth();
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const remove = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api("/auth/me", { method: "DELETE", body: { password } });
      // A full load of the sign-in page: nothing of the deleted account stays in this tab's memory.
      forget();
      window.location.replace("/signin?deleted=1");
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  if (!user) return null;
  return (
    <>
      <PageTitle>Account</PageTitle>
      <section className="card">
        <dl className="stats">
          <div>
            <dt>Email</dt>
            <dd>{user.email}</dd>
          </div>
          <div>
            <dt>Name</dt>
            <dd>{user.full_name ?? "—"}</dd>
          </div>
          <div>
            <dt>Plan</dt>
            <dd>{user.subscription_tier}</dd>
          </div>
        </dl>
      </section>
      <section className="card danger-zone" aria-labelledby="delete-heading">
        <h2 id="delete-heading">Delete account</h2>
        <p>
          Deletes your projects, stories, versions, exports and sessions. This month's generation count stays with
          your email until the month ends.
        </p>
        <form onSubmit={remove} noValidate>
          <ErrorMessage error={error} />
          <Field label="Password" error={error instanceof ApiError ? error.fieldMessage("password") : undefined}>
            {(props) => (
              <input {...props} type="password" autoComplete="current-password" value={password}
                onChange={(e) => setPassword(e.target.value)} />
            )}
          </Field>
          <button type="submit" className="danger" disabled={busy || !password}>
            Delete my account
          </button>
        </form>
      </section>
    </>
  );
}
