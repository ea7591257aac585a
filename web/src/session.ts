/**
 * The signed-in session. The access token lives in this module's memory only (never in storage a
 * script could read later). The refresh token is an HttpOnly, Secure, SameSite=Strict cookie on the
 * /auth path that no script can read: the API sets it when a call says `X-Farewatch-Session: cookie`,
 * so a reload asks /auth/refresh for a new access token and stays signed in. Expired access tokens
 * are refreshed once, by one call at a time, and one tab at a time (Web Locks): the API revokes a
 * whole sign-in when a refresh token is presented twice.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, type CallOptions, type Envelope, type TokenPair, type User } from "./api";

interface SignedIn {
  email: string;
  accessToken: string;
  /** epoch ms when the access token stops working */
  accessExpiresAt: number;
}

export type SessionEnd = "signed_out" | "expired";

/** What asks the API for the cookie session (README "Sessions in the browser"). */
export const COOKIE_SESSION = { "X-Farewatch-Session": "cookie" } as const;
const REFRESH_LOCK = "farewatch-refresh";
const REFRESH_AHEAD_MS = 30_000;
const EXPIRED_TOKEN_CODES = new Set(["token_expired", "invalid_token"]);

type Clock = () => number;

/** Runs `task` holding the cross-tab refresh lock where the browser has Web Locks. */
function oneTabAtATime<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? locks.request(REFRESH_LOCK, task) : task();
}

export class Session {
  private state: SignedIn | null = null;
  private refreshing: Promise<boolean> | null = null;
  /** A sign-out still on its way to the API: its answer clears the cookie, so a sign-in waits for it
   *  (otherwise a slow sign-out's answer could clear the new sign-in's cookie). */
  private leaving: Promise<void> | null = null;
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

  /** At page load: the cookie (if this browser has one) trades for an access token; then who it is. */
  async restore(): Promise<void> {
    try {
      const { data } = await oneTabAtATime(() =>
        call<TokenPair | undefined>("POST", "/auth/refresh", { body: {}, headers: COOKIE_SESSION }),
      );
      if (!data) return; // 204: this browser has no session cookie
      const me = await call<User>("GET", "/users/me", { token: data.access_token });
      this.adopt(me.data.email, data);
      this.notify();
    } catch {
      // No cookie, an ended sign-in or no connection: the page starts signed out.
      this.state = null;
    }
  }

  async signIn(email: string, password: string): Promise<void> {
    if (this.leaving) await this.leaving;
    const { data } = await call<TokenPair>("POST", "/auth/login", {
      body: { email, password },
      headers: COOKIE_SESSION,
    });
    this.adopt(email.trim().toLowerCase(), data);
    this.ended = null;
    this.notify();
  }

  /** Sign out: the API revokes this sign-in's refresh family and clears the cookie; the access token is
   *  forgotten (it dies within its 15 minutes, unused). Signed out here even if the call fails. */
  async signOut(): Promise<void> {
    this.state = null;
    this.refreshing = null;
    this.ended = "signed_out";
    this.notify();
    const leaving = (async () => {
      try {
        await call<null>("POST", "/auth/logout", { body: {}, headers: COOKIE_SESSION });
      } catch {
        // Offline: the cookie stays until it expires or the next sign-out reaches the API.
      }
    })();
    this.leaving = leaving;
    await leaving;
    if (this.leaving === leaving) this.leaving = null;
  }

  /** The API refused the session (a refused refresh): forget it, and say why. */
  private end(reason: SessionEnd): void {
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
          const { data } = await oneTabAtATime(() =>
            call<TokenPair>("POST", "/auth/refresh", { body: {}, headers: COOKIE_SESSION }),
          );
          if (this.state === current) this.adopt(current.email, data);
          return this.state !== null;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401 && this.state === current) this.end("expired");
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
