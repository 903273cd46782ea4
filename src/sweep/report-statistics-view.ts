/**
 * The report's "Statistics over seeds" section: the verdict (best, tied with the best,
 * probability of improvement), the statistics table (IQM, mean, median, std, extremes, 95%
 * bootstrap intervals), the IQM curve with its bootstrap band, and the performance profile, as
 * inline SVG like the other charts.
 */
import { maxOf, minOf } from '../util/extent.js';
import { niceTicks } from './chart-scale.js';
import { escapeHtml, formatTick, renderChart, seriesColor } from './report-chart.js';
import type { ReportConfiguration, ReportData } from './report-data.js';
import { CURVE_RESAMPLES, fractionBetter, type PerformanceProfile, type ProfileSeries } from './report-statistics.js';
import { bestLine, formatInterval, formatNumber, meanStdText, statisticsNote } from './results.js';
import { BOOTSTRAP_RESAMPLES, ROUGH_BELOW } from './statistics.js';

const WIDTH = 560;
const HEIGHT = 300;
const MARGIN = { left: 64, right: 16, top: 14, bottom: 40 };

/** The section's HTML. */
export function statisticsSection(data: ReportData): string {
  const charted = data.configurations.slice(0, data.charted);
  const legend = charted.map((c) => `<li><span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>${escapeHtml(c.configName)}${c.best ? ' ★' : ''}</li>`).join('');
  return `<section id="statistics">
<h2>Statistics over seeds</h2>
<p class="hint">Each trial is scored by <b>${escapeHtml(data.scoring.description)}</b> (${escapeHtml(data.goal)}). Per configuration over its seeds: the interquartile mean (IQM: the mean of the middle half, as rliable computes it), the mean, median, sample std (n − 1) and extremes, and 95% percentile bootstrap intervals (${BOOTSTRAP_RESAMPLES} seeded resamples) of the mean and of the IQM. Configurations are ranked by IQM; one whose IQM interval overlaps the best's is <b>tied with the best</b>: the seeds cannot tell them apart. With fewer than ${ROUGH_BELOW} seeds an interval is rough; with 1 there is none. P(best beats) is the probability that a run of the best scores better than a run of that configuration (ties count one half). The IQM curve's band is the same interval of the IQM over seeds at each step (${CURVE_RESAMPLES} resamples per point); the performance profile shows, for each score τ, the fraction of a configuration's runs that did better than τ.</p>
<p id="verdict" class="verdict">${escapeHtml(bestLine(data))}</p>
<div class="table-scroll">
<table id="statistics-table" class="sortable">
<thead><tr>${statisticsHeader()}</tr></thead>
<tbody>
${data.configurations.map(statisticsRow).join('\n')}
</tbody>
</table>
</div>
<ul class="legend">${legend}</ul>
<div class="charts">
<figure class="stats-box" data-chart="iqm">
<figcaption><span>${escapeHtml(data.iqmChart.title)}</span></figcaption>
${renderChart(data.iqmChart, 'linear', 'iqm-linear')}
</figure>
<figure class="stats-box" data-chart="profile">
<figcaption><span>Performance profile: ${escapeHtml(data.profile.description)}</span></figcaption>
${renderProfile(data.profile)}
</figure>
</div>
</section>`;
}

const COLUMNS: ReadonlyArray<[name: string, type: 'number' | 'text']> = [
  ['rank', 'number'],
  ['configuration', 'text'],
  ['IQM [95% CI]', 'number'],
  ['mean ± std [95% CI]', 'number'],
  ['median', 'number'],
  ['min', 'number'],
  ['max', 'number'],
  ['seeds', 'number'],
  ['vs the best', 'text'],
];

function statisticsHeader(): string {
  return COLUMNS.map(([name, type]) => `<th scope="col" data-type="${type}"><button type="button">${escapeHtml(name)}</button></th>`).join('');
}

