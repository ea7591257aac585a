/** "Track this flight" under a search's cheapest fare: one click, with a target price and/or any drop. */
import { useEffect, useState } from "preact/hooks";
import type { NewTracker, Tracker } from "../api";
import { describedBy, FieldError, ProblemBanner } from "../components";
import { AlertFields, alertSettings, useSubmit } from "../forms";
import { appUrl } from "../config";
import type { ProblemMap } from "../problems";
import { session, useSession } from "../session";
import { searchUrl, type FareSearch } from "./query";

export const TRACKER_PROBLEMS: ProblemMap = {
  fields: {
    target_price: ["target", "Target price"],
    notify_on_any_drop: ["anyDrop", "Any drop"],
    flex_days: ["flexDays", "Flexible dates"],
  },
};

export const MAX_FLEX_DAYS = 3;

export function flexLabel(days: number): string {
  if (days === 0) return "Only this date";
  return days === 1 ? "1 day either side" : `${days} days either side`;
}

export function TrackPanel({ search }: { search: FareSearch }) {
  const { signedIn } = useSession();
  const [target, setTarget] = useState("");
  const [anyDrop, setAnyDrop] = useState(true);
  const [flexDays, setFlexDays] = useState(0);
  const { problems, busy, submit } = useSubmit(TRACKER_PROBLEMS, { target: "track-target" });
  const [created, setCreated] = useState<Tracker | null>(null);

  useEffect(() => setCreated(null), [searchUrl(search)]);

  if (!signedIn) {
    const next = encodeURIComponent(searchUrl(search));
    return (
      <p class="track-cta">
        <a class="button primary" href={`${appUrl("/sign-in")}?next=${next}`}>
          Sign in to track this flight
        </a>{" "}
        or <a href={`${appUrl("/sign-up")}?next=${next}`}>create an account</a> to get told when its price drops.
      </p>
    );
  }

  if (created) {
    return (
      <p class="success" role="status">
        You're tracking this flight.{" "}
        <a href={appUrl(`/trackers/${encodeURIComponent(created.id)}`)}>See its price history</a>
      </p>
    );
  }

  const flexProblem = problems.fields.flexDays;

  function track(event: Event) {
    event.preventDefault();
    const { targetPrice, problem } = alertSettings(target, anyDrop);
    void submit(problem ? { target: problem } : {}, async () => {
      const body: NewTracker = {
        origin: search.origin,
        destination: search.destination,
        departure_date: search.date,
        adults: search.adults,
        notify_on_any_drop: anyDrop,
        // The trip's shape, as searched: the tracker watches the same fares.
        ...(search.returnDate ? { return_date: search.returnDate } : {}),
        ...(search.cabin !== "economy" ? { cabin: search.cabin } : {}),
        ...(search.maxStops !== null ? { max_stops: search.maxStops } : {}),
        ...(flexDays > 0 ? { flex_days: flexDays } : {}),
        ...(targetPrice ? { target_price: targetPrice } : {}),
      };
      const { data } = await session.call<Tracker>("POST", "/tracked-flights", { body });
      setCreated(data);
    });
  }

  return (
    <form class="track-form" onSubmit={track} noValidate aria-label="Track this flight">
      <AlertFields
        prefix="track"
        targetLabel="Target price (optional)"
        targetHint="We'll tell you when the fare falls to this or below."
        target={target}
        onTarget={setTarget}
        anyDrop={anyDrop}
        onAnyDrop={setAnyDrop}
        problems={problems}
      />
      <div class="field">
        <label for="track-flex">Flexible dates</label>
        <select
          id="track-flex"
          value={String(flexDays)}
          onChange={(event) => setFlexDays(Number(event.currentTarget.value))}
          {...describedBy("track-flex", flexProblem, "track-flex-hint")}
        >
          {Array.from({ length: MAX_FLEX_DAYS + 1 }, (_, days) => (
            <option key={days} value={String(days)}>
              {flexLabel(days)}
            </option>
          ))}
        </select>
        <p id="track-flex-hint" class="hint">
          Also watch departures this many days before and after, and tell me about the cheapest.
        </p>
        <FieldError id="track-flex" message={flexProblem} />
      </div>
      <ProblemBanner message={problems.general} />
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Tracking…" : "Track this flight"}
        </button>
      </div>
    </form>
  );
}
