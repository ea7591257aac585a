/**
 * The signed-in session. The access token lives in this module's memory only (never in storage a
 * script could read later); so does the refresh token until round two moves it into an HttpOnly
 * cookie (capabilities.cookieSession). Expired access tokens are refreshed once, by one call at a time:
 * the API revokes a whole login when a refresh token is presented twice.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, type CallOptions, type Envelope, type TokenPair } from "./api";

interface SignedIn {
  email: string;
  accessToken: string;
  refreshToken: string;
  /** epoch ms when the access token stops working */
  accessExpiresAt: number;
}

export type SessionEnd = "signed_out" | "expired";

const REFRESH_AHEAD_MS = 30_000;
const EXPIRED_TOKEN_CODES = new Set(["token_expired", "invalid_token"]);

type Clock = () => number;

export class Session {
  private state: SignedIn | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners = new Set<() => void>();
  /** Why the last session ended, so the sign-in page can say it. */
  ended: SessionEnd | null = null;

  constructor(private readonly now: Clock = Date.now) {}

  get signedIn(): boolean {
    return this.state !== null;
  }

  get email(): string | null {
    return this.state?.email ?? null;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Round two: ask /auth/refresh with the HttpOnly cookie, so a reload keeps the session. */
  async restore(): Promise<void> {
    // Nothing survives a reload yet: the tokens were in the previous page's memory only.
  }

  async signIn(email: string, password: string): Promise<void> {
    const { data } = await call<TokenPair>("POST", "/auth/login", { body: { email, password } });
    this.adopt(email.trim().toLowerCase(), data);
    this.ended = null;
    this.notify();
  }

  signOut(reason: SessionEnd = "signed_out"): void {
    // Round two revokes the login's token family server-side (the cookie route); today no route does,
    // so the tokens are forgotten: the access token dies within its 15 minutes, unused.
    this.state = null;
    this.refreshing = null;
    this.ended = reason;
    this.notify();
  }

  /** A call as the signed-in user: refreshes an expired access token once and retries. */
  async call<T, M = Record<string, unknown>>(
    method: string,
    path: string,
    options: Omit<CallOptions, "token"> = {},
  ): Promise<Envelope<T, M>> {
    if (!this.state) throw new ApiError(401, "missing_token", "Sign in to continue.");
    if (this.state.accessExpiresAt - this.now() < REFRESH_AHEAD_MS) await this.refresh();
    try {
      return await call<T, M>(method, path, { ...options, token: this.requireToken() });
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401 || !EXPIRED_TOKEN_CODES.has(error.code)) throw error;
      if (!(await this.refresh())) throw error;
      return call<T, M>(method, path, { ...options, token: this.requireToken() });
    }
  }

  private requireToken(): string {
    if (!this.state) throw new ApiError(401, "session_ended", "Your session has ended. Sign in again.");
    return this.state.accessToken;
  }

  /** One refresh at a time; a refused refresh ends the session. */
  private refresh(): Promise<boolean> {
    if (!this.refreshing) {
      const current = this.state;
      this.refreshing = (async () => {
        if (!current) return false;
        try {
          const { data } = await call<TokenPair>("POST", "/auth/refresh", {
            body: { refresh_token: current.refreshToken },
          });
          if (this.state === current) this.adopt(current.email, data);
          return this.state !== null;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401 && this.state === current) this.signOut("expired");
          return false;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  private adopt(email: string, tokens: TokenPair): void {
    this.state = {
      email,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      accessExpiresAt: this.now() + tokens.expires_in * 1000,
    };
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

export const session = new Session();

/** Re-renders the component when the session starts or ends. */
export function useSession(): { signedIn: boolean; email: string | null; ended: SessionEnd | null } {
  const [, setVersion] = useState(0);
  useEffect(() => session.subscribe(() => setVersion((version) => version + 1)), []);
  return { signedIn: session.signedIn, email: session.email, ended: session.ended };
}
