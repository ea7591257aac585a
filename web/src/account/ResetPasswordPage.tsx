/**
 * Forgotten passwords. Without a token: ask for a link by email (POST /auth/password-reset, which
 * answers the same whether the address has an account or not). With the mail's link
 * (`/reset-password?token=…`): choose a new password (POST /auth/password-reset/confirm), which signs
 * you out everywhere, this browser too.
 */
import { useLocation } from "preact-iso/router";
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import { PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { NewPasswordField, TextField, useSubmit } from "../forms";
import type { ProblemMap } from "../problems";
import { session } from "../session";

const REQUEST_PROBLEMS: ProblemMap = { fields: { email: ["email", "Email"] }, codes: { invalid_email: "email" } };
const CONFIRM_PROBLEMS: ProblemMap = {
  fields: { new_password: ["password", "New password"] },
  codes: { password_too_short: "password", password_too_long: "password" },
};

export function ResetPasswordPage() {
  const location = useLocation();
  // The token is read once, then kept out of the address bar and the history.
  const [token] = useState(location.query.token ?? "");
  useEffect(() => {
    if (token) history.replaceState(history.state, "", appUrl("/reset-password"));
  }, [token]);
  return token ? <ChooseNewPassword token={token} /> : <AskForLink />;
}

function AskForLink() {
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const { problems, busy, submit } = useSubmit(REQUEST_PROBLEMS);

  function ask(event: Event) {
    event.preventDefault();
    const checks: Record<string, string> = {};
    if (!email.trim()) checks.email = "Enter your email address.";
    void submit(checks, async () => {
      await call("POST", "/auth/password-reset", { body: { email } });
      setSentTo(email.trim());
    });
  }

  return (
    <>
      <PageHeading title="Reset your password">Reset your password</PageHeading>
      {sentTo ? (
        <p class="card" role="status">
          If <strong>{sentTo}</strong> has a Farewatch account, a link to choose a new password is on its way. It works
          once, for a short while.
        </p>
      ) : (
        <form class="account-form card" onSubmit={ask} noValidate aria-label="Reset your password">
          <p>Enter the address you signed up with, and Farewatch mails you a link to choose a new password.</p>
          <TextField id="email" label="Email" type="email" autoComplete="username" value={email} onValue={setEmail} error={problems.fields.email} />
          <ProblemBanner message={problems.general} />
          <div class="actions">
            <button type="submit" class="button primary" disabled={busy}>
              {busy ? "Sending…" : "Send me a link"}
            </button>
          </div>
        </form>
      )}
    </>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const { problems, busy, submit } = useSubmit(CONFIRM_PROBLEMS);

  function confirm(event: Event) {
    event.preventDefault();
    const checks: Record<string, string> = {};
    if (password.length < 8) checks.password = "Choose a password of at least 8 characters.";
    void submit(checks, async () => {
      await call("POST", "/auth/password-reset/confirm", { body: { token, new_password: password } });
      if (session.signedIn) await session.signOut(); // every sign-in ended with the old password
      setDone(true);
    });
  }

  return (
    <>
      <PageHeading title="Choose a new password">Choose a new password</PageHeading>
      {done ? (
        <div class="card" role="status">
          <p>Your password is changed, and every device that was signed in is signed out.</p>
          <p>
            <a href={appUrl("/sign-in")}>Sign in with your new password</a>
          </p>
        </div>
      ) : (
        <form class="account-form card" onSubmit={confirm} noValidate aria-label="Choose a new password">
          <NewPasswordField label="New password" value={password} onValue={setPassword} error={problems.fields.password} />
          <ProblemBanner message={problems.general} />
          {problems.general && (
            <p>
              <a href={appUrl("/reset-password")}>Ask for a new link</a>
            </p>
          )}
          <div class="actions">
            <button type="submit" class="button primary" disabled={busy}>
              {busy ? "Saving…" : "Save new password"}
            </button>
          </div>
        </form>
      )}
    </>
  );
}
