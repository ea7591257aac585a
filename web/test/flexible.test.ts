/// <reference types="node" />
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../src/api";
import { formatDay } from "../src/format";
import { alertSentence, cheapestInWindow } from "../src/trackers/describe";

const alert: Alert = {
  id: "alt_1",
  tracked_flight_id: "trk_1",
  route: "JFK#LAX#2027-01-16#1#USD",
  kind: "price_drop",
  price: "240.00",
  previous_price: "260.00",
  target_price: null,
  currency: "USD",
  observed_at: "2027-01-01T08:00:00Z",
  created_at: "2027-01-01T08:00:01Z",
  acked: false,
  acked_at: null,
};

describe("a flexible tracker names its cheapest date", () => {
  it("writes a window's day without its year", () => {
    assert.equal(formatDay("2027-01-16"), "Sat 16 Jan");
    assert.equal(formatDay("not a date"), "not a date");
  });

  it("says which date of the window is cheapest and its price", () => {
    const tracker = { flex_days: 2, best_date: "2027-01-16", best_price: "240.00", currency: "USD" };
    assert.equal(cheapestInWindow(tracker), "Cheapest in your window: Sat 16 Jan, $240.00");
  });

  it("says nothing for a tracker of one date, and that it is not known before any date is priced", () => {
    assert.equal(cheapestInWindow({ flex_days: 0, best_date: "2027-01-16", best_price: "240.00", currency: "USD" }), null);
    assert.match(cheapestInWindow({ flex_days: 1, best_date: null, best_price: null, currency: "USD" }) ?? "", /not known/);
  });

  it("names the winning date in a flexible alert, and no date in one of a single date", () => {
    assert.equal(
      alertSentence({ ...alert, best_date: "2027-01-16" }),
      "Down to $240.00, from $260.00. The cheapest day of your flexible dates: Sat 16 Jan.",
    );
    assert.equal(alertSentence({ ...alert, best_date: null }), "Down to $240.00, from $260.00.");
  });
});
