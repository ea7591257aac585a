/** Sign in with email and password (POST /auth/login); the tokens stay in this tab's memory. */
import { useLocation } from "preact-iso/router";
import { useState } from "preact/hooks";
import { capabilities } from "../capabilities";
import { describedBy, FieldError, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { NO_PROBLEMS, problemsOf, type FormProblems, type ProblemMap } from "../problems";
import { session, useSession } from "../session";
import { nextPage, queryPart } from "./next";

const SIGN_IN_PROBLEMS: ProblemMap = {
  fields: { email: ["email", "Email"], password: ["password", "Password"] },
};

export function SignInPage() {
  const location = useLocation();
  return (
    <>
      <PageHeading title="Sign in">Sign in</PageHeading>
      <SignInForm onSignedIn={() => location.route(nextPage(location.query))} />
      <p>
        New to Farewatch? <a href={appUrl("/sign-up") + queryPart(location.url)}>Create an account</a>
      </p>
    </>
  );
}

/** The form alone: the sign-in page has it, and so does every page that needs you signed in. */
export function SignInForm({ onSignedIn, intro }: { onSignedIn?: () => void; intro?: string }) {
  const { ended } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const fields: Record<string, string> = {};
    if (!email.trim()) fields.email = "Enter your email address.";
    if (!password) fields.password = "Enter your password.";
    if (Object.keys(fields).length) {
      setProblems({ ...NO_PROBLEMS, fields });
      document.getElementById(fields.email ? "email" : "password")?.focus();
      return;
    }
    setBusy(true);
    setProblems(NO_PROBLEMS);
    try {
      await session.signIn(email, password);
      onSignedIn?.();
    } catch (error) {
      setProblems(problemsOf(error, SIGN_IN_PROBLEMS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="account-form card" onSubmit={submit} noValidate aria-label="Sign in">
      {ended === "expired" && (
        <p class="notice" role="status">
          Your session has ended. Sign in again to carry on.
        </p>
      )}
      {intro && <p>{intro}</p>}
      <div class="field">
        <label for="email">Email</label>
        <input id="email" type="email" autoComplete="username" value={email} onInput={(event) => setEmail(event.currentTarget.value)} {...describedBy("email", problems.fields.email)} />
        <FieldError id="email" message={problems.fields.email} />
      </div>
      <div class="field">
        <label for="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" value={password} onInput={(event) => setPassword(event.currentTarget.value)} {...describedBy("password", problems.fields.password)} />
        <FieldError id="password" message={problems.fields.password} />
      </div>
      <ProblemBanner message={problems.general} />
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {/* Round two (issue 14): "Forgot your password?" once capabilities.passwordReset is on. */}
        {capabilities.passwordReset && <a href={appUrl("/reset-password")}>Forgot your password?</a>}
      </div>
    </form>
  );
}
