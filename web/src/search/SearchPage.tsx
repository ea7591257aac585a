/**
 * The search page. The URL is the search (`/?from=JFK&to=LAX&date=2026-12-31&adults=1`): the form
 * writes it, the results read it, so a search can be reloaded, shared and gone back to.
 */
import { useLocation } from "preact-iso/router";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, type CheapestPrice, type Offer, type PriceMeta, type SearchMeta } from "../api";
import { describedBy, FieldError, Freshness, Loading, PageHeading, ProblemBanner } from "../components";
import { TextField } from "../forms";
import {
  addDays,
  dayOffset,
  formatDate,
  formatDuration,
  formatMoney,
  localClock,
  parseMoney,
  routeLabel,
  stopsLabel,
  todayIso,
  travellersLabel,
} from "../format";
import { InsightNote } from "../insight";
import { NO_PROBLEMS, problemsOf, type FormProblems, type ProblemMap } from "../problems";
import { AirportField, airportCode, EMPTY_AIRPORT, lookUpCode, locationLabel, type AirportPreset, type AirportValue } from "./AirportField";
import { FareCalendarStrip } from "./FareCalendar";
import { CABINS, cabinLabel, MAX_STOPS, searchFromQuery, searchUrl, stopsChoiceLabel, tripQuery, type Cabin, type FareSearch } from "./query";
import { TrackPanel } from "./TrackPanel";

/** Where each API field's problems are shown on this page's form. */
const SEARCH_PROBLEMS: ProblemMap = {
  fields: {
    origin: ["from", "From"],
    destination: ["to", "To"],
    date: ["date", "Date"],
    adults: ["adults", "Travellers"],
    return_date: ["returnDate", "Return"],
    cabin: ["cabin", "Cabin"],
    max_stops: ["stops", "Stops"],
  },
};

interface Results {
  search: FareSearch;
  cheapest: { price: CheapestPrice; meta: PriceMeta } | null;
  offers: Offer[];
  offersMeta: SearchMeta | undefined;
}

export function SearchPage() {
  const location = useLocation();
  const search = searchFromQuery(location.query);
  const key = search ? searchUrl(search) : "";
  const [results, setResults] = useState<Results | null>(null);
  const [problems, setProblems] = useState<FormProblems>(NO_PROBLEMS);
  const [loading, setLoading] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!search) {
      setResults(null);
      setProblems(NO_PROBLEMS);
      return;
    }
    let current = true;
    setLoading(true);
    setProblems(NO_PROBLEMS);
    runSearch(search)
      .then((found) => current && setResults(found))
      .catch((error) => {
        if (!current) return;
        setResults(null);
        setProblems(problemsOf(error, SEARCH_PROBLEMS));
      })
      .finally(() => current && setLoading(false));
    return () => {
      current = false;
    };
  }, [key, attempt]);

  return (
    <>
      <PageHeading title={search ? `${routeLabel(search.origin, search.destination)} fares` : "Search fares"}>
        Find the cheapest fare
      </PageHeading>
      <SearchForm search={search} problems={problems} onSearch={(next) => location.route(searchUrl(next))} />
      <ProblemBanner
        message={problems.general}
        onRetry={problems.retryable ? () => setAttempt((n) => n + 1) : undefined}
      />
      {loading && <Loading label="Looking for fares…" />}
      {!loading && results && (
        <SearchResults
          results={results}
          onSort={(sort) => location.route(searchUrl({ ...results.search, sort }), true)}
        />
      )}
    </>
  );
}

async function runSearch(search: FareSearch): Promise<Results> {
  const query = tripQuery(search);
  // Both answers come from one cache entry: at most one upstream search between them.
  const [cheapest, offers] = await Promise.all([
    call<CheapestPrice, PriceMeta>("GET", "/flights/price", { query }).catch((error) => {
      if (error instanceof ApiError && error.code === "no_offers") return null;
      throw error;
    }),
    call<Offer[], SearchMeta>("GET", "/flights/search", {
      query: { ...query, sort: search.sort, limit: 20 },
    }),
  ]);
  return {
    search,
    cheapest: cheapest ? { price: cheapest.data, meta: cheapest.meta as PriceMeta } : null,
    offers: offers.data,
    offersMeta: offers.meta,
  };
}

