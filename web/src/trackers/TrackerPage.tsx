/** One tracked flight: its facts, the price chart, its alerts and the table of every observation. */
import { useLocation, useRoute } from "preact-iso/router";
import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { Alert, Tracker } from "../api";
import { Loading, PageHeading, ProblemBanner } from "../components";
import { appUrl } from "../config";
import { formatDay, formatMoment, formatMoney, needsSeconds, travellersLabel } from "../format";
import { InsightNote, typicalRange } from "../insight";
import { problemsOf, type FormProblems } from "../problems";
import { session } from "../session";
import { alertSentence, epochSeconds, trackerTitle } from "./describe";
import type { ChartProps } from "./PriceChart";
import { CheapestInWindow, FlexWindowTable } from "./FlexWindow";
import { TrackerActions } from "./TrackerSettings";
import { TrackerFacts } from "./TrackersPage";

const ALERT_PAGES = 5;

type Chart = FunctionComponent<ChartProps>;
let loadedChart: Chart | null = null;

/** uPlot is only needed here: its chunk loads with the first tracker page, not with the search. */
function useChart(): { Chart: Chart | null; failed: boolean; retry: () => void } {
  const [Chart, setChart] = useState<Chart | null>(() => loadedChart);
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (Chart) return;
    let current = true;
    setFailed(false);
    import("./PriceChart")
      .then((module) => {
        loadedChart = module.PriceChart;
        if (current) setChart(() => module.PriceChart);
      })
      .catch(() => current && setFailed(true));
    return () => {
      current = false;
    };
  }, [attempt]);
  return { Chart, failed, retry: () => setAttempt((n) => n + 1) };
}

