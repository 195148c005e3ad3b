// Routes. None collides with the API's root paths (/auth, /projects, /jobs, /narratives, /usage, /health, /docs,
// /redoc, /openapi.json, /v1): CloudFront and the local stack send those to the API, everything else to this app.
import { lazy, Suspense, type ReactNode } from "react";
import { Link, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import { useAuth } from "./auth";
import { Loading } from "./ui";
import { SignIn, SignUp } from "./pages/SignIn";
import { OAuthCallback } from "./pages/OAuthCallback";
import { Home } from "./pages/Home";
import { Library } from "./pages/Library";
import { ProjectPage } from "./pages/Project";
import { Write } from "./pages/Write";
import { Watch } from "./pages/Watch";
import { Read } from "./pages/Read";
import { Plan } from "./pages/Plan";
import { Account } from "./pages/Account";

// The diff library is only needed on the versions page: its own chunk.
const Versions = lazy(() => import("./pages/Versions"));

function RequireAuth({ children }: { children: ReactNode }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <Loading what="your session" />;
  if (!user) return <Navigate to={`/signin?next=${encodeURIComponent(location.pathname)}`} replace />;
  return <>{children}</>;
}

function Header() {
  const { user, signOut } = useAuth();
  const navigate = useNavigate();
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        NarraForge <span>Studio</span>
      </Link>
      {user ? (
        <nav aria-label="Main">
          <NavLink to="/library">Library</NavLink>
          <NavLink to="/write">Write</NavLink>
          <NavLink to="/plan">Plan</NavLink>
          <NavLink to="/account">Account</NavLink>
          <button
            type="button"
            className="link-button"
            onClick={() => void signOut().finally(() => navigate("/signin"))}
          >
            Sign out
          </button>
        </nav>
      ) : (
        <nav aria-label="Main">
          <NavLink to="/signin">Sign in</NavLink>
          <NavLink to="/signup">Sign up</NavLink>
        </nav>
      )}
    </header>
  );
}

function NotFound() {
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Go to the start page</Link>
      </p>
    </>
  );
}

export function App() {
  const guard = (page: ReactNode) => <RequireAuth>{page}</RequireAuth>;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main">
        <Suspense fallback={<Loading what="the page" />}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/signin" element={<SignIn />} />
            <Route path="/signin/callback/:provider" element={<OAuthCallback />} />
            <Route path="/signup" element={<SignUp />} />
            <Route path="/library" element={guard(<Library />)} />
            <Route path="/library/:projectId" element={guard(<ProjectPage />)} />
            <Route path="/write" element={guard(<Write />)} />
            <Route path="/watch/:jobId" element={guard(<Watch />)} />
            <Route path="/read/:narrativeId" element={guard(<Read />)} />
            <Route path="/read/:narrativeId/versions" element={guard(<Versions />)} />
            <Route path="/plan" element={guard(<Plan />)} />
            <Route path="/account" element={guard(<Account />)} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
