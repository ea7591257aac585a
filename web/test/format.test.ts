/// <reference types="node" />
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  addDays,
  dayOffset,
  formatAge,
  formatDate,
  formatDuration,
  formatMoment,
  formatMoney,
  localClock,
  needsSeconds,
  normalizePrice,
  parseMoney,
  stopsLabel,
} from "../src/format";

describe("offers read in the airports' own time", () => {
  it("shows an offer's local wall-clock time without moving it into the reader's zone", () => {
    assert.equal(localClock("2026-12-31T07:50:00"), "07:50");
    assert.equal(localClock("2026-12-31T23:05:00"), "23:05");
  });

  it("marks an arrival on a later calendar day", () => {
    assert.equal(dayOffset("2026-12-31T22:00:00", "2027-01-01T06:10:00"), 1);
    assert.equal(dayOffset("2026-12-31T07:50:00", "2026-12-31T12:05:00"), 0);
    assert.equal(dayOffset("2027-02-27T22:00:00", "2027-03-01T06:10:00"), 2);
  });

  it("writes durations in hours and minutes", () => {
    assert.equal(formatDuration(435), "7 h 15 min");
    assert.equal(formatDuration(420), "7 h");
    assert.equal(formatDuration(55), "55 min");
  });

  it("names the stops", () => {
    assert.deepEqual([0, 1, 2].map(stopsLabel), ["Nonstop", "1 stop", "2 stops"]);
  });
});

describe("dates and moments", () => {
  it("writes a departure date as the calendar date it is, whatever the reader's zone", () => {
    assert.equal(formatDate("2026-12-31"), "Thu, 31 Dec 2026");
  });

  it("adds days across month and year ends", () => {
    assert.equal(addDays("2026-12-31", 1), "2027-01-01");
    assert.equal(addDays("2028-02-28", 1), "2028-02-29");
  });

  it("says how old a price is", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    assert.equal(formatAge("2026-12-01T11:59:30Z", now), "just now");
    assert.equal(formatAge("2026-12-01T11:56:00Z", now), "4 minutes ago");
    assert.equal(formatAge("2026-12-01T09:00:00Z", now), "3 hours ago");
    assert.equal(formatAge("2026-11-29T12:00:00Z", now), "2 days ago");
  });

  it("adds seconds only where two prices were checked in the same minute", () => {
    assert.equal(needsSeconds(["2026-12-01T08:57:10Z", "2026-12-01T08:57:40Z"]), true);
    assert.equal(needsSeconds(["2026-12-01T08:57:10Z", "2026-12-01T09:27:10Z"]), false);
    assert.equal(formatMoment("2026-12-01T08:57:10Z", { seconds: true, timeZone: "UTC" }), "1 Dec, 08:57:10");
    assert.equal(formatMoment("2026-12-01T08:57:10Z", { timeZone: "UTC" }), "1 Dec, 08:57");
  });
});

describe("money", () => {
  it("reads the price answer's 'amount currency' form", () => {
    assert.deepEqual(parseMoney("431.00 USD"), { amount: "431.00", currency: "USD" });
  });

  it("formats amounts in their currency", () => {
    assert.equal(formatMoney("431.00", "USD", "en-US"), "$431.00");
    assert.equal(formatMoney("1234.5", "EUR", "en-GB"), "€1,234.50");
    assert.equal(formatMoney(null, "USD"), "—");
  });

  it("takes a typed target price only in a form the API accepts", () => {
    assert.equal(normalizePrice("250"), "250.00");
    assert.equal(normalizePrice(" $249.9 "), "249.90");
    assert.equal(normalizePrice("249.999"), null);
    assert.equal(normalizePrice("1,250"), null);
    assert.equal(normalizePrice("0"), null);
    assert.equal(normalizePrice("cheap"), null);
  });
});

import { insightSentence } from "../src/insight";

describe("the price insight", () => {
  it("says the level and the typical range in whole dollars", () => {
    const insight = { level: "low", typical_low: "280.40", typical_high: "339.60", observations: 30, explanation: "" };

    assert.equal(insightSentence(insight, "USD", "en-US"), "Low for this route: typical $280–$340.");
  });

  it("says plainly when there is too little history to judge", () => {
    const insight = { level: "unknown", typical_low: null, typical_high: null, observations: 2, explanation: "" };

    assert.equal(insightSentence(insight, "USD", "en-US"), "Not enough history to judge this price yet.");
  });
});

describe("a typical price's insight", () => {
  it("names the range without saying typical twice", () => {
    const insight = { level: "typical", typical_low: "343", typical_high: "433", observations: 14, explanation: "" };

    assert.equal(insightSentence(insight, "USD", "en-US"), "Typical for this route: $343–$433.");
  });
});
