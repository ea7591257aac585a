/**
 * Change a tracker's target price and "any drop" (PATCH with the version read). The poller bumps a
 * tracker's version whenever it records a price, so a 409 is usually the poller, not a person: when the
 * settings the form started from are still the tracker's, the change is sent again on the new version.
 */
import { useState } from "preact/hooks";
import { ApiError, type Tracker, type TrackerChange } from "../api";
import { describedBy, FieldError, ProblemBanner } from "../components";
import { normalizePrice } from "../format";
import { NO_PROBLEMS, problemsOf, type FormProblems } from "../problems";
import { TRACKER_PROBLEMS } from "../search/TrackPanel";
import { session } from "../session";

export function TrackerSettings({
  tracker,
  onSaved,
  onCancel,
}: {
  tracker: Tracker;
  onSaved: (tracker: Tracker) => void;
  onCancel: () => void;
}) {
  const prefix = `edit-${tracker.id}`;
  const [target, setTarget] = useState(tracker.target_price ?? "");
  const [anyDrop, setAnyDrop] = useState(tracker.notify_on_any_drop);
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);

  async function save(event: Event) {
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
    setBusy(true);
    setProblems(NO_PROBLEMS);
    try {
      onSaved(await saveSettings(tracker, { target_price: targetPrice, notify_on_any_drop: anyDrop }));
    } catch (error) {
      setProblems(problemsOf(error, TRACKER_PROBLEMS));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="tracker-settings" onSubmit={save} noValidate aria-label={`Change alerts for this flight`}>
      <div class="field">
        <label for={`${prefix}-target`}>Target price</label>
        <input
          id={`${prefix}-target`}
          type="text"
          inputMode="decimal"
          autoComplete="off"
          value={target}
          onInput={(event) => setTarget(event.currentTarget.value)}
          {...describedBy(`${prefix}-target`, problems.fields.target, `${prefix}-target-hint`)}
        />
        <p id={`${prefix}-target-hint`} class="hint">
          In {tracker.currency}. Leave it empty for no target.
        </p>
        <FieldError id={`${prefix}-target`} message={problems.fields.target} />
      </div>
      <div class="field checkbox-field">
        <input id={`${prefix}-any-drop`} type="checkbox" checked={anyDrop} onChange={(event) => setAnyDrop(event.currentTarget.checked)} />
        <label for={`${prefix}-any-drop`}>Any drop: tell me whenever the fare falls</label>
      </div>
      <ProblemBanner message={problems.general} />
      <div class="actions">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? "Saving…" : "Save changes"}
        </button>
        <button type="button" class="button secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

async function saveSettings(tracker: Tracker, settings: Omit<TrackerChange, "version">): Promise<Tracker> {
  const path = `/tracked-flights/${encodeURIComponent(tracker.id)}`;
  try {
    return (await session.call<Tracker>("PATCH", path, { body: { version: tracker.version, ...settings } })).data;
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "version_conflict") throw error;
    const { data: now } = await session.call<Tracker>("GET", path);
    if (now.target_price !== tracker.target_price || now.notify_on_any_drop !== tracker.notify_on_any_drop) {
      throw new ApiError(
        409,
        "version_conflict",
        "These alerts were changed somewhere else meanwhile. Reload the page to see them, then make your change again.",
      );
    }
    return (await session.call<Tracker>("PATCH", path, { body: { version: now.version, ...settings } })).data;
  }
}
