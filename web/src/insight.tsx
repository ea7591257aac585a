/** Issue 15's price insight ("low for this route: typical $280–$340"), shown wherever an answer has one. */
import type { PriceInsight } from "./api";
import { formatMoney } from "./format";

export function InsightNote({ insight, currency }: { insight: PriceInsight | undefined; currency: string }) {
  if (!insight) return null;
  const range = `${formatMoney(insight.typical_low, currency)}–${formatMoney(insight.typical_high, currency)}`;
  return (
    <p class={`insight insight-${insight.level}`}>
      <strong>{insightHeadline(insight.level)}</strong> Typical: {range}. {insight.explanation}
    </p>
  );
}

export function insightHeadline(level: string): string {
  switch (level) {
    case "low":
      return "Low for this route.";
    case "high":
      return "High for this route.";
    case "typical":
      return "Typical for this route.";
    default:
      return "Not enough history to judge this price yet.";
  }
}
