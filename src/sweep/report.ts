/**
 * `sweep report <dir>`: one self-contained HTML page per sweep (runs/<sweep>/report.html) with
 * the results table (configurations over seeds, sortable, best and diverged ones marked),
 * learning curves with a band across seeds — what TensorBoard cannot show for groups of seeds —
 * on a linear or log axis, with each seed's curve on demand, and the best trial's policy GIF.
 * Everything is inline (styles, SVG charts, the GIF as a data: URI, a few lines of script for
 * sorting and the toggles), so the page works offline and can be mailed around.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import type { ChartScale } from './chart-scale.js';
import { escapeHtml, renderChart, seriesColor } from './report-chart.js';
import { type ChartData, type PolicyAnimation, type ReportConfiguration, type ReportData, type ReportTrial, CURVE_POINTS, LOSS_BLOWUP, Q_BLOWUP, loadReportData } from './report-data.js';
import { STATISTICS_STYLE, statisticsSection } from './report-statistics-view.js';
import { formatNumber } from './results.js';

export const REPORT_FILE = 'report.html';

/** Reads the sweep folder and writes <sweepDir>/report.html; returns its path. */
export async function writeReport(sweepDir: string): Promise<string> {
  const data = await loadReportData(sweepDir);
  const file = path.join(sweepDir, REPORT_FILE);
  await writeFileAtomic(file, renderReport(data));
  return file;
}

