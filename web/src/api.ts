/**
 * The Farewatch API as the page uses it: one fetch wrapper that turns every answer into data or an
 * ApiError carrying the error envelope, and the shapes of the answers the pages read.
 */
import { appUrl } from "./config";

export interface ErrorDetail {
  field: string | null;
  issue: string;
}

/** An answer that is not a success: the API's error envelope, or what stood in for one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Trouble a retry may fix: no connection, the fare source or the gateway failing, throttling. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export const NETWORK_ERROR_MESSAGE = "Farewatch can't be reached. Check your connection, then try again.";
const GATEWAY_ERROR_MESSAGE = "Farewatch is having trouble answering right now. Please try again in a moment.";

export interface Envelope<T, M = Record<string, unknown>> {
  data: T;
  meta?: M;
  next_cursor?: string | null;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface CallOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  token?: string | null;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export function queryString(query: Record<string, QueryValue> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** One API call. Resolves with the success envelope; rejects with an ApiError for anything else. */
export async function call<T, M = Record<string, unknown>>(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Envelope<T, M>> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(appUrl(path) + queryString(options.query), {
      method,
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", NETWORK_ERROR_MESSAGE);
  }
  if (response.status === 204) return { data: undefined as T };
  let document: unknown = null;
  try {
    document = await response.json();
  } catch {
    document = null;
  }
  if (response.ok && isObject(document) && "data" in document) return document as unknown as Envelope<T, M>;
  throw errorFrom(response, document);
}

function errorFrom(response: Response, document: unknown): ApiError {
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : null;
  if (isObject(document) && isObject(document.error)) {
    const { code, message, details } = document.error;
    return new ApiError(
      response.status,
      typeof code === "string" ? code : "error",
      typeof message === "string" && message ? message : GATEWAY_ERROR_MESSAGE,
      Array.isArray(details) ? details.filter(isDetail) : [],
      retryAfterSeconds,
    );
  }
  // API Gateway's own answers ({"message": "Internal server error"}) and anything unparseable.
  return new ApiError(response.status || 502, "gateway_error", GATEWAY_ERROR_MESSAGE, [], retryAfterSeconds);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isDetail(value: unknown): value is ErrorDetail {
  return isObject(value) && typeof value.issue === "string" && (value.field === null || typeof value.field === "string" || value.field === undefined);
}

// --- The answers -----------------------------------------------------------------------------

export interface Location {
  code: string;
  kind: "airport" | "city";
  name: string;
  city: string;
  country: string;
  time_zone: string;
  airports: string[];
}

/** Issue 15's price insight; absent until the API sends it. */
export interface PriceInsight {
  level: string;
  /** null while the level is "unknown" (too few comparable observations). */
  typical_low: string | null;
  typical_high: string | null;
  observations: number;
  explanation: string;
}

export interface FareMeta {
  cached: boolean;
  stale: boolean;
  fetched_at: string;
  expires_at: string;
  source: string;
}

/** GET /flights/price's meta: the fare's freshness and how its price compares (issue 15). */
export interface PriceMeta extends FareMeta {
  insight?: PriceInsight;
}

export interface CheapestPrice {
  origin: string;
  destination: string;
  departure_date: string;
  /** "431.00 USD" */
  price: string;
  insight?: PriceInsight;
}

export interface Offer {
  id: string;
  price: string;
  currency: string;
  carrier: string;
  flight_numbers: string[];
  stops: number;
  origin: string;
  destination: string;
  /** Local time at the departure airport, no offset: "2026-12-31T07:50:00". */
  departure_at: string;
  /** Local time at the arrival airport. */
  arrival_at: string;
  duration_minutes: number;
}

export interface SearchMeta extends FareMeta {
  count: number;
  sort: string;
}

export interface TokenPair {
  access_token: string;
  /** null for the web app: its refresh token is an HttpOnly cookie no script can read. */
  refresh_token: string | null;
  token_type: string;
  expires_in: number;
}

export interface User {
  id: string;
  email: string;
  role: string;
  email_verified?: boolean;
  email_alerts?: boolean;
  email_suppressed?: string | null;
}

/** What POST /auth/register answers: the user today (201); `{status}` once verification lands (202). */
export type Registration = User | { status: "verification_sent" };

export interface TrackerObservation {
  observed_at: string;
  price: string;
  currency: string;
}

export interface Tracker {
  id: string;
  origin: string;
  destination: string;
  departure_date: string;
  adults: number;
  currency: string;
  return_date?: string | null;
  cabin?: string;
  max_stops?: number | null;
  /** Days each side of departure_date also watched (issue 15's flexible dates). */
  flex_days?: number;
  /** The departure date whose price is current_price: the cheapest of a flexible window. */
  best_date?: string | null;
  best_return_date?: string | null;
  /** The price on best_date (current_price). */
  best_price?: string | null;
  /** A flexible tracker's dates still to come, each with its latest price (empty for one date). */
  window?: WindowDay[];
  target_price: string | null;
  notify_on_any_drop: boolean;
  current_price: string | null;
  lowest_price: string | null;
  last_checked_at: string | null;
  status: "active" | "expired" | string;
  version: number;
  created_at: string;
  updated_at: string;
  history: TrackerObservation[] | null;
  insight?: PriceInsight;
}

/** One departure date of a flexible tracker's window. */
export interface WindowDay {
  departure_date: string;
  return_date: string | null;
  /** The latest price seen on this date; null: the poller has not priced it yet. */
  price: string | null;
  checked_at: string | null;
}

export interface NewTracker {
  origin: string;
  destination: string;
  departure_date: string;
  adults: number;
  currency?: string;
  return_date?: string;
  cabin?: string;
  max_stops?: number;
  flex_days?: number;
  target_price?: string;
  notify_on_any_drop: boolean;
}

export interface TrackerChange {
  version: number;
  target_price?: string | null;
  notify_on_any_drop?: boolean;
}

export interface Alert {
  id: string;
  tracked_flight_id: string;
  /** "JFK#LAX#2026-12-31#1#USD" */
  route: string;
  kind: "target_reached" | "price_drop" | string;
  /** The trip that raised the alert: for a flexible tracker, the window's cheapest date. */
  departure_date?: string;
  return_date?: string | null;
  /** A flexible tracker's alert: the day of its window whose price raised it (null for one date). */
  best_date?: string | null;
  price: string;
  previous_price: string | null;
  target_price: string | null;
  currency: string;
  observed_at: string;
  created_at: string;
  acked: boolean;
  acked_at: string | null;
  insight?: PriceInsight;
}
