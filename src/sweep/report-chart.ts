/**
 * Learning-curve charts of the sweep report as inline SVG, drawn here rather than in the
 * browser so the page needs no script or library to show them: per configuration a shaded
 * band of mean ± std over seeds and the mean as a line, x in environment steps.
 */
import type { ChartData, ConfigurationCurve, CurvePoint } from './report-data.js';

/** Tableau 10: distinct, colour-blind-friendlier categorical colours; configuration i gets i mod 10. */
export const SERIES_COLORS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
] as const;

export function seriesColor(configIndex: number): string {
  return SERIES_COLORS[configIndex % SERIES_COLORS.length]!;
}

const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 40 };
/** Points are marked (with a hover title) only when there are few enough to tell apart. */
const MAX_MARKED_POINTS = 60;

interface Scale {
  (value: number): number;
  ticks: number[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/**
 * Round tick values (1, 2 or 5 times a power of ten), about `count` of them, from the last tick
 * at or below `min` to the first at or above `max`: the axis starts and ends on a tick.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough)!;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(Number((i * step).toPrecision(12)));
  return ticks;
}

function linearScale(domainMin: number, domainMax: number, rangeStart: number, rangeEnd: number): Scale {
  const ticks = niceTicks(domainMin, domainMax);
  const low = ticks[0]!;
  const span = ticks.at(-1)! - low || 1;
  const scale = ((value: number) => rangeStart + ((value - low) / span) * (rangeEnd - rangeStart)) as Scale;
  scale.ticks = ticks;
  return scale;
}

/** 1500 -> 1.5k, 200000 -> 200k: short labels for step ticks. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs === 0) return '0';
  if (abs < 0.01) return value.toExponential(0);
  return String(Number(value.toPrecision(3)));
}

function valueRange(curves: readonly ConfigurationCurve[]): { min: number; max: number } {
  const lows = curves.flatMap((curve) => curve.points.map((point) => point.mean - point.std));
  const highs = curves.flatMap((curve) => curve.points.map((point) => point.mean + point.std));
  const min = Math.min(...lows);
  const max = Math.max(...highs);
  // A flat curve still needs some height.
  return max > min ? { min, max } : { min: min - 1, max: max + 1 };
}

function pathData(points: ReadonlyArray<{ x: number; y: number }>, closed = false): string {
  const commands = points.map((point, i) => `${i === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join('');
  return closed ? `${commands}Z` : commands;
}

function axes(x: Scale, y: Scale, yLabel: string): string {
  const bottom = HEIGHT - MARGIN.bottom;
  const parts = [
    `<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${bottom - MARGIN.top}"/>`,
  ];
  for (const tick of x.ticks) {
    const px = x(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${bottom}"/>`,
      `<text class="tick" x="${px}" y="${bottom + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of y.ticks) {
    const py = y(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${py}" dy="0.32em" text-anchor="end">${formatTick(tick)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 6}" text-anchor="middle">environment steps</text>`,
    `<text class="axis-label" transform="translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`);
  return parts.join('');
}

function pointTitle(curve: ConfigurationCurve, point: CurvePoint): string {
  const spread = point.seeds > 1 ? ` ± ${formatTick(point.std)} (${point.seeds} seeds)` : ' (1 seed)';
  return escapeHtml(`${curve.configName}: step ${point.step}: ${formatTick(point.mean)}${spread}`);
}

function series(curve: ConfigurationCurve, x: Scale, y: Scale): string {
  const color = seriesColor(curve.configIndex);
  const upper = curve.points.map((p) => ({ x: x(p.step), y: y(p.mean + p.std) }));
  const lower = curve.points.map((p) => ({ x: x(p.step), y: y(p.mean - p.std) })).reverse();
  const mean = curve.points.map((p) => ({ x: x(p.step), y: y(p.mean) }));
  const markers = curve.points.length <= MAX_MARKED_POINTS
    ? curve.points.map((p, i) => `<circle class="point" cx="${mean[i]!.x.toFixed(1)}" cy="${mean[i]!.y.toFixed(1)}" r="2.5"><title>${pointTitle(curve, p)}</title></circle>`).join('')
    : '';
  return `<g class="series" data-config="${escapeHtml(curve.configName)}" data-points="${curve.points.length}" style="--series:${color}">`
    + `<title>${escapeHtml(curve.configName)}</title>`
    + `<path class="band" d="${pathData([...upper, ...lower], true)}"/>`
    + `<path class="mean" d="${pathData(mean)}"/>${markers}</g>`;
}

/** One chart as an <svg> element; a note instead when no configuration logged the tag. */
export function renderChart(chart: ChartData): string {
  const curves = chart.curves.filter((curve) => curve.points.length > 0);
  if (curves.length === 0) return `<p class="empty">No run logged ${escapeHtml(chart.tag)}.</p>`;
  const steps = curves.flatMap((curve) => curve.points.map((point) => point.step));
  const { min, max } = valueRange(curves);
  const x = linearScale(Math.min(0, ...steps), Math.max(...steps), MARGIN.left, WIDTH - MARGIN.right);
  const y = linearScale(min, max, HEIGHT - MARGIN.bottom, MARGIN.top);
  return `<svg class="chart" data-tag="${escapeHtml(chart.tag)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}">`
    + axes(x, y, chart.tag)
    + curves.map((curve) => series(curve, x, y)).join('')
    + '</svg>';
}
