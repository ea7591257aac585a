/** The app's frame: skip link, header with navigation and account, and the router over the pages. */
import { LocationProvider, Route, Router, useLocation } from "preact-iso/router";
import { RequireSignIn } from "./account/RequireSignIn";
import { SignInPage } from "./account/SignInPage";
import { ResetPasswordPage } from "./account/ResetPasswordPage";
import { SettingsPage } from "./account/SettingsPage";
import { SignUpPage } from "./account/SignUpPage";
import { VerifyEmailPage } from "./account/VerifyEmailPage";
import { InboxPage } from "./alerts/InboxPage";
import { useUnreadCount } from "./alerts/unread";
import { PageHeading } from "./components";
import { appUrl, pageScope, routePattern } from "./config";
import { SearchPage } from "./search/SearchPage";
import { session, useSession } from "./session";
import { TrackerPage } from "./trackers/TrackerPage";
import { TrackersPage } from "./trackers/TrackersPage";

export function App() {
  return (
    <LocationProvider scope={pageScope()}>
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <Header />
      <main id="content" tabIndex={-1}>
        <Router>
          <Route path={routePattern("/")} component={SearchPage} />
          <Route path={routePattern("/sign-in")} component={SignInPage} />
          <Route path={routePattern("/sign-up")} component={SignUpPage} />
          <Route path={routePattern("/trackers")} component={OwnTrackers} />
          <Route path={routePattern("/trackers/:id")} component={OwnTracker} />
          <Route path={routePattern("/inbox")} component={OwnInbox} />
          <Route path={routePattern("/verify-email")} component={VerifyEmailPage} />
          <Route path={routePattern("/reset-password")} component={ResetPasswordPage} />
          <Route path={routePattern("/settings")} component={OwnSettings} />
          <Route default component={NotFoundPage} />
        </Router>
      </main>
      <footer class="site-footer">
        <p>
          Farewatch watches fares for you. <a href={appUrl("/docs")}>API documentation</a>
        </p>
      </footer>
    </LocationProvider>
  );
}

const OwnTrackers = () => (
  <RequireSignIn title="Tracked flights">
    <TrackersPage />
  </RequireSignIn>
);
const OwnTracker = () => (
  <RequireSignIn title="Tracked flight">
    <TrackerPage />
  </RequireSignIn>
);
const OwnInbox = () => (
  <RequireSignIn title="Alerts">
    <InboxPage />
  </RequireSignIn>
);

const OwnSettings = () => (
  <RequireSignIn title="Notification settings">
    <SettingsPage />
  </RequireSignIn>
);

function Header() {
  const location = useLocation();
  const { signedIn, email } = useSession();
  const unread = useUnreadCount(location.url);
  const here = (path: string) => (location.path === routePattern(path) ? "page" : undefined);
  return (
    <header class="site-header">
      <a class="brand" href={appUrl("/")}>
        Farewatch
      </a>
      <nav aria-label="Main">
        <ul>
          <li>
            <a href={appUrl("/")} aria-current={here("/")}>
              Search
            </a>
          </li>
          <li>
            <a href={appUrl("/trackers")} aria-current={here("/trackers")}>
              Tracked flights
            </a>
          </li>
          <li>
            <a href={appUrl("/inbox")} aria-current={here("/inbox")}>
              Alerts{unread ? <span class="count"> ({unread} unread)</span> : null}
            </a>
          </li>
        </ul>
      </nav>
      <div class="account">
        {signedIn ? (
          <>
            <span class="who">{email}</span>
            <a href={appUrl("/settings")} aria-current={here("/settings")}>
              Settings
            </a>
            <button
              type="button"
              class="button secondary small"
              onClick={() => {
                void session.signOut();
                location.route(appUrl("/"));
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <>
            <a href={appUrl("/sign-in")} aria-current={here("/sign-in")}>
              Sign in
            </a>
            <a class="button primary small" href={appUrl("/sign-up")} aria-current={here("/sign-up")}>
              Sign up
            </a>
          </>
        )}
      </div>
    </header>
  );
}

function NotFoundPage() {
  return (
    <>
      <PageHeading title="Page not found">Page not found</PageHeading>
      <p>
        There is no page here. <a href={appUrl("/")}>Search for a fare</a> instead.
      </p>
    </>
  );
}
