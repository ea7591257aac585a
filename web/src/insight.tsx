/** Issue 15's price insight ("Low for this route: typical $280–$340."), shown wherever an answer has one. */
import type { PriceInsight } from "./api";
import { formatMoney } from "./format";

/** The typical range in whole units ("$280–$340"): a range reads as a rough figure, not a price to the cent. */
export function typicalRange(insight: Pick<PriceInsight, "typical_low" | "typical_high">, currency: string, locale?: string): string {
  const whole = (amount: string | null) => {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency, maximumFractionDigits: 0, minimumFractionDigits: 0 }).format(Math.round(Number(amount)));
    } catch {
      return formatMoney(amount, currency, locale);
    }
  };
  return `${whole(insight.typical_low)}–${whole(insight.typical_high)}`;
}

export function insightSentence(insight: PriceInsight, currency: string, locale?: string): string {
  if (!["low", "typical", "high"].includes(insight.level) || insight.typical_low === null || insight.typical_high === null) {
    return insightHeadline("unknown");
  }
  const range = typicalRange(insight, currency, locale);
  // "Low for this route: typical $280–$340."; a typical price needs the word once.
  return insight.level === "typical" ? `Typical for this route: ${range}.` : `${insightHeadline(insight.level)}: typical ${range}.`;
}

export function InsightNote({ insight, currency }: { insight: PriceInsight | undefined; currency: string }) {
  if (!insight) return null;
  return (
    <p class={`insight insight-${insight.level}`}>
      <strong>{insightSentence(insight, currency)}</strong> {insight.explanation}
    </p>
  );
}

export function insightHeadline(level: string): string {
  switch (level) {
    case "low":
      return "Low for this route";
    case "high":
      return "High for this route";
    case "typical":
      return "Typical for this route";
    default:
      return "Not enough history to judge this price yet.";
  }
}
