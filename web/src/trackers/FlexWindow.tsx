/** A flexible tracker's window: which date is cheapest, and every date's latest price in a table. */
import type { Tracker } from "../api";
import { formatAge, formatDay, formatMoney } from "../format";
import { cheapestInWindow } from "./describe";

/** The sentence under a flexible tracker's facts (the list and the tracker page); nothing for one date. */
export function CheapestInWindow({ tracker }: { tracker: Tracker }) {
  const sentence = cheapestInWindow(tracker);
  return sentence ? <p class="window-best">{sentence}</p> : null;
}

export function FlexWindowTable({ tracker }: { tracker: Tracker }) {
  const days = tracker.window ?? [];
  if (!tracker.flex_days || days.length === 0) return null;
  const roundTrip = days.some((day) => day.return_date);
  const span = tracker.flex_days === 1 ? "1 day" : `${tracker.flex_days} days`;
  return (
    <section aria-labelledby="window-heading">
      <h2 id="window-heading">Your flexible dates</h2>
      <p class="muted">
        Departures {span} either side of {formatDay(tracker.departure_date)}, each with its latest price. Alerts follow the cheapest.
      </p>
      <div class="table-scroll">
        <table class="window">
          <caption class="visually-hidden">The latest price on each departure date of your window</caption>
          <thead>
            <tr>
              <th scope="col">Departure</th>
              {roundTrip && <th scope="col">Return</th>}
              <th scope="col" class="number">Price</th>
              <th scope="col">Checked</th>
            </tr>
          </thead>
          <tbody>
            {days.map((day) => {
              const best = day.departure_date === tracker.best_date && day.price !== null;
              return (
                <tr key={day.departure_date} class={best ? "best" : undefined}>
                  <th scope="row">
                    <time dateTime={day.departure_date}>{formatDay(day.departure_date)}</time>
                    {day.departure_date === tracker.departure_date && <span class="muted"> (your date)</span>}
                    {best && <span class="badge">Cheapest</span>}
                  </th>
                  {roundTrip && <td>{day.return_date ? formatDay(day.return_date) : "—"}</td>}
                  <td class="number">{day.price === null ? "Not priced yet" : formatMoney(day.price, tracker.currency)}</td>
                  <td>{day.checked_at ? formatAge(day.checked_at) : "Not checked yet"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
