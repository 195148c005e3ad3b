// Who is signed in. On load a stored refresh token (sessionStorage) is traded for an access token.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import {
  api,
  clearSession,
  hasRefreshToken,
  onSessionChange,
  refreshSession,
  storeSession,
  type AuthResponse,
  type User,
} from "./api";

interface AuthState {
  user: User | null;
  ready: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signUp: (email: string, password: string, fullName: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** Keeps a session obtained elsewhere (the OAuth callback page). */
  accept: (auth: AuthResponse) => void;
  forget: () => void;
  reload: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  useEffect(() => onSessionChange((signedIn) => !signedIn && setUser(null)), []);

  useEffect(() => {
    if (!hasRefreshToken()) {
      setReady(true);
      return;
    }
    refreshSession()
      .then(async (ok) => {
        if (ok) setUser(await api<User>("/auth/me"));
      })
      .catch(() => undefined)
      .finally(() => setReady(true));
  }, []);

  const accept = useCallback((auth: AuthResponse) => {
    storeSession(auth);
    setUser(auth.user);
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      user,
      ready,
      signIn: async (email, password) =>
        accept(await api<AuthResponse>("/auth/login", { method: "POST", body: { email, password }, auth: false })),
      signUp: async (email, password, fullName) =>
        accept(
          await api<AuthResponse>("/auth/register", {
            method: "POST",
            body: { email, password, full_name: fullName || null },
            auth: false,
          }),
        ),
      signOut: async () => {
        try {
          await api("/auth/logout", { method: "POST" });
        } finally {
          clearSession();
        }
      },
      accept,
      forget: () => clearSession(),
      reload: async () => setUser(await api<User>("/auth/me")),
    }),
    [user, ready, accept],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const state = useContext(AuthContext);
  if (!state) throw new Error("useAuth outside AuthProvider");
  return state;
}
