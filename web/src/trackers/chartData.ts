/** The columns the price chart draws, apart from uPlot so that they can be tested without a DOM. */
import type uPlot from "uplot";

export interface ChartPoint {
  /** epoch seconds */
  at: number;
  price: number;
}

/** The aligned columns uPlot draws: x, price, alert markers (null where a series has no value). The target
 *  is no series: it is drawn across the whole plot, wherever the prices start and end. */
export function chartData({ observations, alerts }: { observations: ChartPoint[]; alerts: ChartPoint[] }): uPlot.AlignedData {
  const times = [...new Set([...observations, ...alerts].map((point) => point.at))].sort((a, b) => a - b);
  const priceAt = new Map(observations.map((point) => [point.at, point.price]));
  const alertAt = new Map(alerts.map((point) => [point.at, point.price]));
  return [
    times,
    times.map((at) => priceAt.get(at) ?? null),
    times.map((at) => alertAt.get(at) ?? null),
  ];
}

