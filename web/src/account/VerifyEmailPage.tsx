/**
 * Where the verification mail's link lands (`/verify-email?token=…`): the page hands the token to
 * POST /auth/verify-email once and says what happened. A link that is used up or too old can be sent
 * again from here when you are signed in (POST /auth/verify-email/resend).
 */
import { useLocation } from "preact-iso/router";
import { useEffect, useState } from "preact/hooks";
import { call, type User } from "../api";
import { Loading, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { problemsOf } from "../problems";
import { session, useSession } from "../session";

type Outcome = { kind: "checking" } | { kind: "verified"; email: string } | { kind: "failed"; message: string };

export function VerifyEmailPage() {
  const location = useLocation();
  const token = location.query.token ?? "";
  const [outcome, setOutcome] = useState<Outcome>(token ? { kind: "checking" } : { kind: "failed", message: NO_TOKEN });

  useEffect(() => {
    if (!token) return;
    let current = true;
    // The token is used once: keep it out of the history from now on.
    history.replaceState(history.state, "", appUrl("/verify-email"));
    call<User>("POST", "/auth/verify-email", { body: { token } })
      .then(({ data }) => current && setOutcome({ kind: "verified", email: data.email }))
      .catch((error) => current && setOutcome({ kind: "failed", message: problemsOf(error, { fields: {} }).general ?? NO_TOKEN }));
    return () => {
      current = false;
    };
  }, [token]);

  return (
    <>
      <PageHeading title="Confirm your email">Confirm your email</PageHeading>
      {outcome.kind === "checking" && <Loading label="Confirming your email address…" />}
      {outcome.kind === "verified" && <Verified email={outcome.email} />}
      {outcome.kind === "failed" && <NotVerified message={outcome.message} />}
    </>
  );
}

const NO_TOKEN = "This page needs the link from the mail Farewatch sent you. Open the link in that mail.";

function Verified({ email }: { email: string }) {
  const { signedIn } = useSession();
  return (
    <div class="card" role="status">
      <p>
        <strong>{email}</strong> is confirmed. Price alerts can now reach you by email.
      </p>
      <p>{signedIn ? <a href={appUrl("/settings")}>Your notification settings</a> : <a href={appUrl("/sign-in")}>Sign in</a>}</p>
    </div>
  );
}

function NotVerified({ message }: { message: string }) {
  const { signedIn } = useSession();
  const [sent, setSent] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function resend() {
    setBusy(true);
    setProblem(null);
    try {
      await session.call("POST", "/auth/verify-email/resend", { body: {} });
      setSent("A new link is on its way. Check your inbox.");
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="card">
      <ProblemBanner message={message} />
      {signedIn ? (
        <>
          {sent ? (
            <p role="status">{sent}</p>
          ) : (
            <button type="button" class="button primary" disabled={busy} onClick={() => void resend()}>
              {busy ? "Sending…" : "Send a new link"}
            </button>
          )}
          <ProblemBanner message={problem} />
        </>
      ) : (
        <p>
          <a href={appUrl("/sign-in?next=") + encodeURIComponent(appUrl("/settings"))}>Sign in</a> to have a new link sent.
        </p>
      )}
    </div>
  );
}
