/** Your tracked flights: current, lowest and target price and status, with edit and stop in place. */
import { useEffect, useState } from "preact/hooks";
import type { Tracker } from "../api";
import { Loading, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { formatAge, formatMoney, travellersLabel } from "../format";
import { problemsOf, type FormProblems } from "../problems";
import { session } from "../session";
import { statusLabel, targetLabel, trackerTitle, tripShapeLabel } from "./describe";
import { CheapestInWindow } from "./FlexWindow";
import { TrackerActions } from "./TrackerSettings";

export function TrackersPage() {
  const [trackers, setTrackers] = useState<Tracker[] | null>(null);
  const [problems, setProblems] = useState<FormProblems | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    setProblems(null);
    session
      .call<Tracker[]>("GET", "/tracked-flights")
      .then(({ data }) => current && setTrackers(data))
      .catch((error) => current && setProblems(problemsOf(error, { fields: {} })));
    return () => {
      current = false;
    };
  }, [attempt]);

  const replace = (changed: Tracker) => setTrackers((all) => all?.map((one) => (one.id === changed.id ? changed : one)) ?? null);
  const remove = (gone: Tracker) => setTrackers((all) => all?.filter((one) => one.id !== gone.id) ?? null);

  return (
    <>
      <PageHeading title="Tracked flights">Tracked flights</PageHeading>
      <ProblemBanner message={problems?.general ?? null} onRetry={problems?.retryable ? () => setAttempt((n) => n + 1) : undefined} />
      {!trackers && !problems && <Loading label="Loading your tracked flights…" />}
      {trackers && trackers.length === 0 && (
        <p>
          You aren't tracking any flights yet. <a href={appUrl("/")}>Search for a fare</a> and press “Track this flight”.
        </p>
      )}
      {trackers && trackers.length > 0 && (
        <ul class="trackers" aria-label="Your tracked flights">
          {trackers.map((tracker) => (
            <TrackerItem key={tracker.id} tracker={tracker} onChanged={replace} onDeleted={() => remove(tracker)} />
          ))}
        </ul>
      )}
    </>
  );
}

function TrackerItem({ tracker, onChanged, onDeleted }: { tracker: Tracker; onChanged: (tracker: Tracker) => void; onDeleted: () => void }) {
  const title = trackerTitle(tracker);
  const headingId = `tracker-${tracker.id}-title`;
  return (
    <li class={`tracker card status-${tracker.status}`} aria-labelledby={headingId}>
      <h2 id={headingId}>
        <a href={appUrl(`/trackers/${encodeURIComponent(tracker.id)}`)}>{title}</a>
      </h2>
      <TrackerFacts tracker={tracker} />
      <CheapestInWindow tracker={tracker} />
      <TrackerActions tracker={tracker} onChanged={onChanged} onDeleted={onDeleted} />
    </li>
  );
}

export function TrackerFacts({ tracker }: { tracker: Tracker }) {
  const money = (amount: string | null) => formatMoney(amount, tracker.currency);
  return (
    <dl class="facts">
      <div>
        <dt>Current price</dt>
        <dd class="price">{money(tracker.current_price)}</dd>
      </div>
      <div>
        <dt>Lowest seen</dt>
        <dd>{money(tracker.lowest_price)}</dd>
      </div>
      <div>
        <dt>Alert me at</dt>
        <dd>{targetLabel(tracker)}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          {statusLabel(tracker.status)}
          {tracker.last_checked_at && <span class="muted"> · checked {formatAge(tracker.last_checked_at)}</span>}
        </dd>
      </div>
      {tracker.adults > 1 && (
        <div>
          <dt>Travellers</dt>
          <dd>{travellersLabel(tracker.adults)}</dd>
        </div>
      )}
      <div>
        <dt>Trip</dt>
        <dd>{tripShapeLabel(tracker)}</dd>
      </div>
    </dl>
  );
}
