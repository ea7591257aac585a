/** How a tracker reads in words: its target, its status, its alerts. */
import type { Alert, Tracker } from "../api";
import { formatDate, formatDay, formatMoney, routeLabel } from "../format";
import { cabinLabel, stopsChoiceLabel } from "../search/query";

export function trackerTitle(tracker: Pick<Tracker, "origin" | "destination" | "departure_date">): string {
  return `${routeLabel(tracker.origin, tracker.destination)}, ${formatDate(tracker.departure_date)}`;
}

/** "Round trip, back 17 Jan · Business · Nonstop only · 2 days either side": what a tracker watches. */
export function tripShapeLabel(tracker: Pick<Tracker, "return_date" | "cabin" | "max_stops" | "flex_days">): string {
  const parts = [tracker.return_date ? `Round trip, back ${formatDate(tracker.return_date)}` : "One way"];
  parts.push(cabinLabel(tracker.cabin ?? "economy"));
  if (tracker.max_stops !== undefined && tracker.max_stops !== null) parts.push(stopsChoiceLabel(tracker.max_stops));
  if (tracker.flex_days) parts.push(tracker.flex_days === 1 ? "±1 day" : `±${tracker.flex_days} days`);
  return parts.join(" · ");
}

export function targetLabel(tracker: Pick<Tracker, "target_price" | "notify_on_any_drop" | "currency">): string {
  const target = tracker.target_price ? `${formatMoney(tracker.target_price, tracker.currency)} or less` : null;
  if (target && tracker.notify_on_any_drop) return `${target}, and any drop`;
  if (target) return target;
  return tracker.notify_on_any_drop ? "Any drop" : "None";
}

export function statusLabel(status: string): string {
  if (status === "active") return "Watching";
  if (status === "expired") return "Departed: no longer watched";
  return status;
}

/** "JFK#LAX#2026-12-31#1#USD" → its origin, destination and date. */
export function alertRoute(alert: Pick<Alert, "route">): { origin: string; destination: string; date: string } {
  const [origin = "", destination = "", date = ""] = alert.route.split("#");
  return { origin, destination, date };
}

export function alertSentence(alert: Alert): string {
  const price = formatMoney(alert.price, alert.currency);
  let sentence = `Down to ${price}.`;
  if (alert.kind === "target_reached" && alert.target_price) {
    sentence = `Down to ${price}: at or below your target of ${formatMoney(alert.target_price, alert.currency)}.`;
  } else if (alert.previous_price) {
    sentence = `Down to ${price}, from ${formatMoney(alert.previous_price, alert.currency)}.`;
  }
  return alert.best_date ? `${sentence} ${flexibleDaySentence(alert.best_date)}` : sentence;
}

/** A flexible alert names the day that won: "The cheapest day of your flexible dates: Sat 16 Jan." */
export function flexibleDaySentence(bestDate: string): string {
  return `The cheapest day of your flexible dates: ${formatDay(bestDate)}.`;
}

/** "Cheapest in your window: Sat 16 Jan, $240.00"; null for a tracker of one date. */
export function cheapestInWindow(tracker: Pick<Tracker, "flex_days" | "best_date" | "best_price" | "currency">): string | null {
  if (!tracker.flex_days) return null;
  if (!tracker.best_date || !tracker.best_price) return "Cheapest in your window: not known until a date of it is priced.";
  return `Cheapest in your window: ${formatDay(tracker.best_date)}, ${formatMoney(tracker.best_price, tracker.currency)}`;
}

export const epochSeconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);
