/** "Track this flight" under a search's cheapest fare: one click, with a target price and/or any drop. */
import { useEffect, useState } from "preact/hooks";
import type { NewTracker, Tracker } from "../api";
import { describedBy, FieldError, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { normalizePrice } from "../format";
import { NO_PROBLEMS, problemsOf, type FormProblems, type ProblemMap } from "../problems";
import { session, useSession } from "../session";
import { searchUrl, type FareSearch } from "./query";

export const TRACKER_PROBLEMS: ProblemMap = {
  fields: {
    target_price: ["target", "Target price"],
    notify_on_any_drop: ["anyDrop", "Any drop"],
  },
};

export function TrackPanel({ search }: { search: FareSearch }) {
  const { signedIn } = useSession();
  const [target, setTarget] = useState("");
  const [anyDrop, setAnyDrop] = useState(true);
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);
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

  async function track(event: Event) {
    event.preventDefault();
    const targetPrice = target.trim() ? normalizePrice(target) : null;
    if (target.trim() && !targetPrice) {
      setProblems({ ...NO_PROBLEMS, fields: { target: "Enter the price as a number, like 250 or 249.99." } });
      return;
    }
    if (!targetPrice && !anyDrop) {
      setProblems({ ...NO_PROBLEMS, fields: { target: "Set a target price, tick “Any drop”, or both." } });
      return;
    }
    const body: NewTracker = {
      origin: search.origin,
      destination: search.destination,
      departure_date: search.date,
      adults: search.adults,
      notify_on_any_drop: anyDrop,
      ...(targetPrice ? { target_price: targetPrice } : {}),
    };
    setBusy(true);
    setProblems(NO_PROBLEMS);
    try {
      const { data } = await session.call<Tracker>("POST", "/tracked-flights", { body });
      setCreated(data);
    } catch (error) {
      setProblems(problemsOf(error, TRACKER_PROBLEMS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="track-form" onSubmit={track} noValidate aria-label="Track this flight">
      <div class="field">
        <label for="target">Target price (optional)</label>
        <input
          id="target"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={target}
          onInput={(event) => setTarget(event.currentTarget.value)}
          {...describedBy("target", problems.fields.target, "target-hint")}
        />
        <p id="target-hint" class="hint">
          We'll tell you when the fare falls to this or below.
        </p>
        <FieldError id="target" message={problems.fields.target} />
      </div>
      <div class="field checkbox-field">
        <input id="anyDrop" type="checkbox" checked={anyDrop} onChange={(event) => setAnyDrop(event.currentTarget.checked)} />
        <label for="anyDrop">Any drop: tell me whenever the fare falls</label>
        <FieldError id="anyDrop" message={problems.fields.anyDrop} />
      </div>
      {/* Round two (issue 15): flexible days (capabilities.flexibleDays) and max stops (.trackerStops). */}
      <ProblemBanner message={problems.general} />
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Tracking…" : "Track this flight"}
        </button>
      </div>
    </form>
  );
}
