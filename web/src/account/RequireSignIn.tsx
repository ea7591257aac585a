/** Pages that are someone's own (trackers, alerts) ask for a sign-in in place, then show themselves. */
import type { ComponentChildren } from "preact";
import { PageHeading } from "../components";
import { useSession } from "../session";
import { SignInForm } from "./SignInPage";

export function RequireSignIn({ title, children }: { title: string; children: ComponentChildren }) {
  const { signedIn } = useSession();
  if (signedIn) return <>{children}</>;
  return (
    <>
      <PageHeading title={title}>{title}</PageHeading>
      <SignInForm intro={`Sign in to see your ${title.toLowerCase()}.`} />
    </>
  );
}
