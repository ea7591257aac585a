/**
 * Create an account (POST /auth/register), then sign in with it. Today's API answers 201 with the
 * user; once email verification lands (issue 14) it answers 202 {"status": "verification_sent"}
 * whatever the email, and the page says to check the inbox instead.
 */
import { useLocation } from "preact-iso/router";
import { useState } from "preact/hooks";
import { call, type Registration } from "../api";
import { describedBy, FieldError, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { NO_PROBLEMS, problemsOf, type FormProblems, type ProblemMap } from "../problems";
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
  const [showPassword, setShowPassword] = useState(false);
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);
  const [verificationSent, setVerificationSent] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!email.trim()) fields.email = "Enter your email address.";
    if (password.length < 8) fields.password = "Choose a password of at least 8 characters.";
    if (Object.keys(fields).length) {
      setProblems({ ...NO_PROBLEMS, fields });
      document.getElementById(fields.email ? "email" : "password")?.focus();
      return;
    }
    setBusy(true);
    setProblems(NO_PROBLEMS);
    try {
      const { data } = await call<Registration>("POST", "/auth/register", { body: { email, password } });
      if ("status" in data && data.status === "verification_sent") {
        setVerificationSent(true);
        return;
      }
      await session.signIn(email, password);
      location.route(nextPage(location.query, appUrl("/")));
    } catch (error) {
      setProblems(problemsOf(error, SIGN_UP_PROBLEMS));
    } finally {
      setBusy(false);
    }
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
      <form class="account-form card" onSubmit={submit} noValidate aria-label="Create an account">
        <p>Track fares and get told when they drop. Farewatch only uses your email to send you price alerts.</p>
        <div class="field">
          <label for="email">Email</label>
          <input id="email" type="email" autoComplete="email" value={email} onInput={(event) => setEmail(event.currentTarget.value)} {...describedBy("email", problems.fields.email)} />
          <FieldError id="email" message={problems.fields.email} />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            // Preact's types tie attributes to one input type; both types take the same ones here.
            type={(showPassword ? "text" : "password") as "password"}
            autoComplete="new-password"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
            {...describedBy("password", problems.fields.password, "password-hint")}
          />
          <p id="password-hint" class="hint">
            At least 8 characters. A few unrelated words make a strong one.
          </p>
          <FieldError id="password" message={problems.fields.password} />
        </div>
        <div class="field checkbox-field">
          <input id="show-password" type="checkbox" checked={showPassword} onChange={(event) => setShowPassword(event.currentTarget.checked)} />
          <label for="show-password">Show password</label>
        </div>
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
