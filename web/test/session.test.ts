/// <reference types="node" />
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { ApiError } from "../src/api";
import { Session } from "../src/session";

type Handler = (url: string, init: RequestInit) => Response | Promise<Response>;
const realFetch = globalThis.fetch;

function api(handler: Handler): string[] {
  const calls: string[] = [];
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method} ${url}`);
    return handler(url, init ?? {});
  }) as typeof fetch;
  return calls;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const tokens = (n: number) => ({ data: { access_token: `access-${n}`, refresh_token: null, token_type: "bearer", expires_in: 900 } });
const bearer = (init: RequestInit) => (init.headers as Record<string, string>).Authorization;

afterEach(() => {
  globalThis.fetch = realFetch;
});

describe("the session", () => {
  it("refreshes an expired access token once for calls that fail together, then retries them", async () => {
    let refreshes = 0;
    const calls = api(async (url, init) => {
      if (url.endsWith("/auth/login")) return json(200, tokens(1));
      if (url.endsWith("/auth/refresh")) {
        refreshes += 1;
        // The cookie carries the token; the page never sees it and asks for the cookie session.
        assert.deepEqual(JSON.parse(String(init.body)), {});
        assert.equal((init.headers as Record<string, string>)["X-Farewatch-Session"], "cookie");
        return json(200, tokens(2));
      }
      if (bearer(init) === "Bearer access-1") return json(401, { error: { code: "token_expired", message: "Expired.", details: [] } });
      return json(200, { data: [bearer(init)] });
    });
    const session = new Session();
    await session.signIn("Alice@Example.com ", "pw");

    const answers = await Promise.all([session.call("GET", "/tracked-flights"), session.call("GET", "/alerts")]);

    assert.equal(refreshes, 1, calls.join("\n"));
    assert.deepEqual(answers.map((answer) => answer.data), [["Bearer access-2"], ["Bearer access-2"]]);
    assert.equal(session.email, "alice@example.com");
  });

  it("ends the session, saying so, when the refresh token is refused", async () => {
    api(async (url) => {
      if (url.endsWith("/auth/login")) return json(200, tokens(1));
      if (url.endsWith("/auth/refresh")) return json(401, { error: { code: "refresh_token_reused", message: "Reused.", details: [] } });
      return json(401, { error: { code: "token_expired", message: "Expired.", details: [] } });
    });
    const session = new Session();
    await session.signIn("alice@example.com", "pw");

    await assert.rejects(session.call("GET", "/alerts"), (error) => error instanceof ApiError && error.status === 401);

    assert.equal(session.signedIn, false);
    assert.equal(session.ended, "expired");
  });

  it("refreshes ahead of expiry instead of waiting for a 401", async () => {
    let now = 0;
    const calls = api(async (url) => (url.includes("/auth/") ? json(200, tokens(calls.length)) : json(200, { data: null })));
    const session = new Session(() => now);
    await session.signIn("alice@example.com", "pw");
    now = 880_000; // 20 s before the 900 s token expires

    await session.call("GET", "/users/me");

    assert.deepEqual(calls, ["POST /auth/login", "POST /auth/refresh", "GET /users/me"]);
  });

  it("turns an answer that is not the envelope (API Gateway's own) into a sentence", async () => {
    api(async () => new Response('{"message": "Internal server error"}', { status: 502 }));
    const session = new Session();

    await assert.rejects(session.signIn("alice@example.com", "pw"), (error) =>
      error instanceof ApiError && error.code === "gateway_error" && error.retryable && /try again/.test(error.message),
    );
  });

  it("says when Farewatch cannot be reached at all", async () => {
    globalThis.fetch = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;

    await assert.rejects(new Session().signIn("alice@example.com", "pw"), (error) =>
      error instanceof ApiError && error.status === 0 && error.retryable,
    );
  });

  it("keeps a reload signed in: the cookie trades for an access token, then the profile says who", async () => {
    const calls = api(async (url, init) => {
      if (url.endsWith("/auth/refresh")) return json(200, tokens(7));
      if (url.endsWith("/users/me") && bearer(init) === "Bearer access-7") return json(200, { data: { id: "u1", email: "alice@example.com", role: "user" } });
      return json(500, {});
    });
    const session = new Session();

    await session.restore();

    assert.deepEqual(calls, ["POST /auth/refresh", "GET /users/me"]);
    assert.equal(session.signedIn, true);
    assert.equal(session.email, "alice@example.com");
  });

  it("starts signed out when the browser has no session cookie (204)", async () => {
    const calls = api(async () => new Response(null, { status: 204 }));
    const session = new Session();

    await session.restore();

    assert.deepEqual(calls, ["POST /auth/refresh"]);
    assert.equal(session.signedIn, false);
  });

  it("signs out at once and asks the API to revoke the sign-in and clear its cookie", async () => {
    const calls = api(async (url, init) => {
      if (url.endsWith("/auth/login")) return json(200, tokens(1));
      assert.equal((init.headers as Record<string, string>)["X-Farewatch-Session"], "cookie");
      return new Response(null, { status: 204 });
    });
    const session = new Session();
    await session.signIn("alice@example.com", "pw");

    const done = session.signOut();
    assert.equal(session.signedIn, false);
    await done;

    assert.deepEqual(calls, ["POST /auth/login", "POST /auth/logout"]);
    assert.equal(session.ended, "signed_out");
  });

  it("signs in again only after a slow sign-out has answered, so its cleared cookie cannot undo the new one", async () => {
    let answerLogout: () => void = () => {};
    const answered: string[] = [];
    api(async (url) => {
      if (url.endsWith("/auth/logout")) {
        await new Promise<void>((resolve) => (answerLogout = resolve));
        answered.push("logout");
        return new Response(null, { status: 204 });
      }
      answered.push("login");
      return json(200, tokens(answered.length));
    });
    const session = new Session();
    await session.signIn("alice@example.com", "pw");
    answered.length = 0;

    const out = session.signOut();
    const back = session.signIn("alice@example.com", "pw");
    await new Promise((resolve) => setTimeout(resolve, 0));
    answerLogout();
    await Promise.all([out, back]);

    assert.deepEqual(answered, ["logout", "login"]);
    assert.equal(session.signedIn, true);
  });
});
