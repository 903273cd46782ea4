/**
 * Learning-curve charts of the sweep report as inline SVG, drawn here rather than in the
 * browser so the page needs no script or library to show them: per configuration a shaded
 * band over its seeds and the centre line, x in environment steps, y on a linear, log or
 * symlog axis (see chart-scale.ts); each seed's own curve is drawn too, hidden until asked for.
 */
import { maxOf, minOf } from '../util/extent.js';
import { type ChartScale, fromScale, scaleTicks, toScale, niceTicks } from './chart-scale.js';
import type { ChartData, ConfigurationCurve, CurvePoint, SeedCurve } from './report-data.js';

/** Tableau 10: distinct, colour-blind-friendlier categorical colours; configuration i gets i mod 10. */
export const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'] as const;

export function seriesColor(configIndex: number): string {
  return SERIES_COLORS[configIndex % SERIES_COLORS.length]!;
}

const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 40 };
/** Points are marked (with a hover title) only when there are few enough to tell apart. */
const MAX_MARKED_POINTS = 60;

/** Pixel position of a value: x of a step, or y of a position in the scale's space. */
interface Axis {
  (position: number): number;
  /** Tick positions, in the scale's space. */
  ticks: number[];
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** An axis over tick positions that enclose [low, high]: it starts and ends on a tick. */
function axis(ticks: number[], rangeStart: number, rangeEnd: number): Axis {
  const low = ticks[0]!;
  const span = ticks.at(-1)! - low || 1;
  const position = ((value: number) => rangeStart + ((value - low) / span) * (rangeEnd - rangeStart)) as Axis;
  position.ticks = ticks;
  return position;
}

/** 1500 -> 1.5k, 200000 -> 200k, 3e9 -> 3e+9: short labels for ticks. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return value.toExponential(0);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs === 0) return '0';
  if (abs < 0.01) return value.toExponential(0);
  return String(Number(value.toPrecision(3)));
}

/** The y positions (in the scale's space) the chart must show: every band and centre. */
function positionRange(curves: readonly ConfigurationCurve[], scale: ChartScale): { min: number; max: number } {
  const positions = curves
    .flatMap((curve) => (curve.byScale[scale] ?? []).flatMap((point) => [point.low, point.high, point.center]))
    .filter((value) => scale !== 'log' || value > 0)
    .map((value) => toScale(scale, value))
    .filter(Number.isFinite);
  const min = minOf(positions);
  const max = maxOf(positions);
  // A flat curve still needs some height.
  if (!(max > min)) return scale === 'linear' ? { min: min - 1, max: max + 1 } : { min: min - 0.5, max: max + 0.5 };
  return { min, max };
}

function pathData(points: ReadonlyArray<{ x: number; y: number }>, closed = false): string {
  const commands = points.map((point, i) => `${i === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join('');
  return closed ? `${commands}Z` : commands;
}

function axes(x: Axis, y: Axis, scale: ChartScale, yLabel: string): string {
  const bottom = HEIGHT - MARGIN.bottom;
  const parts = [`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${bottom - MARGIN.top}"/>`];
  for (const tick of x.ticks) {
    const px = x(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${bottom}"/>`, `<text class="tick" x="${px}" y="${bottom + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of y.ticks) {
    const py = y(tick).toFixed(1);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${py}" dy="0.32em" text-anchor="end">${formatTick(fromScale(scale, tick))}</text>`,
    );
  }
  const label = scale === 'linear' ? yLabel : `${yLabel} (${scale})`;
  parts.push(
    `<text class="axis-label" x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 6}" text-anchor="middle">environment steps</text>`,
    `<text class="axis-label" transform="translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text>`,
  );
  return parts.join('');
}

const CENTER_NAMES: Record<ChartScale, string> = { linear: 'mean', log: 'geometric mean', symlog: 'mean on the symlog axis' };

function pointTitle(curve: ConfigurationCurve, point: CurvePoint, centre: string): string {
  const spread = point.seeds > 1 ? ` (${centre} of ${point.seeds} seeds; band ${formatTick(point.low)} to ${formatTick(point.high)})` : ' (1 seed)';
  return escapeHtml(`${curve.configName}: step ${point.step}: ${formatTick(point.center)}${spread}`);
}

/** A seed's curve as a thin line; points the scale cannot show (<= 0 on a log axis) break it. */
function seedPath(seed: SeedCurve, x: Axis, y: Axis, scale: ChartScale): string {
  const runs: Array<Array<{ x: number; y: number }>> = [[]];
  for (const [step, value] of seed.points) {
    if (scale === 'log' && !(value > 0)) {
      if (runs.at(-1)!.length > 0) runs.push([]);
      continue;
    }
    runs.at(-1)!.push({ x: x(step), y: y(toScale(scale, value)) });
  }
  const d = runs
    .filter((run) => run.length > 0)
    .map((run) => pathData(run))
    .join('');
  return d ? `<path class="seed" d="${d}"><title>${escapeHtml(`${seed.trial} (seed ${seed.seed})`)}</title></path>` : '';
}

function series(curve: ConfigurationCurve, x: Axis, y: Axis, scale: ChartScale, centre: string): string {
  const points = (curve.byScale[scale] ?? []).filter((p) => scale !== 'log' || (p.center > 0 && p.low > 0));
  const at = (step: number, value: number): { x: number; y: number } => ({ x: x(step), y: y(toScale(scale, value)) });
  const upper = points.map((p) => at(p.step, p.high));
  const lower = points.map((p) => at(p.step, p.low)).reverse();
  const center = points.map((p) => at(p.step, p.center));
  const markers =
    points.length <= MAX_MARKED_POINTS
      ? points.map((p, i) => `<circle class="point" cx="${center[i]!.x.toFixed(1)}" cy="${center[i]!.y.toFixed(1)}" r="2.5"><title>${pointTitle(curve, p, centre)}</title></circle>`).join('')
      : '';
  return (
    `<g class="series" data-config="${escapeHtml(curve.configName)}" data-points="${points.length}" style="--series:${seriesColor(curve.configIndex)}">` +
    `<title>${escapeHtml(curve.configName)}</title>` +
    `<g class="seeds">${curve.seeds.map((seed) => seedPath(seed, x, y, scale)).join('')}</g>` +
    `<path class="band" d="${pathData([...upper, ...lower], true)}"/>` +
    `<path class="mean" d="${pathData(center)}"/>${markers}</g>`
  );
}

/**
 * One chart in one of its scales as an <svg> element; a note instead when no configuration
 * logged the tag. `id` must be unique in the page (it names the plot area's clip path).
 */
export function renderChart(chart: ChartData, scale: ChartScale, id: string): string {
  const curves = chart.curves.filter((curve) => (curve.byScale[scale] ?? []).length > 0);
  if (curves.length === 0) return `<p class="empty">No run logged ${escapeHtml(chart.tag)}.</p>`;
  const steps = curves.flatMap((curve) => curve.byScale[scale]!.map((point) => point.step));
  const { min, max } = positionRange(curves, scale);
  const x = axis(niceTicks(Math.min(0, minOf(steps)), maxOf(steps)), MARGIN.left, WIDTH - MARGIN.right);
  const y = axis(scaleTicks(scale, min, max), HEIGHT - MARGIN.bottom, MARGIN.top);
  const clip = `clip-${id}`;
  const bottom = HEIGHT - MARGIN.bottom;
  return (
    `<svg class="chart" data-tag="${escapeHtml(chart.tag)}" data-scale="${scale}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(`${chart.title}, ${scale} axis`)}">` +
    `<clipPath id="${clip}"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${bottom - MARGIN.top}"/></clipPath>` +
    axes(x, y, scale, chart.tag) +
    `<g clip-path="url(#${clip})">${curves.map((curve) => series(curve, x, y, scale, chart.centre ?? CENTER_NAMES[scale])).join('')}</g>` +
    '</svg>'
  );
}