function SearchForm({
  search,
  problems,
  onSearch,
}: {
  search: FareSearch | null;
  problems: FormProblems;
  onSearch: (search: FareSearch) => void;
}) {
  const today = todayIso();
  const origin = useRef<AirportValue>(EMPTY_AIRPORT);
  const destination = useRef<AirportValue>(EMPTY_AIRPORT);
  const [originPreset, setOriginPreset] = useState<AirportPreset>({ value: EMPTY_AIRPORT, revision: 0 });
  const [destinationPreset, setDestinationPreset] = useState<AirportPreset>({ value: EMPTY_AIRPORT, revision: 0 });
  const [date, setDate] = useState(search?.date ?? addDays(today, 30));
  const [adults, setAdults] = useState(search?.adults ?? 1);
  const [roundTrip, setRoundTrip] = useState(Boolean(search?.returnDate));
  const [returnDate, setReturnDate] = useState(search?.returnDate ?? addDays(search?.date ?? addDays(today, 30), 7));
  const [cabin, setCabin] = useState<Cabin>(search?.cabin ?? "economy");
  const [maxStops, setMaxStops] = useState<number | null>(search?.maxStops ?? null);
  const [checks, setChecks] = useState<Record<string, string>>({});

  // A search opened from a link names codes only: show them, then their names once looked up.
  useEffect(() => {
    if (!search) return;
    setDate(search.date);
    setAdults(search.adults);
    setRoundTrip(Boolean(search.returnDate));
    if (search.returnDate) setReturnDate(search.returnDate);
    setCabin(search.cabin);
    setMaxStops(search.maxStops);
    for (const [code, field, preset] of [
      [search.origin, origin, setOriginPreset],
      [search.destination, destination, setDestinationPreset],
    ] as const) {
      if (airportCode(field.current) === code) continue;
      preset((now) => ({ value: { text: code, location: null }, revision: now.revision + 1 }));
      lookUpCode(code).then((found) => {
        if (found && field.current.text === code) {
          preset((now) => ({ value: { text: locationLabel(found), location: found }, revision: now.revision + 1 }));
        }
      });
    }
  }, [search?.origin, search?.destination, search?.date, search?.returnDate, search?.adults, search?.cabin, search?.maxStops]);

  const errors = { ...problems.fields, ...checks };

  function submit(event: Event) {
    event.preventDefault();
    const from = airportCode(origin.current);
    const to = airportCode(destination.current);
    const found: Record<string, string> = {};
    const pick = "Choose a city or airport from the suggestions, or type its 3-letter code.";
    if (!from) found.from = pick;
    if (!to) found.to = pick;
    if (!date) found.date = "Choose the day you fly out.";
    if (roundTrip && !returnDate) found.returnDate = "Choose the day you fly back.";
    else if (roundTrip && date && returnDate < date) found.returnDate = "The return can't be before the departure.";
    setChecks(found);
    if (Object.keys(found).length || !from || !to) {
      document.getElementById(Object.keys(found)[0] ?? "from")?.focus();
      return;
    }
    onSearch({
      origin: from,
      destination: to,
      date,
      returnDate: roundTrip ? returnDate : null,
      adults,
      cabin,
      maxStops,
      sort: search?.sort ?? "price",
    });
  }

  return (
    <form class="search-form" onSubmit={submit} noValidate aria-label="Search fares">
      <fieldset class="trip-type">
        <legend>Trip</legend>
        <div class="radio-field">
          <input id="one-way" type="radio" name="trip" checked={!roundTrip} onChange={() => setRoundTrip(false)} />
          <label for="one-way">One way</label>
        </div>
        <div class="radio-field">
          <input id="round-trip" type="radio" name="trip" checked={roundTrip} onChange={() => setRoundTrip(true)} />
          <label for="round-trip">Round trip</label>
        </div>
      </fieldset>
      <AirportField id="from" label="From" preset={originPreset} current={origin} onEdit={() => setChecks({})} error={errors.from} />
      <AirportField id="to" label="To" preset={destinationPreset} current={destination} onEdit={() => setChecks({})} error={errors.to} />
      <TextField id="date" label="Date" type="date" value={date} min={today} max={addDays(today, 365)} onValue={setDate} error={errors.date} />
      {roundTrip && (
        <TextField id="returnDate" label="Return" type="date" value={returnDate} min={date || today} max={addDays(today, 365)} onValue={setReturnDate} error={errors.returnDate} />
      )}
      <div class="field">
        <label for="adults">Travellers</label>
        <select id="adults" value={String(adults)} onChange={(event) => setAdults(Number(event.currentTarget.value))} {...describedBy("adults", errors.adults)}>
          {[1, 2, 3, 4, 5, 6, 7, 8, 9].map((count) => (
            <option key={count} value={String(count)}>
              {travellersLabel(count)}
            </option>
          ))}
        </select>
        <FieldError id="adults" message={errors.adults} />
      </div>
      <div class="field">
        <label for="cabin">Cabin</label>
        <select id="cabin" value={cabin} onChange={(event) => setCabin(event.currentTarget.value as Cabin)} {...describedBy("cabin", errors.cabin)}>
          {CABINS.map((one) => (
            <option key={one} value={one}>
              {cabinLabel(one)}
            </option>
          ))}
        </select>
        <FieldError id="cabin" message={errors.cabin} />
      </div>
      <div class="field">
        <label for="stops">Stops</label>
        <select
          id="stops"
          value={maxStops === null ? "any" : String(maxStops)}
          onChange={(event) => setMaxStops(event.currentTarget.value === "any" ? null : Number(event.currentTarget.value))}
          {...describedBy("stops", errors.stops)}
        >
          {[null, ...Array.from({ length: MAX_STOPS + 1 }, (_, n) => n)].map((stops) => (
            <option key={String(stops)} value={stops === null ? "any" : String(stops)}>
              {stopsChoiceLabel(stops)}
            </option>
          ))}
        </select>
        <FieldError id="stops" message={errors.stops} />
      </div>
      <div class="actions">
        <button type="submit" class="button primary">
          Search
        </button>
      </div>
    </form>
  );
}