/** A cell sorted by `sortValue`; an infinite number sorts as a large one. */
function cell(text: string, sortValue: string | number | null, className = ''): string {
  const sort =
    sortValue === null || Number.isNaN(sortValue)
      ? ''
      : ` data-sort="${escapeHtml(typeof sortValue === 'number' && !Number.isFinite(sortValue) ? String(Math.sign(sortValue) * Number.MAX_VALUE) : String(sortValue))}"`;
  return `<td${className ? ` class="${className}"` : ''}${sort}>${text}</td>`;
}

function versusBest(c: ReportConfiguration): string {
  if (c.best) return '<span class="badge" title="best configuration">★ best</span>';
  if (c.score === null) return '–';
  const tie =
    c.tiedWithBest === true
      ? '<span class="badge tied" title="tied with the best: its IQM interval overlaps the best\'s">= tied</span> '
      : c.tiedWithBest === null
        ? '<span class="untested">too few seeds to compare</span> '
        : '';
  const probability =
    c.probabilityBestBeats === null ? '' : `<span title="probability that a run of the best beats a run of this configuration">P(best beats) ${c.probabilityBestBeats.toFixed(2)}</span>`;
  return `${tie}${probability}`;
}

function statisticsRow(c: ReportConfiguration): string {
  const s = c.score;
  const note = statisticsNote(c);
  const swatch = `<span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>`;
  const classes = [c.best ? 'best' : '', c.tiedWithBest ? 'tied' : ''].filter((name) => name !== '').join(' ');
  return (
    `<tr data-config="${escapeHtml(c.configName)}"${classes ? ` class="${classes}"` : ''}>` +
    cell(String(c.rank ?? '–'), c.rank) +
    cell(configurationName(swatch, c.configName), c.configName, 'config') +
    cell(s ? `${formatNumber(s.iqm)} <span class="ci">${formatInterval(s.iqmCi)}</span>` : '–', s?.iqm ?? null, 'iqm') +
    cell(s ? `${meanStdText(s.mean, s.std).replace(/ (± .*)$/, ' <span class="std">$1</span>')} <span class="ci">${formatInterval(s.meanCi)}</span>` : '–', s?.mean ?? null, 'mean') +
    cell(formatNumber(s?.median ?? null), s?.median ?? null) +
    cell(formatNumber(s?.min ?? null), s?.min ?? null) +
    cell(formatNumber(s?.max ?? null), s?.max ?? null) +
    cell(`${s?.n ?? 0}/${c.total}${note ? ` <span class="note">${escapeHtml(note)}</span>` : ''}`, s?.n ?? 0, 'seeds') +
    cell(versusBest(c), null, 'versus') +
    '</tr>'
  );
}

/** A configuration's name that breaks only after its commas (key=value lists), its swatch kept with the first part. */
function configurationName(swatch: string, name: string): string {
  return name
    .split(',')
    .map((part, i) => `<span class="part">${i === 0 ? swatch : ''}${escapeHtml(part)}</span>`)
    .join(',<wbr>');
}

/** A linear map from [domainLow, domainHigh] onto [rangeStart, rangeEnd]. */
function linear(domainLow: number, domainHigh: number, rangeStart: number, rangeEnd: number): (value: number) => number {
  const span = domainHigh - domainLow || 1;
  return (value) => rangeStart + ((value - domainLow) / span) * (rangeEnd - rangeStart);
}

/** The fraction of runs better than just below (left) and just above (right) a score v. */
function limits(scores: readonly number[], v: number, goal: PerformanceProfile['goal']): { left: number; right: number } {
  const count = (test: (score: number) => boolean): number => scores.filter(test).length / scores.length;
  return goal === 'maximize' ? { left: count((s) => s >= v), right: count((s) => s > v) } : { left: count((s) => s < v), right: count((s) => s <= v) };
}