/** This tracker's alerts, newest first (the API lists all of a user's alerts; it has no per-tracker filter). */
async function alertsOf(trackerId: string): Promise<Alert[]> {
  const found: Alert[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < ALERT_PAGES; page++) {
    const answer = await session.call<Alert[]>("GET", "/alerts", { query: { limit: 100, cursor } });
    found.push(...answer.data.filter((alert) => alert.tracked_flight_id === trackerId));
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return found;
}

export function TrackerPage() {
  const { params } = useRoute();
  const location = useLocation();
  const id = params.id ?? "";
  const [tracker, setTracker] = useState<Tracker | null>(null);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [problems, setProblems] = useState<FormProblems | null>(null);
  const [attempt, setAttempt] = useState(0);
  const chart = useChart();

  useEffect(() => {
    let current = true;
    setProblems(null);
    Promise.all([session.call<Tracker>("GET", `/tracked-flights/${encodeURIComponent(id)}`), alertsOf(id)])
      .then(([answer, found]) => {
        if (!current) return;
        setTracker(answer.data);
        setAlerts(found);
      })
      .catch((error) => current && setProblems(problemsOf(error, { fields: {} })));
    return () => {
      current = false;
    };
  }, [id, attempt]);

  if (problems) {
    return (
      <>
        <PageHeading title="Tracked flight">Tracked flight</PageHeading>
        <ProblemBanner message={problems.general} onRetry={problems.retryable ? () => setAttempt((n) => n + 1) : undefined} />
        <p>
          <a href={appUrl("/trackers")}>All tracked flights</a>
        </p>
      </>
    );
  }
  if (!tracker) return <Loading label="Loading the tracked flight…" />;

  const title = trackerTitle(tracker);
  const observations = [...(tracker.history ?? [])].sort((a, b) => a.observed_at.localeCompare(b.observed_at));
  const chartObservations = observations.map((row) => ({ at: epochSeconds(row.observed_at), price: Number(row.price) }));
  const chartAlerts = alerts.map((alert) => ({ at: epochSeconds(alert.observed_at), price: Number(alert.price) }));
  const target = tracker.target_price ? Number(tracker.target_price) : null;
  const insight = tracker.insight;
  const typicalRange =
    insight && insight.typical_low !== null && insight.typical_high !== null
      ? { low: Number(insight.typical_low), high: Number(insight.typical_high) }
      : null;
  const seconds = needsSeconds(observations.map((row) => row.observed_at));

  return (
    <>
      <p class="breadcrumb">
        <a href={appUrl("/trackers")}>Tracked flights</a>
      </p>
      <PageHeading title={title}>{title}</PageHeading>
      <p class="muted">{travellersLabel(tracker.adults)} · prices in {tracker.currency}</p>
      <TrackerFacts tracker={tracker} />
      <CheapestInWindow tracker={tracker} />
      <InsightNote insight={insight} currency={tracker.currency} />
      <FlexWindowTable tracker={tracker} />

      <section aria-labelledby="history-heading">
        <h2 id="history-heading">Price history</h2>
        {tracker.flex_days ? (
          <p class="muted">
            The chart and the observations follow your date, {formatDay(tracker.departure_date)}; the alerts follow the cheapest
            date of your window.
          </p>
        ) : null}
        {chartObservations.length === 0 && <p>No prices recorded yet: the first check is on its way.</p>}
        {chartObservations.length > 0 && chart.Chart && (
          <chart.Chart
            observations={chartObservations}
            alerts={chartAlerts}
            target={target}
            typicalRange={typicalRange}
            currency={tracker.currency}
            summary={chartSummary(tracker, observations.length, alerts.length)}
          />
        )}
        {chartObservations.length > 0 && !chart.Chart && !chart.failed && <Loading label="Drawing the chart…" />}
        <ProblemBanner
          message={chart.failed ? "The chart could not be loaded; the table below has every price." : null}
          onRetry={chart.retry}
        />
      </section>

      <section aria-labelledby="settings-heading">
        <h2 id="settings-heading">Alerts for this flight</h2>
        {alerts.length > 0 ? (
          <ul class="tracker-alerts">
            {alerts.map((alert) => (
              <li key={alert.id}>
                <time dateTime={alert.observed_at}>{formatMoment(alert.observed_at)}</time>: {alertSentence(alert)}
                {!alert.acked && <span class="badge">Unread</span>}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted">No alerts yet.</p>
        )}
        <TrackerActions tracker={tracker} onChanged={setTracker} onDeleted={() => location.route(appUrl("/trackers"))} />
      </section>

      <section aria-labelledby="observations-heading">
        <h2 id="observations-heading">Observations</h2>
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">Every price Farewatch recorded for this flight, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Checked</th>
                <th scope="col" class="number">Price</th>
                <th scope="col" class="number">Change</th>
              </tr>
            </thead>
            <tbody>
              {[...observations].reverse().map((row, index, newestFirst) => {
                const before = newestFirst[index + 1];
                const change = before ? Number(row.price) - Number(before.price) : null;
                return (
                  <tr key={row.observed_at}>
                    <td>
                      <time dateTime={row.observed_at}>{formatMoment(row.observed_at, { seconds })}</time>
                    </td>
                    <td class="number">{formatMoney(row.price, row.currency)}</td>
                    <td class="number">{changeLabel(change, row.currency)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}

function changeLabel(change: number | null, currency: string): string {
  if (change === null) return "first price";
  if (Math.abs(change) < 0.005) return "no change";
  return change < 0 ? `down ${formatMoney(-change, currency)}` : `up ${formatMoney(change, currency)}`;
}

function chartSummary(tracker: Tracker, observations: number, alerts: number): string {
  const parts = [`Price history chart: ${observations} ${observations === 1 ? "price" : "prices"} recorded`];
  if (tracker.lowest_price) parts.push(`lowest ${formatMoney(tracker.lowest_price, tracker.currency)}`);
  if (tracker.current_price) parts.push(`now ${formatMoney(tracker.current_price, tracker.currency)}`);
  if (tracker.target_price) parts.push(`target ${formatMoney(tracker.target_price, tracker.currency)}`);
  const insight = tracker.insight;
  if (insight && insight.typical_low !== null && insight.typical_high !== null) {
    parts.push(`typical range ${typicalRange(insight, tracker.currency)} shaded`);
  }
  parts.push(alerts === 1 ? "1 alert" : `${alerts} alerts`);
  return `${parts.join(", ")}. The table below lists every price.`;
}
