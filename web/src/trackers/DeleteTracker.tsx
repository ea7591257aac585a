/** Stop tracking: a button that asks once more, in place, before it deletes. */
import { useState } from "preact/hooks";
import type { Tracker } from "../api";
import { ProblemBanner } from "../components";
import { problemsOf } from "../problems";
import { session } from "../session";
import { trackerTitle } from "./describe";

export function DeleteTracker({ tracker, onDeleted }: { tracker: Tracker; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  async function remove() {
    setBusy(true);
    setProblem(null);
    try {
      await session.call("DELETE", `/tracked-flights/${encodeURIComponent(tracker.id)}`);
      onDeleted();
    } catch (error) {
      setProblem(problemsOf(error, { fields: {} }).general);
      setBusy(false);
    }
  }

  if (!confirming) {
    return (
      <button type="button" class="button danger-outline" onClick={() => setConfirming(true)} aria-label={`Stop tracking ${trackerTitle(tracker)}`}>
        Stop tracking
      </button>
    );
  }
  return (
    <div class="confirm" role="group" aria-label="Confirm">
      <p>Stop tracking {trackerTitle(tracker)}? You will get no more alerts for it.</p>
      <button type="button" class="button danger" disabled={busy} onClick={remove}>
        {busy ? "Deleting…" : "Yes, stop tracking"}
      </button>
      <button type="button" class="button secondary" onClick={() => setConfirming(false)} autoFocus>
        Keep it
      </button>
      <ProblemBanner message={problem} />
    </div>
  );
}
