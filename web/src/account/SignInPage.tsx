/** Sign in with email and password (POST /auth/login); the tokens stay in this tab's memory. */
import { useLocation } from "preact-iso/router";
import { useState } from "preact/hooks";
import { capabilities } from "../capabilities";
import { PageHeading, ProblemBanner } from "../components";
import { TextField, useSubmit } from "../forms";
import { appUrl } from "../config";
import type { ProblemMap } from "../problems";
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
  const { problems, busy, submit } = useSubmit(SIGN_IN_PROBLEMS);

  function signIn(event: Event) {
    event.preventDefault();
    const checks: Record<string, string> = {};
    if (!email.trim()) checks.email = "Enter your email address.";
    if (!password) checks.password = "Enter your password.";
    void submit(checks, async () => {
      await session.signIn(email, password);
      onSignedIn?.();
    });
  }

  return (
    <form class="account-form card" onSubmit={signIn} noValidate aria-label="Sign in">
      {ended === "expired" && (
        <p class="notice" role="status">
          Your session has ended. Sign in again to carry on.
        </p>
      )}
      {intro && <p>{intro}</p>}
      <TextField id="email" label="Email" type="email" autoComplete="username" value={email} onValue={setEmail} error={problems.fields.email} />
      <TextField id="password" label="Password" type="password" autoComplete="current-password" value={password} onValue={setPassword} error={problems.fields.password} />
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
