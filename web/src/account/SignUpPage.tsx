/**
 * Create an account (POST /auth/register), then sign in with it. Today's API answers 201 with the
 * user; once email verification lands (issue 14) it answers 202 {"status": "verification_sent"}
 * whatever the email, and the page says to check the inbox instead.
 */
import { useLocation } from "preact-iso/router";
import { useState } from "preact/hooks";
import { call, type Registration } from "../api";
import { PageHeading, ProblemBanner } from "../components";
import { NewPasswordField, TextField, useSubmit } from "../forms";
import { appUrl } from "../config";
import type { ProblemMap } from "../problems";
import { session } from "../session";
import { nextPage, queryPart } from "./next";

const SIGN_UP_PROBLEMS: ProblemMap = {
  fields: { email: ["email", "Email"], password: ["password", "Password"] },
  codes: { email_taken: "email", invalid_email: "email", password_too_short: "password", password_too_long: "password" },
};

export function SignUpPage() {
  const location = useLocation();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { problems, busy, submit } = useSubmit(SIGN_UP_PROBLEMS);
  const [verificationSent, setVerificationSent] = useState(false);

  function signUp(event: Event) {
    event.preventDefault();
    const checks: Record<string, string> = {};
    if (!email.trim()) checks.email = "Enter your email address.";
    if (password.length < 8) checks.password = "Choose a password of at least 8 characters.";
    void submit(checks, async () => {
      const { data } = await call<Registration>("POST", "/auth/register", { body: { email, password } });
      if ("status" in data && data.status === "verification_sent") {
        setVerificationSent(true);
        return;
      }
      await session.signIn(email, password);
      location.route(nextPage(location.query, appUrl("/")));
    });
  }

  if (verificationSent) {
    return (
      <>
        <PageHeading title="Check your inbox">Check your inbox</PageHeading>
        <p role="status">
          We've sent a link to <strong>{email}</strong>. Open it to confirm your address, then sign in.
        </p>
      </>
    );
  }

  return (
    <>
      <PageHeading title="Create an account">Create an account</PageHeading>
      <form class="account-form card" onSubmit={signUp} noValidate aria-label="Create an account">
        <p>Track fares and get told when they drop. Farewatch only uses your email to send you price alerts.</p>
        <TextField id="email" label="Email" type="email" autoComplete="email" value={email} onValue={setEmail} error={problems.fields.email} />
        <NewPasswordField label="Password" value={password} onValue={setPassword} error={problems.fields.password} />
        <ProblemBanner message={problems.general} />
        <div class="actions">
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? "Creating your account…" : "Create account"}
          </button>
        </div>
      </form>
      <p>
        Already have an account? <a href={appUrl("/sign-in") + queryPart(location.url)}>Sign in</a>
      </p>
    </>
  );
}
