/** A fare search as a URL: what the search form writes and the results read. */
import { appUrl } from "../config";

export const CABINS = ["economy", "premium_economy", "business", "first"] as const;
export type Cabin = (typeof CABINS)[number];
export const MAX_STOPS = 2;

/** One search, as the URL and the API say it. Defaults (one way, economy, any stops) stay out of the URL. */
export interface FareSearch {
  origin: string;
  destination: string;
  date: string;
  /** A round trip's return date; null: one way. */
  returnDate: string | null;
  adults: number;
  cabin: Cabin;
  /** Stops allowed per direction (0: nonstop); null: any. */
  maxStops: number | null;
  sort: "price" | "duration";
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function searchFromQuery(query: Record<string, string>): FareSearch | null {
  const origin = (query.from ?? "").toUpperCase();
  const destination = (query.to ?? "").toUpperCase();
  const date = query.date ?? "";
  if (!origin || !destination || !date) return null;
  const adults = Number.parseInt(query.adults ?? "1", 10);
  const stops = Number.parseInt(query.stops ?? "", 10);
  const cabin = CABINS.find((one) => one === query.cabin) ?? "economy";
  return {
    origin,
    destination,
    date,
    returnDate: query.return && ISO_DATE.test(query.return) ? query.return : null,
    adults: Number.isFinite(adults) ? adults : 1,
    cabin,
    // "nonstop=1" is what links from before the stops choice say.
    maxStops: stops >= 0 && stops <= MAX_STOPS ? stops : query.nonstop === "1" ? 0 : null,
    sort: query.sort === "duration" ? "duration" : "price",
  };
}

export function searchUrl(search: FareSearch): string {
  const params = new URLSearchParams({
    from: search.origin,
    to: search.destination,
    date: search.date,
    adults: String(search.adults),
  });
  if (search.returnDate) params.set("return", search.returnDate);
  if (search.cabin !== "economy") params.set("cabin", search.cabin);
  if (search.maxStops !== null) params.set("stops", String(search.maxStops));
  if (search.sort !== "price") params.set("sort", search.sort);
  return `${appUrl("/")}?${params}`;
}

/** The API's query parameters of a search (price, offers and calendar share them). */
export function tripQuery(search: FareSearch): Record<string, string | number | undefined> {
  return {
    origin: search.origin,
    destination: search.destination,
    date: search.date,
    adults: search.adults,
    return_date: search.returnDate ?? undefined,
    cabin: search.cabin !== "economy" ? search.cabin : undefined,
    max_stops: search.maxStops ?? undefined,
  };
}

export function cabinLabel(cabin: string): string {
  switch (cabin) {
    case "premium_economy":
      return "Premium economy";
    case "business":
      return "Business";
    case "first":
      return "First";
    default:
      return "Economy";
  }
}

export function stopsChoiceLabel(maxStops: number | null): string {
  if (maxStops === null) return "Any number of stops";
  if (maxStops === 0) return "Nonstop only";
  return maxStops === 1 ? "1 stop at most" : `${maxStops} stops at most`;
}
