/** How the page writes prices, dates, times and durations. Pure functions, tested in test/format.test.ts. */

export interface Money {
  amount: string;
  currency: string;
}

/** "431.00 USD" (the price answer's form) → its amount and currency. */
export function parseMoney(text: string): Money {
  const [amount = "", currency = ""] = text.trim().split(/\s+/, 2);
  return { amount, currency };
}

export function formatMoney(amount: string | number | null | undefined, currency: string, locale?: string): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = typeof amount === "number" ? amount : Number(amount);
  if (!Number.isFinite(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`; // a currency code Intl does not know
  }
}

/** 435 → "7 h 15 min" */
export function formatDuration(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

export function stopsLabel(stops: number): string {
  if (stops === 0) return "Nonstop";
  return stops === 1 ? "1 stop" : `${stops} stops`;
}

/**
 * An offer's local time ("2026-12-31T07:50:00", the airport's wall clock, no offset) as "07:50".
 * Deliberately not parsed into a Date: that would move it into the reader's time zone.
 */
export function localClock(localDateTime: string): string {
  const match = /T(\d{2}):(\d{2})/.exec(localDateTime);
  return match ? `${match[1]}:${match[2]}` : localDateTime;
}

/** Days between two local date-times' calendar dates: an arrival "the next day" is 1. */
export function dayOffset(departureLocal: string, arrivalLocal: string): number {
  const day = (text: string) => Date.UTC(+text.slice(0, 4), +text.slice(5, 7) - 1, +text.slice(8, 10));
  return Math.round((day(arrivalLocal) - day(departureLocal)) / 86_400_000);
}

/** "2026-12-31" → "Thu, 31 Dec 2026" (a calendar date: no time zone moves it). */
export function formatDate(isoDate: string, locale?: string): string {
  const [year, month, day] = isoDate.split("-").map(Number);
  if (!year || !month || !day) return isoDate;
  return new Intl.DateTimeFormat(locale ?? "en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  }).format(new Date(Date.UTC(year, month - 1, day)));
}

/** "2027-01-16" → "Sat 16 Jan": a day of a short window, where the year goes without saying. */
export function formatDay(isoDate: string, locale?: string): string {
  const [year, month, day] = isoDate.split("-").map(Number);
  if (!year || !month || !day) return isoDate;
  return new Intl.DateTimeFormat(locale ?? "en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

/** A moment ("2026-12-01T08:43:10Z") in the reader's own time zone: "1 Dec, 08:43" (":10" with seconds). */
export function formatMoment(iso: string, options: { seconds?: boolean; locale?: string; timeZone?: string } = {}): string {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return new Intl.DateTimeFormat(options.locale ?? "en-GB", {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    ...(options.seconds ? { second: "2-digit" } : {}),
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  }).format(moment);
}

/** Whether a list of moments needs seconds to tell its neighbours apart (prices checked a minute apart). */
export function needsSeconds(isoMoments: string[]): boolean {
  const minutes = isoMoments.map((iso) => Math.floor(new Date(iso).getTime() / 60_000));
  return new Set(minutes).size < minutes.length;
}

/** A chart axis tick (epoch seconds): the time of day when the ticks span under two days, else the date. */
export function formatTick(epochSeconds: number, spanSeconds: number, options: { locale?: string; timeZone?: string } = {}): string {
  const format: Intl.DateTimeFormatOptions =
    spanSeconds < 2 * 86_400 ? { hour: "2-digit", minute: "2-digit" } : { day: "numeric", month: "short" };
  return new Intl.DateTimeFormat(options.locale ?? "en-GB", {
    ...format,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  }).format(new Date(epochSeconds * 1000));
}

/** How long ago a moment was: "just now", "4 minutes ago", "3 hours ago", "2 days ago". */
export function formatAge(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return "at an unknown time";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 45) return "just now";
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86_400],
    ["hour", 3_600],
    ["minute", 60],
  ];
  const format = new Intl.RelativeTimeFormat("en", { numeric: "always" });
  for (const [unit, size] of units) {
    if (seconds >= size) return format.format(-Math.round(seconds / size), unit);
  }
  return format.format(-1, "minute");
}

export function routeLabel(origin: string, destination: string): string {
  return `${origin} → ${destination}`;
}

export function travellersLabel(adults: number): string {
  return adults === 1 ? "1 traveller" : `${adults} travellers`;
}

/** Today's date where the reader is, "YYYY-MM-DD" (the API judges dates in the origin's zone). */
export function todayIso(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export function addDays(isoDate: string, days: number): string {
  const [year, month, day] = isoDate.split("-").map(Number);
  const moved = new Date(Date.UTC(year ?? 1970, (month ?? 1) - 1, (day ?? 1) + days));
  return moved.toISOString().slice(0, 10);
}

/** "250", "249.9", "249.99" → the API's two-decimal form; anything else → null. */
export function normalizePrice(text: string): string | null {
  const trimmed = text.trim().replace(/^[$€£]/, "");
  if (!/^\d{1,8}(\.\d{1,2})?$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return value > 0 ? value.toFixed(2) : null;
}
