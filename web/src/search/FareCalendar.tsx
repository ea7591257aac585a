/**
 * The 14-day fare calendar strip above a search's results (GET /flights/calendar): the cheapest fare of
 * each departure day around the one searched, the lowest marked; each day is a link to its search (a
 * round trip keeps its length of stay). Days the calendar could not price yet say so.
 */
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import { formatMoney, parseMoney, todayIso, addDays } from "../format";
import { searchUrl, type FareSearch } from "./query";

export const CALENDAR_DAYS = 14;
const DAYS_BEFORE = 3;

interface CalendarDay {
  departure_date: string;
  return_date?: string;
  status: "ok" | "no_offers" | "not_fetched" | "failed" | string;
  price: string | null;
}

interface FareCalendar {
  days: CalendarDay[];
  cheapest: { departure_date: string; price: string } | null;
}

/** The window: a few days before the searched one (never before today), 14 days in all. */
export function calendarWindow(date: string, today: string = todayIso()): { from: string; to: string } {
  const start = addDays(date, -DAYS_BEFORE);
  const from = start < today ? today : start;
  return { from, to: addDays(from, CALENDAR_DAYS - 1) };
}

function nights(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

export function FareCalendarStrip({ search }: { search: FareSearch }) {
  const [calendar, setCalendar] = useState<FareCalendar | null>(null);
  const [failed, setFailed] = useState(false);
  const stay = search.returnDate ? nights(search.date, search.returnDate) : null;
  const key = searchUrl({ ...search, sort: "price" });

  useEffect(() => {
    let current = true;
    setCalendar(null);
    setFailed(false);
    const { from, to } = calendarWindow(search.date);
    const ask = () =>
      call<FareCalendar>("GET", "/flights/calendar", {
        query: {
          origin: search.origin,
          destination: search.destination,
          from,
          to,
          stay_days: stay ?? undefined,
          cabin: search.cabin !== "economy" ? search.cabin : undefined,
          adults: search.adults,
        },
      });
    (async () => {
      let { data } = await ask();
      if (current) setCalendar(data);
      // Each answer fetches a bounded number of cold days; the API says to ask again for the rest.
      if (current && data.days.some((day) => day.status === "not_fetched")) {
        ({ data } = await ask());
        if (current) setCalendar(data);
      }
    })().catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [key]);

  return (
    <section class="calendar card" aria-labelledby="calendar-heading">
      <h2 id="calendar-heading">Fares by departure day</h2>
      {!calendar && !failed && (
        <p class="muted" role="status">
          Looking up the days around it…
        </p>
      )}
      {failed && <p class="muted">The fare calendar isn't available right now.</p>}
      {calendar && (
        <ol class="calendar-days" aria-label="Fare calendar">
          {calendar.days.map((day) => {
            const selected = day.departure_date === search.date;
            const lowest = calendar.cheapest?.departure_date === day.departure_date;
            const price = day.price ? parseMoney(day.price) : null;
            const href = searchUrl({ ...search, date: day.departure_date, returnDate: day.return_date ?? null });
            const when = new Date(`${day.departure_date}T12:00:00Z`);
            const weekday = when.toLocaleDateString(undefined, { weekday: "short", timeZone: "UTC" });
            const date = when.toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
            return (
              <li key={day.departure_date} class={`calendar-day${selected ? " selected" : ""}${lowest ? " lowest" : ""}`}>
                <a href={href} aria-current={selected ? "date" : undefined}>
                  <span class="calendar-date">
                    {weekday} {date}
                  </span>
                  <span class="calendar-price">{price ? formatMoney(price.amount, price.currency) : dayStatus(day.status)}</span>
                  {lowest && <span class="calendar-flag">Lowest</span>}
                </a>
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}

function dayStatus(status: string): string {
  if (status === "no_offers") return "No flights";
  if (status === "failed") return "Unavailable";
  return "Not checked yet";
}