function SearchResults({ results, onSort }: { results: Results; onSort: (sort: FareSearch["sort"]) => void }) {
  const { search, cheapest, offers } = results;
  const dates = search.returnDate ? `${formatDate(search.date)} – ${formatDate(search.returnDate)}, round trip` : `${formatDate(search.date)}, one way`;
  const trip = [routeLabel(search.origin, search.destination), dates, travellersLabel(search.adults), cabinLabel(search.cabin), ...(search.maxStops !== null ? [stopsChoiceLabel(search.maxStops)] : [])].join(" · ");
  return (
    <div class="results">
      <FareCalendarStrip search={search} />
      <section class="cheapest card" aria-labelledby="cheapest-heading">
        <h2 id="cheapest-heading">Cheapest fare</h2>
        {cheapest ? (
          <>
            <p class="big-price">{formatMoney(parseMoney(cheapest.price.price).amount, parseMoney(cheapest.price.price).currency)}</p>
            <p class="trip">{trip}</p>
            <InsightNote insight={cheapest.meta.insight ?? cheapest.price.insight} currency={parseMoney(cheapest.price.price).currency} />
            <Freshness meta={cheapest.meta} />
            <TrackPanel search={search} />
          </>
        ) : (
          <p role="status">No flights were found for {trip}. Try another date or nearby airports.</p>
        )}
      </section>
      {offers.length > 0 && (
        <section class="offers-section" aria-labelledby="offers-heading">
          <div class="section-head">
            <h2 id="offers-heading">
              {offers.length === 1 ? "1 offer" : `${offers.length} offers`}
              {search.maxStops === 0 ? ", nonstop" : ""}
            </h2>
            <div class="field inline-field">
              <label for="sort">Sort by</label>
              <select id="sort" value={search.sort} onChange={(event) => onSort(event.currentTarget.value as FareSearch["sort"])}>
                <option value="price">Price</option>
                <option value="duration">Duration</option>
              </select>
            </div>
          </div>
          {!cheapest && <Freshness meta={results.offersMeta} />}
          <ol class="offers">
            {offers.map((offer) => (
              <OfferItem key={offer.id} offer={offer} />
            ))}
          </ol>
          <p class="note">Times are local at each airport.</p>
        </section>
      )}
      {offers.length === 0 && cheapest && search.maxStops !== null && (
        <p role="status">No flights with {stopsChoiceLabel(search.maxStops).toLowerCase()} on this day; choose “Any number of stops” to see the others.</p>
      )}
    </div>
  );
}

function OfferItem({ offer }: { offer: Offer }) {
  const days = dayOffset(offer.departure_at, offer.arrival_at);
  return (
    <li class="offer">
      <p class="offer-price">{formatMoney(offer.price, offer.currency)}</p>
      <p class="offer-times">
        <span class="visually-hidden">Departs </span>
        <time dateTime={offer.departure_at}>{localClock(offer.departure_at)}</time> {offer.origin}
        <span aria-hidden="true"> – </span>
        <span class="visually-hidden">, arrives </span>
        <time dateTime={offer.arrival_at}>{localClock(offer.arrival_at)}</time> {offer.destination}
        {days > 0 && (
          <span class="day-offset">
            {" "}
            <span aria-hidden="true">+{days}</span>
            <span class="visually-hidden">{days === 1 ? " the next day" : ` ${days} days later`}</span>
          </span>
        )}
      </p>
      <p class="offer-facts">
        {formatDuration(offer.duration_minutes)} · {stopsLabel(offer.stops)} · {offer.flight_numbers.join(", ")}
        {offer.flight_numbers.some((flight) => !flight.startsWith(offer.carrier)) && ` · sold by ${offer.carrier}`}
      </p>
    </li>
  );
}
