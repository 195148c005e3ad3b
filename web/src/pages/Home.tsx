import { Link, Navigate } from "react-router";
import { useAuth } from "../auth";
import { Loading, PageTitle } from "../ui";

export function Home() {
  const { user, ready } = useAuth();
  if (!ready) return <Loading what="your session" />;
  if (user) return <Navigate to="/library" replace />;
  return (
    <section className="hero">
      <PageTitle>Write a story from a brief</PageTitle>
      <p className="lead">
        Describe what you want — type, genre, subject, style, length, cast — and a ten-stage pipeline plans the
        world, the characters and the structure, drafts it, checks it and hands you the text to read, compare,
        regenerate and export.
      </p>
      <p className="actions">
        <Link className="button primary" to="/signup">
          Create an account
        </Link>
        <Link className="button" to="/signin">
          Sign in
        </Link>
      </p>
    </section>
  );
}
