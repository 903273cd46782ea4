/**
 * `sweep report <dir>`: one self-contained HTML page per sweep (runs/<sweep>/report.html) with
 * the results table (configurations over seeds, sortable, best marked), learning curves with a
 * ± std band across seeds — what TensorBoard cannot show for groups of seeds — and the best
 * trial's policy GIF. Everything is inline (styles, SVG charts, the GIF as a data: URI, a few
 * lines of script for sorting), so the page works offline and can be mailed around.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import { escapeHtml, renderChart, seriesColor } from './report-chart.js';
import { type PolicyAnimation, type ReportData, loadReportData } from './report-data.js';
import { type ConfigurationResult, type TrialResult, formatNumber } from './results.js';

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
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="meta">${escapeHtml(summaryLine(data))}</p>
</header>
<main>
${resultsSection(data)}
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
  return `${data.configurations.length} configurations × ${seeds} seeds = ${data.trials.length} trials (${done} done) · `
    + `metric ${data.metric} (${data.goal}) · swept: ${data.swept.length > 0 ? data.swept.join(', ') : 'nothing'}`;
}

/** Column headers and cells of the configuration columns: the swept values, or the configuration's name. */
function configurationColumns(data: ReportData): { headers: string[]; cells: (c: ConfigurationResult) => Array<string | number | boolean> } {
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
  const rows = data.configurations.map((c) => {
    const swatch = `<span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>`;
    const configCells = columns.cells(c).map((value, i) => cell(`${i === 0 ? swatch : ''}${escapeHtml(String(value))}`, typeof value === 'number' ? value : String(value)));
    const badge = c.best ? ' <span class="badge" title="best configuration">★ best</span>' : '';
    return `<tr data-config="${escapeHtml(c.configName)}"${c.best ? ' class="best"' : ''}>`
      + cell(`${c.rank ?? '–'}${badge}`, c.rank, 'rank')
      + configCells.join('')
      + cell(meanStdText(c.finalMean, c.finalStd), c.finalMean, 'final', ` data-mean="${c.finalMean ?? ''}" data-std="${c.finalStd ?? ''}"`)
      + cell(meanStdText(c.bestMean, c.bestStd), c.bestMean, 'best-value')
      + cell(`${c.seeds}/${c.total}`, c.seeds, 'seeds')
      + '</tr>';
  }).join('\n');
  return `<section id="results-section">
<h2>Results</h2>
<p class="hint">Configurations over seeds: mean ± std (sample) of the metric's last value (final) and of its best value per seed. Ranked by the final mean; click a column to sort.</p>
<table id="results" class="sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
</section>`;
}

function curvesSection(data: ReportData): string {
  const legend = data.configurations.map((c) => `<li><span class="swatch" style="background:${seriesColor(c.configIndex)}"></span>${escapeHtml(c.configName)}${c.best ? ' ★' : ''}</li>`).join('');
  const charts = data.charts.map((chart) => `<figure class="chart-box" data-tag="${escapeHtml(chart.tag)}">
<figcaption>${escapeHtml(chart.title)}</figcaption>
${renderChart(chart)}
</figure>`).join('\n');
  return `<section id="curves">
<h2>Learning curves</h2>
<p class="hint">Mean over the seeds of each configuration, with a shaded band of ± one standard deviation. Hover a point for its value.</p>
<ul class="legend">${legend}</ul>
<div class="charts">
${charts}
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

function trialsSection(data: ReportData): string {
  const rows = data.trials.map((trial: TrialResult) => `<tr data-trial="${escapeHtml(trial.name)}">`
    + cell(escapeHtml(trial.name), trial.name)
    + cell(escapeHtml(trial.configName), trial.configName)
    + cell(String(trial.seed), trial.seed)
    + cell(escapeHtml(trial.state), trial.state)
    + cell(formatNumber(trial.final), trial.final)
    + cell(formatNumber(trial.best), trial.best)
    + cell(`${trial.step}/${trial.totalSteps}`, trial.step)
    + '</tr>').join('\n');
  const headers = [['trial', 'text'], ['configuration', 'text'], ['seed', 'number'], ['state', 'text'], ['final', 'number'], ['best', 'number'], ['steps', 'number']];
  const head = headers.map(([name, type]) => `<th scope="col" data-type="${type}"><button type="button">${name}</button></th>`).join('');
  return `<details id="trials-section">
<summary>Trials (${data.trials.length})</summary>
<table id="trials" class="sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody>
</table>
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
th button { all: unset; cursor: pointer; font-weight: 600; }
th button::after { content: " ↕"; color: #b4bec8; font-weight: 400; }
th[aria-sort="ascending"] button::after { content: " ↑"; color: var(--ink); }
th[aria-sort="descending"] button::after { content: " ↓"; color: var(--ink); }
tr.best { background: var(--best); }
.badge { display: inline-block; margin-left: 4px; padding: 0 6px; border-radius: 8px; background: #f2c94c; font-size: 12px; font-weight: 600; }
.std { color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; vertical-align: baseline; }
.legend { list-style: none; padding: 0; margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 16px; }
.chart-box { margin: 0; padding: 10px 12px 4px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
.chart-box figcaption { font-weight: 600; font-size: 14px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart .frame { fill: none; stroke: #c3ccd5; }
svg.chart .grid { stroke: #edf1f4; }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
svg.chart .axis-label { font-size: 12px; fill: var(--muted); }
svg.chart .band { fill: var(--series); fill-opacity: 0.18; stroke: none; }
svg.chart .mean { fill: none; stroke: var(--series); stroke-width: 2; stroke-linejoin: round; }
svg.chart .point { fill: var(--series); }
#policy figure { margin: 0; display: inline-block; padding: 12px; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
#policy img { display: block; image-rendering: auto; }
#policy figcaption { margin-top: 6px; font-size: 13px; color: var(--muted); max-width: 420px; }
details { margin-top: 28px; }
summary { cursor: pointer; font-weight: 600; margin-bottom: 8px; }
`;

/** Click a header to sort its table by that column; again to reverse. Missing values sort last. */
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
    table.tBodies[0].append(...rows);
  }));
}
`;
