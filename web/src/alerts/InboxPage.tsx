/** The alerts inbox: unread alerts first (newest first), then the ones already acknowledged. */
import { useEffect, useState } from "preact/hooks";
import type { Alert } from "../api";
import { Loading, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { formatAge, formatDate, formatMoment, routeLabel } from "../format";
import { InsightNote } from "../insight";
import { problemsOf, type FormProblems } from "../problems";
import { session } from "../session";
import { alertRoute, alertSentence } from "../trackers/describe";
import { alertsChanged } from "./unread";

const PAGE = 50;
const UNREAD_PAGES = 10;

interface Inbox {
  unread: Alert[];
  read: Alert[];
  olderCursor: string | null;
}

async function loadInbox(): Promise<Inbox> {
  const unread: Alert[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < UNREAD_PAGES; page++) {
    const answer = await session.call<Alert[]>("GET", "/alerts", { query: { unacked_only: "true", limit: 100, cursor } });
    unread.push(...answer.data);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  const recent = await session.call<Alert[]>("GET", "/alerts", { query: { limit: PAGE } });
  return { unread, read: recent.data.filter((alert) => alert.acked), olderCursor: recent.next_cursor ?? null };
}

export function InboxPage() {
  const [inbox, setInbox] = useState<Inbox | null>(null);
  const [problems, setProblems] = useState<FormProblems | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [loadingOlder, setLoadingOlder] = useState(false);

  useEffect(() => {
    let current = true;
    setProblems(null);
    loadInbox()
      .then((found) => current && setInbox(found))
      .catch((error) => current && setProblems(problemsOf(error, { fields: {} })));
    return () => {
      current = false;
    };
  }, [attempt]);

  function acknowledged(alert: Alert) {
    setInbox((now) =>
      now && {
        ...now,
        unread: now.unread.filter((one) => one.id !== alert.id),
        read: [alert, ...now.read.filter((one) => one.id !== alert.id)].sort((a, b) => b.created_at.localeCompare(a.created_at)),
      },
    );
    alertsChanged();
  }

  async function older() {
    if (!inbox?.olderCursor) return;
    setLoadingOlder(true);
    try {
      const answer = await session.call<Alert[]>("GET", "/alerts", { query: { limit: PAGE, cursor: inbox.olderCursor } });
      setInbox({ ...inbox, read: [...inbox.read, ...answer.data.filter((alert) => alert.acked)], olderCursor: answer.next_cursor ?? null });
    } catch (error) {
      setProblems(problemsOf(error, { fields: {} }));
    } finally {
      setLoadingOlder(false);
    }
  }

  return (
    <>
      <PageHeading title="Alerts">Alerts</PageHeading>
      <ProblemBanner message={problems?.general ?? null} onRetry={problems?.retryable ? () => setAttempt((n) => n + 1) : undefined} />
      {!inbox && !problems && <Loading label="Loading your alerts…" />}
      {inbox && (
        <>
          <section aria-labelledby="unread-heading">
            <h2 id="unread-heading">Unread ({inbox.unread.length})</h2>
            {inbox.unread.length === 0 ? (
              <p class="muted">Nothing new. Farewatch checks your flights' fares regularly and lists every drop here.</p>
            ) : (
              <ul class="alerts" aria-label="Unread alerts">
                {inbox.unread.map((alert) => (
                  <AlertItem key={alert.id} alert={alert} onAcknowledged={acknowledged} />
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="read-heading">
            <h2 id="read-heading">Earlier</h2>
            {inbox.read.length === 0 ? (
              <p class="muted">Alerts you acknowledge move here.</p>
            ) : (
              <ul class="alerts" aria-label="Earlier alerts">
                {inbox.read.map((alert) => (
                  <AlertItem key={alert.id} alert={alert} onAcknowledged={acknowledged} />
                ))}
              </ul>
            )}
            {inbox.olderCursor && (
              <button type="button" class="button secondary" onClick={older} disabled={loadingOlder}>
                {loadingOlder ? "Loading…" : "Show older alerts"}
              </button>
            )}
          </section>
        </>
      )}
    </>
  );
}

function AlertItem({ alert, onAcknowledged }: { alert: Alert; onAcknowledged: (alert: Alert) => void }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const route = alertRoute(alert);
  const headingId = `alert-${alert.id}`;

  async function acknowledge() {
    setBusy(true);
    setProblem(null);
    try {
      const { data } = await session.call<Alert>("POST", `/alerts/${encodeURIComponent(alert.id)}/ack`);
      onAcknowledged(data);
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
      setBusy(false);
    }
  }

  return (
    <li class={alert.acked ? "alert card read" : "alert card unread"} aria-labelledby={headingId}>
      <h3 id={headingId}>
        {routeLabel(route.origin, route.destination)}, {formatDate(alert.departure_date ?? route.date)}
      </h3>
      <p class="alert-text">{alertSentence(alert)}</p>
      <InsightNote insight={alert.insight} currency={alert.currency} />
      <p class="muted">
        Price seen {formatAge(alert.observed_at)}, <time dateTime={alert.observed_at}>{formatMoment(alert.observed_at)}</time>
        {alert.acked && alert.acked_at ? ` · acknowledged ${formatAge(alert.acked_at)}` : ""}
      </p>
      <div class="actions">
        <a href={appUrl(`/trackers/${encodeURIComponent(alert.tracked_flight_id)}`)}>See the price history</a>
        {!alert.acked && (
          <button type="button" class="button primary" onClick={acknowledge} disabled={busy} aria-describedby={headingId}>
            {busy ? "Acknowledging…" : "Acknowledge"}
          </button>
        )}
      </div>
      <ProblemBanner message={problem} />
    </li>
  );
}
