/// <reference types="node" />
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiError } from "../src/api";
import { issueSentence, problemsOf } from "../src/problems";

const SEARCH = {
  fields: { origin: ["from", "From"], destination: ["to", "To"], date: ["date", "Date"] } as Record<string, [string, string]>,
};

describe("an error envelope as sentences next to its fields", () => {
  it("puts each detail under the field it names", () => {
    const error = new ApiError(400, "unknown_location", "destination: XXX is not known; date: in the past", [
      { field: "destination", issue: "XXX is not a known airport or city code" },
      { field: "date", issue: "2020-01-01 is in the past: today is 2026-12-01 at JFK" },
    ]);

    const problems = problemsOf(error, SEARCH);

    assert.deepEqual(problems.fields, {
      to: "XXX is not a known airport or city code.",
      date: "2020-01-01 is in the past: today is 2026-12-01 at JFK.",
    });
    assert.equal(problems.general, null);
  });

  it("reads issues that continue a field's name as one sentence", () => {
    assert.equal(issueSentence("To", "must differ from origin"), "To must differ from origin.");
    assert.equal(issueSentence("Target price", "Input should be a valid decimal"), "Target price should be a valid decimal.");
    assert.equal(issueSentence("Password", "Field required"), "Password is required.");
  });

  it("gives a code without details to the field it concerns", () => {
    const error = new ApiError(409, "email_taken", "An account with this email already exists.");

    const problems = problemsOf(error, { fields: {}, codes: { email_taken: "email" } });

    assert.deepEqual(problems.fields, { email: "An account with this email already exists." });
  });

  it("says what belongs to no field above the form, with the wait a 429 asks for", () => {
    const error = new ApiError(429, "too_many_login_attempts", "Too many failed logins for this email.", [], 600);

    const problems = problemsOf(error, { fields: {} });

    assert.equal(problems.general, "Too many failed logins for this email. Try again in 10 minutes.");
    assert.equal(problems.retryable, true);
  });

  it("offers a retry for upstream and network failures only", () => {
    assert.equal(problemsOf(new ApiError(503, "upstream_unavailable", "The fare source is unavailable."), SEARCH).retryable, true);
    assert.equal(problemsOf(new ApiError(0, "network_error", "Farewatch can't be reached."), SEARCH).retryable, true);
    assert.equal(problemsOf(new ApiError(400, "invalid_date", "No."), SEARCH).retryable, false);
  });
});

describe("the fare source failing", () => {
  it("is said in a traveller's words, not the upstream's", () => {
    const error = new ApiError(502, "upstream_error", "The Amadeus flight search failed upstream (HTTP 500).");

    const problems = problemsOf(error, SEARCH);

    assert.equal(problems.general, "The fare service isn't answering right now, and Farewatch has no recent price for this trip. Try again in a moment.");
    assert.equal(problems.retryable, true);
  });
});
