/**
 * Change a tracker's target price and "any drop" (PATCH with the version read). The poller bumps a
 * tracker's version whenever it records a price, so a 409 is usually the poller, not a person: when the
 * settings the form started from are still the tracker's, the change is sent again on the new version.
 */
import { useState } from "preact/hooks";
import { ApiError, type Tracker, type TrackerChange } from "../api";
import { ProblemBanner } from "../components";
import { AlertFields, alertSettings, useSubmit } from "../forms";
import { DeleteTracker } from "./DeleteTracker";
import { trackerTitle } from "./describe";
import { TRACKER_PROBLEMS } from "../search/TrackPanel";
import { session } from "../session";

/** "Change alerts" (which opens the settings in place) and "Stop tracking", under a tracker. */
export function TrackerActions({
  tracker,
  onChanged,
  onDeleted,
}: {
  tracker: Tracker;
  onChanged: (tracker: Tracker) => void;
  onDeleted: () => void;
}) {
  const [editing, setEditing] = useState(false);
  if (editing) {
    return (
      <TrackerSettings
        tracker={tracker}
        onSaved={(saved) => {
          onChanged(saved);
          setEditing(false);
        }}
        onCancel={() => setEditing(false)}
      />
    );
  }
  return (
    <div class="actions">
      <button type="button" class="button secondary" onClick={() => setEditing(true)} aria-label={`Change alerts for ${trackerTitle(tracker)}`}>
        Change alerts
      </button>
      <DeleteTracker tracker={tracker} onDeleted={onDeleted} />
    </div>
  );
}

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
  const { problems, busy, submit } = useSubmit(TRACKER_PROBLEMS, { target: `${prefix}-target` });

  function save(event: Event) {
    event.preventDefault();
    const { targetPrice, problem } = alertSettings(target, anyDrop);
    void submit(problem ? { target: problem } : {}, async () => {
      onSaved(await saveSettings(tracker, { target_price: targetPrice, notify_on_any_drop: anyDrop }));
    });
  }

  return (
    <form class="tracker-settings" onSubmit={save} noValidate aria-label={`Change alerts for this flight`}>
      <AlertFields
        prefix={prefix}
        targetLabel="Target price"
        targetHint={`In ${tracker.currency}. Leave it empty for no target.`}
        target={target}
        onTarget={setTarget}
        anyDrop={anyDrop}
        onAnyDrop={setAnyDrop}
        problems={problems}
      />
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
