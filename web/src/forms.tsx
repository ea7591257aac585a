/**
 * What every form here shares: a labelled text field with its hint and error, a checkbox, and the
 * submit cycle (the form's own checks, the first field they flag takes focus, then the API call, whose
 * error envelope lands next to the fields it names).
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { describedBy, FieldError } from "./components";
import { normalizePrice } from "./format";
import { NO_PROBLEMS, problemsOf, type FormProblems, type ProblemMap } from "./problems";

type TextInputType = "text" | "email" | "password" | "date";

export function TextField({
  id,
  label,
  value,
  onValue,
  error,
  hint,
  type = "text",
  ...input
}: {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  error: string | undefined;
  hint?: ComponentChildren;
  type?: TextInputType;
  autoComplete?: string;
  inputMode?: "decimal";
  min?: string;
  max?: string;
}) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        // Preact's types tie attributes to one input type; these take the same ones.
        type={type as "text"}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
        {...input}
        {...describedBy(id, error, hintId)}
      />
      {hint && (
        <p id={hintId} class="hint">
          {hint}
        </p>
      )}
      <FieldError id={id} message={error} />
    </div>
  );
}

export function CheckboxField({
  id,
  label,
  checked,
  onChecked,
  error,
  disabled,
}: {
  id: string;
  label: string;
  checked: boolean;
  onChecked: (checked: boolean) => void;
  error?: string | undefined;
  disabled?: boolean;
}) {
  return (
    <div class="field checkbox-field">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(event) => onChecked(event.currentTarget.checked)} {...describedBy(id, error)} />
      <label for={id}>{label}</label>
      <FieldError id={id} message={error} />
    </div>
  );
}

/** A password being chosen (sign-up, reset): its rule as a hint, and a "Show password" switch. */
export function NewPasswordField({
  label,
  value,
  onValue,
  error,
}: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  error: string | undefined;
}) {
  const [show, setShow] = useState(false);
  return (
    <>
      <TextField
        id="password"
        label={label}
        type={show ? "text" : "password"}
        autoComplete="new-password"
        value={value}
        onValue={onValue}
        error={error}
        hint="At least 8 characters. A few unrelated words make a strong one."
      />
      <CheckboxField id="show-password" label="Show password" checked={show} onChecked={setShow} />
    </>
  );
}

/** A form's problems and its busy state, and `submit(checks, send)` to run one round. */
export function useSubmit(map: ProblemMap, fieldIds: Record<string, string> = {}) {
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);

  async function submit(checks: Record<string, string>, send: () => Promise<void>): Promise<void> {
    const flagged = Object.keys(checks);
    if (flagged.length) {
      setProblems({ ...NO_PROBLEMS, fields: checks });
      document.getElementById(fieldIds[flagged[0]!] ?? flagged[0]!)?.focus();
      return;
    }
    setBusy(true);
    setProblems(NO_PROBLEMS);
    try {
      await send();
    } catch (error) {
      setProblems(problemsOf(error, map));
    } finally {
      setBusy(false);
    }
  }

  return { problems, busy, submit };
}

/** A tracker's alert settings as typed: the API's target price, or the sentence that says what is wrong. */
export function alertSettings(target: string, anyDrop: boolean): { targetPrice: string | null; problem: string | null } {
  const targetPrice = target.trim() ? normalizePrice(target) : null;
  if (target.trim() && !targetPrice) return { targetPrice, problem: "Enter the price as a number, like 250 or 249.99." };
  if (!targetPrice && !anyDrop) return { targetPrice, problem: "Set a target price, tick “Any drop”, or both." };
  return { targetPrice, problem: null };
}

/** A tracker's target price and "any drop", as creating and changing a tracker both ask for them. */
export function AlertFields(props: {
  prefix: string;
  targetLabel: string;
  targetHint: string;
  target: string;
  onTarget: (value: string) => void;
  anyDrop: boolean;
  onAnyDrop: (checked: boolean) => void;
  problems: FormProblems;
}) {
  return (
    <>
      <TextField
        id={`${props.prefix}-target`}
        label={props.targetLabel}
        inputMode="decimal"
        autoComplete="off"
        value={props.target}
        onValue={props.onTarget}
        error={props.problems.fields.target}
        hint={props.targetHint}
      />
      <CheckboxField
        id={`${props.prefix}-any-drop`}
        label="Any drop: tell me whenever the fare falls"
        checked={props.anyDrop}
        onChecked={props.onAnyDrop}
        error={props.problems.fields.anyDrop}
      />
    </>
  );
}