/** A configuration's profile as a step line over [x0, x1]. */
function profilePath(entry: ProfileSeries, goal: PerformanceProfile['goal'], x: (value: number) => number, y: (value: number) => number, x0: number, x1: number): string {
  const distinct = [...new Set(entry.scores.filter(Number.isFinite))].sort((a, b) => a - b);
  const points: Array<[number, number]> = [[x0, fractionBetter(entry.scores, x0, goal)]];
  for (const v of distinct) {
    const { left, right } = limits(entry.scores, v, goal);
    points.push([v, left], [v, right]);
  }
  points.push([x1, points.at(-1)![1]]);
  return points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
}

/** The performance profile as an <svg>: per configuration the fraction of its runs better than τ, against τ. */
export function renderProfile(profile: PerformanceProfile): string {
  const finite = profile.series.flatMap((entry) => entry.scores.filter(Number.isFinite));
  if (finite.length === 0) {
    return `<p class="empty">${profile.series.length === 0 ? 'No finished run has a score yet.' : 'No run reached the threshold.'}</p>`;
  }
  const low = minOf(finite);
  const high = maxOf(finite);
  // Some room on either side, so the plateaus at 1 (below every score) and at the end show.
  const pad = high > low ? (high - low) * 0.05 : Math.max(1, Math.abs(low) * 0.1);
  const ticks = niceTicks(low - pad, high + pad);
  const x0 = ticks[0]!;
  const x1 = ticks.at(-1)!;
  const bottom = HEIGHT - MARGIN.bottom;
  const x = linear(x0, x1, MARGIN.left, WIDTH - MARGIN.right);
  const y = linear(0, 1, bottom, MARGIN.top);
  const parts = [`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${WIDTH - MARGIN.left - MARGIN.right}" height="${bottom - MARGIN.top}"/>`];
  for (const tick of ticks) {
    const px = x(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${px}" x2="${px}" y1="${MARGIN.top}" y2="${bottom}"/>`, `<text class="tick" x="${px}" y="${bottom + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const py = y(tick).toFixed(1);
    parts.push(
      `<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py}" y2="${py}"/>`,
      `<text class="tick" x="${MARGIN.left - 6}" y="${py}" dy="0.32em" text-anchor="end">${tick}</text>`,
    );
  }
  const better = profile.goal === 'maximize' ? '>' : '<';
  parts.push(
    `<text class="axis-label" x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 6}" text-anchor="middle">score τ</text>`,
    `<text class="axis-label" transform="translate(14 ${(MARGIN.top + bottom) / 2}) rotate(-90)" text-anchor="middle">fraction of runs with score ${better} τ</text>`,
  );
  for (const entry of profile.series) {
    const unsolved = entry.scores.filter((score) => !Number.isFinite(score)).length;
    const title = `${entry.configName}: ${entry.scores.length} runs${unsolved > 0 ? `, ${unsolved} never reached the threshold` : ''}`;
    parts.push(
      `<g class="profile-series" data-config="${escapeHtml(entry.configName)}" data-runs="${entry.scores.length}" style="--series:${seriesColor(entry.configIndex)}">` +
        `<title>${escapeHtml(title)}</title><path class="profile" d="${profilePath(entry, profile.goal, x, y, x0, x1)}"/></g>`,
    );
  }
  return `<svg class="chart profile-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Performance profile: fraction of runs with score ${better} τ">${parts.join('')}</svg>`;
}

/** Styles of the section, added to the page's. */
export const STATISTICS_STYLE = `
.verdict { margin: 0 0 10px; padding: 8px 12px; background: #fff; border: 1px solid var(--line); border-left: 4px solid #f2c94c; border-radius: 4px; }
tr.tied { background: #fbf8ec; }
.badge.tied { background: #e8e1c4; }
.note, .untested, .ci { color: var(--muted); font-size: 12px; }
#statistics-table td.config { white-space: normal; }
#statistics-table td.config .part { white-space: nowrap; }
#statistics-table td.versus { white-space: normal; min-width: 9em; }
.stats-box { margin: 0; padding: 10px 12px 4px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.stats-box figcaption { font-weight: 600; font-size: 14px; }
svg.chart .profile { fill: none; stroke: var(--series); stroke-width: 2; stroke-linejoin: round; }
`;
