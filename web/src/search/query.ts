/** A fare search as a URL: what the search form writes and the results read. */
import { appUrl } from "../config";

/** One search, as the URL and the API say it. Round two adds return_date, cabin (issue 15) here. */
export interface FareSearch {
  origin: string;
  destination: string;
  date: string;
  adults: number;
  nonstop: boolean;
  sort: "price" | "duration";
}

export function searchFromQuery(query: Record<string, string>): FareSearch | null {
  const origin = (query.from ?? "").toUpperCase();
  const destination = (query.to ?? "").toUpperCase();
  const date = query.date ?? "";
  if (!origin || !destination || !date) return null;
  const adults = Number.parseInt(query.adults ?? "1", 10);
  return {
    origin,
    destination,
    date,
    adults: Number.isFinite(adults) ? adults : 1,
    nonstop: query.nonstop === "1",
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
  if (search.nonstop) params.set("nonstop", "1");
  if (search.sort !== "price") params.set("sort", search.sort);
  return `${appUrl("/")}?${params}`;
}