export function renderReport(data: ReportData): string {
  const title = `Sweep ${data.sweep}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — rlsweep report</title>
<style>${STYLE}${STATISTICS_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(summaryLine(data))}</p>
</header>
<main>
${resultsSection(data)}
${searchProgressSection(data.searchProgress)}
${statisticsSection(data)}
${curvesSection(data)}
${policySection(data.bestPolicy, data.metric)}
${trialsSection(data)}
</main>
<footer>Written by rlsweep from the event files in <code>${escapeHtml(data.sweepDir)}</code> at ${escapeHtml(data.generatedAt)}.</footer>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}

function summaryLine(data: ReportData): string {
  const seeds = new Set(data.trials.map((trial) => trial.seed)).size;
  const done = data.trials.filter((trial) => trial.state === 'done').length;
  const stopped = data.trials.filter((trial) => trial.state === 'stopped').length;
  const diverged = data.configurations.filter((configuration) => configuration.diverged !== null).length;
  return (
    `${data.configurations.length} configurations × ${seeds} seeds = ${data.trials.length} trials (${done} done${stopped > 0 ? `, ${stopped} stopped at a rung` : ''}) · ` +
    `metric ${data.metric} (${data.goal}) · swept: ${data.swept.length > 0 ? data.swept.join(', ') : 'nothing'}` +
    (diverged > 0 ? ` · ${diverged} configuration${diverged === 1 ? '' : 's'} diverged` : '')
  );
}

/** Column headers and cells of the configuration columns: the swept values, or the configuration's name. */
function configurationColumns(data: ReportData): { headers: string[]; cells: (c: ReportConfiguration) => Array<string | number | boolean> } {
  if (data.swept.length === 0) return { headers: ['configuration'], cells: (c) => [c.configName] };
  return { headers: data.swept, cells: (c) => data.swept.map((key) => c.hparams[key] ?? '') };
}

/** A cell sorted by `sortValue` (numbers sort as numbers; a missing value sorts last). */
function cell(text: string, sortValue: string | number | null, className = '', extra = ''): string {
  const sort = sortValue === null ? '' : ` data-sort="${escapeHtml(String(sortValue))}"`;
  return `<td${className ? ` class="${className}"` : ''}${sort}${extra}>${text}</td>`;
}

function meanStdText(mean: number | null, std: number | null): string {
  return mean === null ? '–' : `${formatNumber(mean)} <span class="std">± ${formatNumber(std)}</span>`;
}

function resultsSection(data: ReportData): string {
  const columns = configurationColumns(data);
  const headers = ['rank', ...columns.headers, `final ${data.metric}`, `best ${data.metric}`, 'seeds done'];
  const numeric = new Set([0, columns.headers.length + 1, columns.headers.length + 2, columns.headers.length + 3]);
  const head = headers.map((header, i) => `<th scope="col" data-type="${numeric.has(i) ? 'number' : 'text'}"><button type="button">${escapeHtml(header)}</button></th>`).join('');
  const rows = data.configurations
    .map((c) => {
      const swatch = `<span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>`;
      const configCells = columns.cells(c).map((value, i) => cell(`${i === 0 ? swatch : ''}${escapeHtml(String(value))}`, typeof value === 'number' ? value : String(value)));
      const badge = (c.best ? ' <span class="badge" title="best configuration">★ best</span>' : '') + divergedBadge(c);
      const classes = [c.best ? 'best' : '', c.diverged ? 'diverged' : ''].filter((name) => name !== '').join(' ');
      return (
        `<tr data-config="${escapeHtml(c.configName)}"${classes ? ` class="${classes}"` : ''}>` +
        cell(`${c.rank ?? '–'}${badge}`, c.rank, 'rank') +
        configCells.join('') +
        cell(meanStdText(c.finalMean, c.finalStd), c.finalMean, 'final', ` data-mean="${c.finalMean ?? ''}" data-std="${c.finalStd ?? ''}"`) +
        cell(meanStdText(c.bestMean, c.bestStd), c.bestMean, 'best-value') +
        cell(`${c.seeds}/${c.total}`, c.seeds, 'seeds') +
        '</tr>'
      );
    })
    .join('\n');
  return `<section id="results-section">
<h2>Results</h2>
<p class="hint">Configurations over seeds: mean ± std (sample) of the metric's last value (final) and of its best value per seed. Ranked by the IQM of each trial's score (see <a href="#statistics">Statistics over seeds</a>); click a column to sort. ⚠ marks a configuration with a seed whose Q-values went far beyond the possible returns (over ${Q_BLOWUP} times the largest discounted return), or whose loss ended over ${LOSS_BLOWUP} times its median, or that stopped on a diverged run; hover it for the values.</p>
<div class="table-scroll">
<table id="results" class="sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>
</section>`;
}

function divergedBadge(c: ReportConfiguration): string {
  if (!c.diverged) return '';
  const title = `${c.diverged.seeds} of ${c.total} seeds diverged; ${c.diverged.reason}`;
  return ` <span class="badge warn" title="${escapeHtml(title)}">⚠ diverged ${c.diverged.seeds}/${c.total}</span>`;
}

const SCALE_HINTS: Record<ChartScale, string> = {
  linear: 'linear axis: mean ± one std over seeds',
  log: 'log axis: geometric mean, band of ± one std of the logarithm',
  symlog: 'symmetric log axis (linear within ±1): mean and ± one std taken on that axis',
};

/** A chart in each of its scales, the first shown; buttons switch between them. */
function chartFigure(chart: ChartData, index: number): string {
  // Linear first whichever the chart opens in, so the buttons stand in the same order on every chart.
  const order = [...chart.scales].sort((a, b) => Number(b === 'linear') - Number(a === 'linear'));
  const buttons = order
    .map((scale) => `<button type="button" class="scale" data-scale="${scale}" aria-pressed="${scale === chart.scales[0]}" title="${escapeHtml(SCALE_HINTS[scale])}">${scale}</button>`)
    .join('');
  const views = chart.scales.map((scale) => renderChart(chart, scale, `c${index}-${scale}`)).join('\n');
  return `<figure class="chart-box" data-tag="${escapeHtml(chart.tag)}" data-show="${chart.scales[0]}">
<figcaption><span>${escapeHtml(chart.title)}</span><span class="scales">${chart.curves.length > 0 ? buttons : ''}</span></figcaption>
${views}
</figure>`;
}

function curvesSection(data: ReportData): string {
  const charted = data.configurations.slice(0, data.charted);
  const legend = charted
    .map((c) => `<li><span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>${escapeHtml(c.configName)}${c.best ? ' ★' : ''}${c.diverged ? ' ⚠' : ''}</li>`)
    .join('');
  const which =
    data.charted < data.configurations.length
      ? `The ${data.charted} best of ${data.configurations.length} configurations by the IQM of ${escapeHtml(data.scoring.description)} (the tables list all). `
      : '';
  return `<section id="curves">
<h2>Learning curves</h2>
<p class="hint">${which}Per configuration, the centre over its seeds with a shaded band of one standard deviation (kept within the seeds' lowest and highest values); each curve at most ${CURVE_POINTS} points. A chart whose values span orders of magnitude (the loss, a diverging run) opens on a log axis; its buttons switch the axis. Hover a point for its value.</p>
<label class="toggle"><input type="checkbox" id="show-seeds"> show each seed's curve</label>
<ul class="legend">${legend}</ul>
<div class="charts">
${data.charts.map(chartFigure).join('\n')}
</div>
</section>`;
}

/** An adaptive sweep's budget at work: the best metric found so far against the environment steps spent, from its journal. */
function searchProgressSection(chart: ChartData | null): string {
  if (!chart) return '';
  const legend = chart.curves.map((curve) => `<li><span class="swatch" style="background:${seriesColor(curve.configIndex)}"></span>${escapeHtml(curve.configName)}</li>`).join('');
  return `<section id="search-progress">
<h2>Search progress</h2>
<p class="hint">After each result of the adaptive search (a configuration's seeds reaching a rung, or the end), the environment steps spent by all trials so far and the best metric found by then: the mean over a configuration's seeds at whatever rung it reached, and among the configurations run to the end. From the sweep's journal.</p>
<ul class="legend">${legend}</ul>
<div class="charts">
${chartFigure(chart, 100)}
</div>
</section>`;
}

function policySection(policy: PolicyAnimation | null, metric: string): string {
  if (!policy) {
    return `<section id="policy"><h2>Best policy</h2><p class="empty">The best configuration logged no eval/policy animation (is evalGif off, or did no trial finish?).</p></section>`;
  }
  const source = `data:image/gif;base64,${Buffer.from(policy.gif).toString('base64')}`;
  return `<section id="policy">
<h2>Best policy</h2>
<figure>
<img id="best-policy" src="${source}" width="${policy.width * 2}" height="${policy.height * 2}" alt="A greedy episode of the best trial's policy">
<figcaption>Greedy episode of <code>${escapeHtml(policy.trial)}</code> (the best seed of the best configuration by ${escapeHtml(metric)}) at step ${policy.step}.</figcaption>
</figure>
</section>`;
}

/** Long names may break after their commas (trial names are key=value lists), so the table fits the page. */
function breakable(name: string): string {
  return escapeHtml(name).replace(/,/g, ',<wbr>');
}

function trialsSection(data: ReportData): string {
  const rows = data.trials
    .map(
      (trial: ReportTrial) =>
        `<tr data-trial="${escapeHtml(trial.name)}"${trial.diverged ? ' class="diverged"' : ''}>` +
        cell(breakable(trial.name), trial.name, 'name') +
        cell(breakable(trial.configName), trial.configName, 'name') +
        cell(String(trial.seed), trial.seed) +
        cell(escapeHtml(trial.state) + (trial.diverged ? ` <span class="badge warn" title="${escapeHtml(trial.diverged)}">⚠ diverged</span>` : ''), trial.state) +
        cell(formatNumber(trial.final), trial.final) +
        cell(formatNumber(trial.best), trial.best) +
        cell(`${trial.step}/${trial.totalSteps}`, trial.step) +
        '</tr>',
    )
    .join('\n');
  const headers = [
    ['trial', 'text'],
    ['configuration', 'text'],
    ['seed', 'number'],
    ['state', 'text'],
    ['final', 'number'],
    ['best', 'number'],
    ['steps', 'number'],
  ];
  const head = headers.map(([name, type]) => `<th scope="col" data-type="${type}"><button type="button">${name}</button></th>`).join('');
  return `<details id="trials-section">
<summary>Trials (${data.trials.length})</summary>
<div class="table-scroll">
<table id="trials" class="sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</div>
</details>`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #61707f; --line: #d9e0e7; --best: #fff6d6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f6f8fa; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { margin: 28px 0 6px; font-size: 18px; }
.meta, .hint, footer, .empty { color: var(--muted); }
.hint { margin: 0 0 10px; font-size: 13px; }
footer { padding-top: 24px; padding-bottom: 24px; font-size: 12px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); font-variant-numeric: tabular-nums; }
th, td { padding: 6px 12px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
td.name { white-space: normal; overflow-wrap: anywhere; min-width: 12em; }
th { white-space: normal; vertical-align: bottom; }
td.rank { white-space: normal; min-width: 7em; }
.badge { white-space: nowrap; }
.table-scroll { max-width: 100%; overflow-x: auto; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: "\\00a0↕"; color: #b4bec8; font-weight: 400; }
th[aria-sort="ascending"] button::after { content: "\\00a0↑"; color: var(--ink); }
th[aria-sort="descending"] button::after { content: "\\00a0↓"; color: var(--ink); }
tr.best { background: var(--best); }
.badge { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 8px; background: #f2c94c; font-size: 12px; font-weight: 600; }
.badge.warn { background: #f8d0cd; color: #8a1c13; cursor: help; }
tr.diverged td:first-child { box-shadow: inset 3px 0 #e15759; }
.std { color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; vertical-align: baseline; }
.legend { list-style: none; padding: 0; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px; }
.chart-box { margin: 0; padding: 10px 12px 4px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.chart-box figcaption { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; font-weight: 600; font-size: 14px; }
.scales button { font: 12px system-ui, sans-serif; padding: 1px 8px; margin-left: 4px; border: 1px solid var(--line); border-radius: 10px; background: #fff; color: var(--muted); cursor: pointer; }
.scales button[aria-pressed="true"] { background: var(--ink); border-color: var(--ink); color: #fff; }
.chart-box[data-show="linear"] svg.chart:not([data-scale="linear"]),
.chart-box[data-show="log"] svg.chart:not([data-scale="log"]),
.chart-box[data-show="symlog"] svg.chart:not([data-scale="symlog"]) { display: none; }
.toggle { display: inline-block; margin: 0 0 8px; font-size: 13px; color: var(--muted); cursor: pointer; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .frame { fill: none; stroke: #c3ccd5; }
svg.chart .grid { stroke: #edf1f4; }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
svg.chart .axis-label { font-size: 12px; fill: var(--muted); }
svg.chart .band { fill: var(--series); fill-opacity: 0.18; stroke: none; }
svg.chart .mean { fill: none; stroke: var(--series); stroke-width: 2; stroke-linejoin: round; }
svg.chart .point { fill: var(--series); }
svg.chart .seeds { display: none; }
#curves.show-seeds svg.chart .seeds { display: inline; }
svg.chart .seed { fill: none; stroke: var(--series); stroke-width: 1; stroke-opacity: 0.55; }
#curves.show-seeds svg.chart .band { fill-opacity: 0.08; }
#policy figure { margin: 0; display: inline-block; padding: 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
#policy img { display: block; image-rendering: auto; }
#policy figcaption { margin-top: 6px; font-size: 13px; color: var(--muted); max-width: 420px; }
details { margin-top: 28px; }
summary { cursor: pointer; font-weight: 600; margin-bottom: 8px; }
`;

/**
 * Click a header to sort its table by that column; again to reverse. Missing values sort last.
 * A chart's scale buttons show its view in that scale; the checkbox shows each seed's curve.
 */
const SORT_SCRIPT = `
for (const table of document.querySelectorAll('table.sortable')) {
  const headers = [...table.tHead.rows[0].cells];
  headers.forEach((header, column) => header.querySelector('button').addEventListener('click', () => {
    const ascending = header.getAttribute('aria-sort') !== 'ascending';
    headers.forEach((other) => other.removeAttribute('aria-sort'));
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const numeric = header.dataset.type === 'number';
    const key = (row) => row.cells[column].dataset.sort;
    const rows = [...table.tBodies[0].rows].sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y, undefined, { numeric: true });
      return ascending ? order : -order;
    });
    // One row at a time: spreading thousands of rows into append() can overflow the stack.
    const body = table.tBodies[0];
    for (const row of rows) body.append(row);
  }));
}
for (const figure of document.querySelectorAll('figure.chart-box')) {
  const buttons = [...figure.querySelectorAll('button.scale')];
  for (const button of buttons) button.addEventListener('click', () => {
    figure.dataset.show = button.dataset.scale;
    for (const other of buttons) other.setAttribute('aria-pressed', String(other === button));
  });
}
const seedsToggle = document.getElementById('show-seeds');
seedsToggle.addEventListener('change', () => document.getElementById('curves').classList.toggle('show-seeds', seedsToggle.checked));
`;
