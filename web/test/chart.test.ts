/// <reference types="node" />
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chartData } from "../src/trackers/chartData";

describe("the price chart's data", () => {
  it("lines prices and alert markers up on one time axis, each absent where the other is", () => {
    const data = chartData({
      observations: [
        { at: 100, price: 431 },
        { at: 200, price: 380 },
      ],
      alerts: [{ at: 201, price: 380 }],
    });

    assert.deepEqual(data, [
      [100, 200, 201],
      [431, 380, null],
      [null, null, 380],
    ]);
  });
});
