/** Small pieces every page uses: headings that take focus, field errors, problem banners, freshness. */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { FareMeta } from "./api";
import { formatAge } from "./format";

let firstHeading = true;

/**
 * The page's h1. It names the tab, and after a navigation it takes focus, so a screen reader starts
 * reading the new page and a keyboard user continues from its top.
 */
export function PageHeading({ children, title }: { children: ComponentChildren; title: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Farewatch`;
    if (firstHeading) {
      firstHeading = false; // the first page of a load keeps the browser's own focus
      return;
    }
    heading.current?.focus();
  }, [title]);
  return (
    <h1 ref={heading} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function fieldErrorId(id: string): string {
  return `${id}-error`;
}

/** The sentence under a field; the field points at it with aria-describedby. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <p class="field-error" id={fieldErrorId(id)}>
      {message}
    </p>
  );
}

/** aria attributes of a field that may have an error. */
export function describedBy(id: string, message: string | undefined, hintId?: string) {
  const ids = [hintId, message ? fieldErrorId(id) : undefined].filter(Boolean).join(" ");
  return { "aria-invalid": message ? true : undefined, "aria-describedby": ids || undefined };
}

/** A problem that belongs to no one field: read out at once, with a retry button when one may help. */
export function ProblemBanner({
  message,
  onRetry,
  retryLabel = "Try again",
}: {
  message: string | null;
  onRetry?: (() => void) | undefined;
  retryLabel?: string;
}) {
  if (!message) return null;
  return (
    <div class="problem" role="alert">
      <p>{message}</p>
      {onRetry && (
        <button type="button" class="button secondary" onClick={onRetry}>
          {retryLabel}
        </button>
      )}
    </div>
  );
}

/** "Checked 3 minutes ago", or, when the fare source failed and this is the last known answer, says so. */
export function Freshness({ meta, now = Date.now() }: { meta: FareMeta | undefined; now?: number }) {
  if (!meta) return null;
  const age = formatAge(meta.fetched_at, now);
  if (meta.stale) {
    return (
      <p class="stale" role="status">
        <strong>This price may be out of date.</strong> The fare service isn't answering, so this is the
        last price Farewatch saw, {age}.
      </p>
    );
  }
  return <p class="freshness">Price checked {age}.</p>;
}

export function Loading({ label }: { label: string }) {
  return (
    <p class="loading" role="status">
      {label}
    </p>
  );
}
