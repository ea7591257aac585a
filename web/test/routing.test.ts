/// <reference types="node" />
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextPage } from "../src/account/next";
import { appUrl, pageScope, routePattern } from "../src/config";
import { searchFromQuery, searchUrl } from "../src/search/query";

describe("the app's paths on an origin whose root may be a stage", () => {
  it("puts the stage first on API Gateway's own domain and nothing first elsewhere", () => {
    assert.equal(appUrl("/", ""), "/");
    assert.equal(appUrl("/", "/dev"), "/dev/");
    assert.equal(appUrl("/flights/price", "/dev"), "/dev/flights/price");
    assert.equal(routePattern("/", "/dev"), "/dev");
    assert.equal(routePattern("/trackers/:id", "/dev"), "/dev/trackers/:id");
  });

  it("routes page links in the browser and leaves every other link to a page load", () => {
    const scope = pageScope("/dev");
    for (const href of ["/dev/", "/dev/?from=JFK", "/dev/trackers", "/dev/trackers/trk_1", "/dev/inbox", "/dev/sign-in?next=x"]) {
      assert.ok(scope.test(href), href);
    }
    for (const href of ["/dev/docs", "/dev/openapi.json", "/dev/trackersx", "/inbox", "/dev/assets/main.js"]) {
      assert.ok(!scope.test(href), href);
    }
  });
});

describe("after signing in", () => {
  it("goes back to the page that asked, if it is one of ours", () => {
    assert.equal(nextPage({ next: "/?from=JFK&to=LAX" }), "/?from=JFK&to=LAX");
    assert.equal(nextPage({ next: "//evil.example/" }), "/trackers");
    assert.equal(nextPage({ next: "https://evil.example/" }), "/trackers");
    assert.equal(nextPage({ next: "/\\evil.example" }), "/trackers");
    assert.equal(nextPage({}), "/trackers");
  });
});

describe("a search as a URL", () => {
  it("reads back what it wrote", () => {
    const search = {
      origin: "NYC",
      destination: "LAX",
      date: "2027-01-10",
      returnDate: "2027-01-17",
      adults: 2,
      cabin: "business" as const,
      maxStops: 0,
      sort: "duration" as const,
    };
    const url = new URL(searchUrl(search), "http://localhost");

    assert.deepEqual(searchFromQuery(Object.fromEntries(url.searchParams)), search);
  });

  it("keeps the defaults (one way, economy, any stops) out of the URL", () => {
    const search = { origin: "NYC", destination: "LAX", date: "2027-01-10", returnDate: null, adults: 1, cabin: "economy" as const, maxStops: null, sort: "price" as const };

    assert.equal(searchUrl(search), "/?from=NYC&to=LAX&date=2027-01-10&adults=1");
    assert.deepEqual(searchFromQuery({ from: "NYC", to: "LAX", date: "2027-01-10", nonstop: "1" })?.maxStops, 0);
  });

  it("is no search until it names both places and a date", () => {
    assert.equal(searchFromQuery({ from: "JFK", date: "2027-01-10" }), null);
  });
});
