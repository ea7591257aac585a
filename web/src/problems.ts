/**
 * An ApiError as sentences a person reads next to the field they concern. The envelope's details name
 * API fields (`destination`, `target_price`); each form says which of its fields shows which, and which
 * error codes without details still belong to one field (`email_taken` → the email field).
 */
import { ApiError } from "./api";

export interface FormProblems {
  /** Sentence per form field name. */
  fields: Record<string, string>;
  /** What belongs to no field: shown above the form, with a retry button when `retryable`. */
  general: string | null;
  retryable: boolean;
}

/** The fare source's failures (502/503/504 `upstream_*`): what a traveller needs is what to do next. */
const UPSTREAM_CODE = /^upstream_/;
export const UPSTREAM_TROUBLE =
  "The fare service isn't answering right now, and Farewatch has no recent price for this trip. Try again in a moment.";

export const NO_PROBLEMS: FormProblems = { fields: {}, general: null, retryable: false };

export interface ProblemMap {
  /** API field → [form field, its label as the sentence names it]. */
  fields: Record<string, [string, string]>;
  /** Error code (with no details) → form field. */
  codes?: Record<string, string>;
}

export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** "is required" about "Date" → "Date is required."; "Input should be a valid decimal" → "Target price should be…". */
export function issueSentence(label: string, issue: string): string {
  const text = issue.trim();
  if (/^field required$/i.test(text)) return `${label} is required.`;
  if (/^input\b/i.test(text)) return sentence(`${label}${text.slice(5)}`);
  if (/^[a-z]/.test(text)) {
    const firstWord = text.split(/\s/, 1)[0] ?? "";
    // "is required", "must differ…", "should be…", "or notify_on_any_drop is required" read after the label;
    // an issue that starts with the value ("XXX is not a known…") or a sentence of its own stands alone.
    if (["is", "are", "must", "should", "or", "and", "has", "cannot", "can't", "not"].includes(firstWord)) {
      return sentence(`${label} ${text.replace(/_/g, " ")}`);
    }
  }
  return sentence(text);
}

export function problemsOf(error: unknown, map: ProblemMap): FormProblems {
  if (!(error instanceof ApiError)) {
    return { fields: {}, general: "Something went wrong in this page. Reload it and try again.", retryable: false };
  }
  const fields: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const detail of error.details) {
    const place = detail.field ? map.fields[detail.field] : undefined;
    if (place) {
      const [field, label] = place;
      fields[field] = fields[field] ? `${fields[field]} ${issueSentence(label, detail.issue)}` : issueSentence(label, detail.issue);
    } else {
      unplaced.push(detail.field ? `${detail.field.replace(/_/g, " ")}: ${detail.issue}` : detail.issue);
    }
  }
  const codeField = map.codes?.[error.code];
  if (codeField && !fields[codeField]) fields[codeField] = sentence(error.message);
  let general: string | null = null;
  if (Object.keys(fields).length === 0) general = UPSTREAM_CODE.test(error.code) ? UPSTREAM_TROUBLE : sentence(error.message);
  else if (unplaced.length) general = unplaced.map(sentence).join(" ");
  if (error.retryAfterSeconds && general) general = `${general} Try again in ${waitLabel(error.retryAfterSeconds)}.`;
  return { fields, general, retryable: error.retryable };
}

function waitLabel(seconds: number): string {
  if (seconds < 90) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}
