/**
 * A tracker's price history as a uPlot line chart: the observed prices, the target as a dashed
 * horizontal line, each alert as a marker at its price and time, and (when the API sends an insight)
 * the typical range shaded. The canvas is a picture to a screen reader (role="img" with a summary);
 * the observations table beside it carries the numbers.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatMoney, formatTick } from "../format";
import { chartData, type ChartPoint } from "./chartData";

export type { ChartPoint };

export interface ChartProps {
  observations: ChartPoint[];
  alerts: ChartPoint[];
  target: number | null;
  typicalRange: { low: number; high: number } | null;
  currency: string;
  summary: string;
}

export const CHART_COLOURS = {
  price: "#0b4f8a",
  target: "#a35200",
  alert: "#b3261e",
  band: "rgba(46, 125, 50, 0.14)",
  axis: "#3d4752",
  grid: "#dde3ea",
};

const HEIGHT = 280;
const MIN_SPAN_SECONDS = 3600;

export function PriceChart(props: ChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const chart = new uPlot(chartOptions(props, element.clientWidth || 600), chartData(props), element);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: element.clientWidth || 600, height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Options (target, range, currency) are built in: a change of those draws a new chart.
  }, [props.target, props.typicalRange?.low, props.typicalRange?.high, props.currency]);

  useEffect(() => {
    plot.current?.setData(chartData(props));
  }, [props.observations, props.alerts]);

  return (
    <figure class="chart">
      <div ref={container} class="chart-canvas" role="img" aria-label={props.summary} />
      <figcaption class="chart-key">
        <span class="key key-price">Price</span>
        {props.target !== null && <span class="key key-target">Your target</span>}
        {props.alerts.length > 0 && <span class="key key-alert">Alert sent</span>}
        {props.typicalRange && <span class="key key-band">Typical range</span>}
      </figcaption>
    </figure>
  );
}

function chartOptions(props: ChartProps, width: number): uPlot.Options {
  const money = (value: number) => formatMoney(value, props.currency);
  const wholeMoney = (value: number) =>
    new Intl.NumberFormat(undefined, { style: "currency", currency: props.currency, maximumFractionDigits: 0 }).format(value);
  return {
    width,
    height: HEIGHT,
    legend: { show: false }, // the figcaption is the key; the table has the values
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: {
        time: true,
        // At least an hour across: prices checked seconds apart still read as points in time.
        range: (_self, min, max) => {
          const pad = Math.max(0, MIN_SPAN_SECONDS - (max - min)) / 2;
          return [min - pad, max + pad];
        },
      },
      y: {
        range: (_self, min, max) => {
          const values = [min, max, props.target, props.typicalRange?.low, props.typicalRange?.high].filter(
            (value): value is number => typeof value === "number" && Number.isFinite(value),
          );
          const low = Math.min(...values);
          const high = Math.max(...values);
          const pad = Math.max((high - low) * 0.15, high * 0.05, 1);
          return [Math.max(0, low - pad), high + pad];
        },
      },
    },
    axes: [
      {
        stroke: CHART_COLOURS.axis,
        grid: { stroke: CHART_COLOURS.grid, width: 1 },
        ticks: { stroke: CHART_COLOURS.grid },
        space: 70,
        values: (_self, ticks) => {
          const span = ticks.length > 1 ? ticks[ticks.length - 1]! - ticks[0]! : 0;
          return ticks.map((tick) => formatTick(tick, span));
        },
      },
      {
        stroke: CHART_COLOURS.axis,
        grid: { stroke: CHART_COLOURS.grid, width: 1 },
        ticks: { stroke: CHART_COLOURS.grid },
        size: 70,
        values: (_self, ticks) => ticks.map(wholeMoney),
      },
    ],
    series: [
      {},
      {
        label: "Price",
        stroke: CHART_COLOURS.price,
        width: 2.5,
        spanGaps: true,
        points: { show: true, size: 7, fill: CHART_COLOURS.price },
      },
      {
        label: "Alert",
        stroke: CHART_COLOURS.alert,
        paths: () => null,
        points: { show: true, size: 14, width: 3, stroke: "#ffffff", fill: CHART_COLOURS.alert },
      },
    ],
    hooks: {
      drawClear: [(self) => drawTypicalRange(self, props.typicalRange)],
      // The target's line under the prices, its label over them.
      drawAxes: [(self) => drawTargetLine(self, props.target)],
      draw: [(self) => drawTargetLabel(self, props.target, money)],
    },
  };
}

function drawTypicalRange(self: uPlot, range: ChartProps["typicalRange"]): void {
  if (!range) return;
  const { ctx, bbox } = self;
  const top = self.valToPos(range.high, "y", true);
  const bottom = self.valToPos(range.low, "y", true);
  ctx.save();
  ctx.fillStyle = CHART_COLOURS.band;
  ctx.fillRect(bbox.left, Math.min(top, bottom), bbox.width, Math.abs(bottom - top));
  ctx.restore();
}

function drawTargetLine(self: uPlot, target: number | null): void {
  if (target === null) return;
  const { ctx, bbox } = self;
  const y = Math.round(self.valToPos(target, "y", true));
  const pixel = uPlot.pxRatio;
  ctx.save();
  ctx.strokeStyle = CHART_COLOURS.target;
  ctx.lineWidth = 2 * pixel;
  ctx.setLineDash([8 * pixel, 6 * pixel]);
  ctx.beginPath();
  ctx.moveTo(bbox.left, y);
  ctx.lineTo(bbox.left + bbox.width, y);
  ctx.stroke();
  ctx.restore();
}

function drawTargetLabel(self: uPlot, target: number | null, money: (value: number) => string): void {
  if (target === null) return;
  const { ctx, bbox } = self;
  const y = Math.round(self.valToPos(target, "y", true));
  const pixel = uPlot.pxRatio;
  const label = `Target ${money(target)}`;
  ctx.save();
  ctx.font = `600 ${12 * pixel}px system-ui, sans-serif`;
  const right = bbox.left + bbox.width - 4 * pixel;
  const width = ctx.measureText(label).width;
  // On a white plate: readable wherever the price line crosses it.
  ctx.fillStyle = "rgba(255, 255, 255, 0.92)";
  ctx.fillRect(right - width - 4 * pixel, y - 21 * pixel, width + 8 * pixel, 17 * pixel);
  ctx.fillStyle = CHART_COLOURS.target;
  ctx.textAlign = "right";
  ctx.textBaseline = "bottom";
  ctx.fillText(label, right, y - 6 * pixel);
  ctx.restore();
}
