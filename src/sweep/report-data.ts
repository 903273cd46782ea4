/**
 * What the sweep report shows, read from a sweep folder: each trial's config.json and its
 * event files, grouped into configurations over seeds with the same grouping and ranking as
 * `sweep results` (summarizeTrials). With a sweep.json the trials, their configurations and
 * the metric come from it; without one (any folder of our runs) the trials are the run
 * folders, grouped by their `group` option, else by their config less the seed.
 *
 * Built to read thousands of trials in bounded memory: trials are read one at a time with the
 * lean event reader (scanRun: only the tags the report draws), each curve is cut down at once
 * to at most CURVE_POINTS points, and nothing else of a trial is kept; the best policy's GIF is
 * read at the end, from that one trial.
 */
import * as path from 'node:path';
import { envSpec } from '../envs/index.js';
import { type HParamValue, type ImagePoint, type RunScan, type ScalarPoint, findRunDirs, readRun, scanRun } from '../tensorboard/index.js';
import { hparamValue, outputOnlyKeys, runConfigKeys } from '../train/config.js';
import { type Warn, readJson } from '../util/files.js';
import { maxOf } from '../util/extent.js';
import { shownState } from './liveness.js';
import { type ChartScale, fromScale, logLikeScale, toScale } from './chart-scale.js';
import { searchProgress } from './adaptive.js';
import { Journal } from './journal.js';
import type { MetricDefinition } from './metric-summary.js';
import { type PerformanceProfile, iqmCurve, performanceProfile } from './report-statistics.js';
import { median } from './statistics.js';
import { type ConfigurationResult, type MetricGoal, type Scoring, type TrialResult, meanStd, metricValues, scoringOf, summarizeTrials } from './results.js';
import { type RankingVerdict, rankingVerdict } from './ranking.js';
import { type SweepManifest, type TrialState, STDERR_LOG, STDOUT_LOG, readManifest, readStatus, readTrialConfig } from './trial-status.js';

/** A point of a configuration's curve: the centre over its seeds and a band of one std either side. */
export interface CurvePoint {
  step: number;
  /** The mean over the seeds, taken in the scale's space: arithmetic (linear), geometric (log), or symlog. */
  center: number;
  /** One standard deviation below and above the centre in the scale's space, within the seeds' lowest and highest values. */
  low: number;
  high: number;
  /** Seeds that contributed. */
  seeds: number;
}

/** One seed's curve, cut down to at most CURVE_POINTS points. */
export interface SeedCurve {
  trial: string;
  seed: number;
  points: ScalarPoint[];
}

export interface ConfigurationCurve {
  configName: string;
  configIndex: number;
  /** The curve in each scale of its chart. */
  byScale: Partial<Record<ChartScale, CurvePoint[]>>;
  seeds: SeedCurve[];
}

export interface ChartData {
  tag: string;
  title: string;
  /** The scales it can be drawn in; it opens in the first. */
  scales: ChartScale[];
  /** One per charted configuration that logged the tag, in the results table's order. */
  curves: ConfigurationCurve[];
  /** What the centre line is when it is not the scale's mean (e.g. IQM), for the points' hover text. */
  centre?: string;
}

export interface PolicyAnimation {
  trial: string;
  configName: string;
  step: number;
  width: number;
  height: number;
  gif: Uint8Array;
}

/** A trial of the report: its result, and why it counts as diverged (null when it does not). */
export interface ReportTrial extends TrialResult {
  diverged: string | null;
}

/** A configuration of the report: its result, and its seeds that diverged (null when none did). */
export interface ReportConfiguration extends ConfigurationResult {
  diverged: { seeds: number; reason: string } | null;
}

export interface ReportData {
  sweep: string;
  sweepDir: string;
  metric: string;
  goal: MetricGoal;
  scoring: Scoring;
  /** The best configuration, those tied with it, P(best beats the runner-up). */
  ranking: RankingVerdict;
  /** Parameters that differ between configurations. */
  swept: string[];
  configurations: ReportConfiguration[];
  trials: ReportTrial[];
  /** How many configurations the charts draw: the best ones, at most MAX_CHARTED_CONFIGURATIONS. */
  charted: number;
  charts: ChartData[];
  /** The metric's IQM over seeds at each step, with its 95% bootstrap band, for the charted configurations. */
  iqmChart: ChartData;
  /** The fraction of runs better than each score, for the charted configurations. */
  profile: PerformanceProfile;
  /** The latest eval/policy GIF of the best configuration's best seed, if it logged one. */
  bestPolicy: PolicyAnimation | null;
  /** An adaptive sweep's best metric found so far against the environment steps spent (from its journal); null for other sweeps. */
  searchProgress: ChartData | null;
  generatedAt: string;
}

/** The curves the report draws; `log`: opens on a log-like axis (a loss spans decades even when all is well). */
const CHARTS: ReadonlyArray<{ tag: string; title: string; log: boolean }> = [
  { tag: 'eval/return_mean', title: 'Evaluation return (eval/return_mean)', log: false },
  { tag: 'train/loss', title: 'TD loss (train/loss)', log: true },
  { tag: 'eval/avg_max_q', title: 'Average max Q (eval/avg_max_q)', log: false },
  { tag: 'train/episode_return', title: 'Training episode return (train/episode_return)', log: false },
];
const POLICY_TAG = 'eval/policy';
const LOSS_TAG = 'train/loss';
const Q_TAG = 'eval/avg_max_q';
/** Points per curve and seed: more than a 480-pixel-wide plot can show; it bounds what a trial keeps. */
export const CURVE_POINTS = 100;
/** The charts draw this many configurations, the best by the metric (as many as the palette has colours). */
export const MAX_CHARTED_CONFIGURATIONS = 10;
/** A chart whose curves span more than this factor (max over median magnitude) opens on a log-like axis. */
const WIDE_SPAN = 1000;
/** Q-values this many times beyond the largest possible return mean the run diverged. */
export const Q_BLOWUP = 10;
/** A last loss this many times the run's median loss means it diverged. */
export const LOSS_BLOWUP = 1000;
const DEFAULT_METRIC: MetricDefinition = { name: 'eval/return_mean', goal: 'maximize' };
/** Keys of a run's config that say where or how it ran, not what it trained. */
const NOT_HYPERPARAMETERS = new Set<string>(['seed', ...outputOnlyKeys]);

interface TrialSource {
  index: number;
  name: string;
  dir: string;
  configName: string;
  configIndex: number;
  seed: number;
  hparams: Record<string, HParamValue>;
  steps: number;
  /** The run's config as far as it is known (env and gamma bound its Q-values). */
  config: Record<string, unknown> | undefined;
}

/** What the report keeps of a trial once its event files are read. */
interface LoadedTrial {
  result: ReportTrial;
  /** Per chart tag (and the metric's), the seed's curve cut down to CURVE_POINTS points. */
  curves: Map<string, SeedSeries>;
  /** The env it ran on, when known. */
  env: string | undefined;
  hasPolicy: boolean;
}

/** `warn` hears of trials whose files cannot be read (stderr by default). */
export async function loadReportData(sweepDir: string, warn: Warn = (message) => console.error(`warning: ${message}`)): Promise<ReportData> {
  const manifest = await readManifest(sweepDir);
  const metric = manifest?.metric ?? DEFAULT_METRIC;
  const sources = manifest ? manifestSources(sweepDir, manifest) : await discoverSources(sweepDir);
  // One step range for every curve, so that seeds' points fall in the same bins.
  const horizon = Math.max(1, maxOf(sources.map((source) => source.steps)));
  const trials: LoadedTrial[] = [];
  // One at a time: a trial's events are read, cut down and let go before the next.
  for (const source of sources) trials.push(await loadTrial(source, metric, horizon, warn));
  const configurations = withDivergence(
    summarizeTrials(
      trials.map((trial) => trial.result),
      metric.goal,
    ),
    trials,
  );
  const charted = configurations.slice(0, MAX_CHARTED_CONFIGURATIONS);
  const scoring = scoringOf(metric, new Set(trials.flatMap((trial) => (trial.env === undefined ? [] : [trial.env]))));
  return {
    sweep: manifest?.name ?? path.basename(path.resolve(sweepDir)),
    sweepDir,
    metric: metric.name,
    goal: metric.goal,
    scoring,
    ranking: rankingVerdict(configurations),
    swept: manifest?.swept ?? sweptKeys(sources),
    configurations,
    trials: trials.map((trial) => trial.result),
    charted: charted.length,
    charts: CHARTS.map((chart) => chartData(chart, charted, trials)),
    iqmChart: iqmChartData(metric.name, charted, trials),
    profile: performanceProfile(
      charted,
      trials.map((trial) => trial.result),
      metric.goal,
      scoring.description,
    ),
    bestPolicy: bestPolicy(configurations, trials, metric.goal),
    searchProgress: manifest ? await searchProgressChart(sweepDir, manifest, horizon, warn) : null,
    generatedAt: new Date().toISOString(),
  };
}

/** The chart of an adaptive sweep's progress: one line of the best at any rung, one of the best run to the end. */
async function searchProgressChart(sweepDir: string, manifest: SweepManifest, endStep: number, warn: Warn): Promise<ChartData | null> {
  let journal: Journal;
  try {
    journal = await Journal.open(sweepDir, warn, { readOnly: true });
  } catch (error) {
    warn(`${(error as Error).message}; the report leaves out the search's progress`);
    return null;
  }
  if (journal.entries.length === 0) return null;
  const points = searchProgress(journal.entries, manifest.seeds.length, endStep, manifest.metric.goal);
  const line = (configName: string, configIndex: number, values: Array<[number, number | null]>): ConfigurationCurve => ({
    configName,
    configIndex,
    byScale: {
      linear: values.filter((value): value is [number, number] => value[1] !== null).map(([step, value]) => ({ step, center: value, low: value, high: value, seeds: manifest.seeds.length })),
    },
    seeds: [],
  });
  return {
    tag: `best ${manifest.metric.name}`,
    title: `Best ${manifest.metric.name} found so far against environment steps spent`,
    scales: ['linear'],
    curves: [
      line(
        'best at any rung',
        0,
        points.map((point) => [point.steps, point.bestAnyRung]),
      ),
      line(
        'best of the configurations run to the end',
        1,
        points.map((point) => [point.steps, point.bestAtEnd]),
      ),
    ],
  };
}

function manifestSources(sweepDir: string, manifest: SweepManifest): TrialSource[] {
  return manifest.trials.map((entry) => ({
    index: entry.index,
    name: entry.name,
    dir: path.join(sweepDir, entry.name),
    configName: entry.configName || 'default',
    configIndex: entry.configIndex,
    seed: entry.seed,
    hparams: entry.hparams,
    steps: entry.steps,
    config: undefined,
  }));
}

/** Run folders (event files and a config.json) under `sweepDir`, leaving out runs a rerun moved aside. */
async function discoverSources(sweepDir: string): Promise<TrialSource[]> {
  const runs: Array<{ dir: string; config: Record<string, unknown> }> = [];
  for (const dir of findRunDirs(sweepDir).sort()) {
    if (
      path
        .relative(sweepDir, dir)
        .split(path.sep)
        .some((part) => part.startsWith('previous-'))
    )
      continue;
    const config = await readJsonObject(path.join(dir, 'config.json'));
    if (config) runs.push({ dir, config });
  }
  const keyOf = (config: Record<string, unknown>): string =>
    typeof config.group === 'string' && config.group !== '' ? config.group : JSON.stringify(runConfigKeys.filter((key) => !NOT_HYPERPARAMETERS.has(key)).map((key) => config[key]));
  const configIndices = new Map<string, number>();
  for (const run of runs) if (!configIndices.has(keyOf(run.config))) configIndices.set(keyOf(run.config), configIndices.size);
  const swept = sweptKeys(runs.map((run) => ({ hparams: hyperparameters(run.config) })));
  return runs.map((run, index) => {
    const hparams = hyperparameters(run.config);
    const configName = typeof run.config.group === 'string' && run.config.group !== '' ? run.config.group : swept.map((name) => `${name}=${String(hparams[name])}`).join(',') || 'default';
    return {
      index,
      name: path.relative(sweepDir, run.dir) || '.',
      dir: run.dir,
      configName,
      configIndex: configIndices.get(keyOf(run.config))!,
      seed: typeof run.config.seed === 'number' ? run.config.seed : 0,
      hparams: { ...pick(hparams, swept), seed: Number(run.config.seed ?? 0) },
      steps: typeof run.config.steps === 'number' ? run.config.steps : 0,
      config: run.config,
    };
  });
}

async function readJsonObject(file: string): Promise<Record<string, unknown> | undefined> {
  const parsed = await readJson<unknown>(file, () => {}).catch(() => undefined);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

/** The RunConfig values of a config.json that are hyperparameters, lists as 64x64 like the HParams dashboard. */
function hyperparameters(config: Record<string, unknown>): Record<string, HParamValue> {
  const values: Record<string, HParamValue> = {};
  for (const key of runConfigKeys) {
    const value = config[key];
    if (NOT_HYPERPARAMETERS.has(key) || value === undefined) continue;
    values[key] = hparamValue(value);
  }
  return values;
}

/** Keys whose value is not the same in every source. */
function sweptKeys(sources: ReadonlyArray<{ hparams: Record<string, HParamValue> }>): string[] {
  const keys = new Set(sources.flatMap((source) => Object.keys(source.hparams)));
  return [...keys].filter((key) => key !== 'seed' && new Set(sources.map((source) => String(source.hparams[key]))).size > 1);
}

function pick(values: Record<string, HParamValue>, keys: readonly string[]): Record<string, HParamValue> {
  return Object.fromEntries(keys.filter((key) => key in values).map((key) => [key, values[key]!]));
}

async function loadTrial(source: TrialSource, metric: MetricDefinition, horizon: number, warn: Warn): Promise<LoadedTrial> {
  let scan: RunScan = { scalars: {}, imageSteps: {}, lastScalarStep: 0, truncated_files: [] };
  try {
    scan = scanRun(source.dir, { scalars: new Set([metric.name, ...CHARTS.map((chart) => chart.tag)]), images: new Set([POLICY_TAG]) });
  } catch (error) {
    // A trial that never started has no folder; it still gets its row. A damaged event file costs its curves, not the report.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${(error as Error).message}; the report shows ${source.name} without its curves`);
  }
  const status = await readStatus(source.dir);
  const config = source.config ?? (await readTrialConfig(source.dir));
  const shown = status ? shownState(status) : { state: stateFromSession(scan), detail: null };
  const state = shown.state;
  const env = typeof config?.env === 'string' ? config.env : undefined;
  const result: ReportTrial = {
    index: source.index,
    name: source.name,
    configName: source.configName,
    configIndex: source.configIndex,
    seed: source.seed,
    hparams: source.hparams,
    state,
    ...metricValues(scan.scalars[metric.name] ?? [], metric, env),
    step: status?.step ?? scan.lastScalarStep,
    totalSteps: status?.totalSteps ?? source.steps,
    exitCode: status?.exitCode ?? null,
    cause: shown.detail ?? status?.cause ?? null,
    dir: source.dir,
    log: path.join(source.dir, status?.stdoutLog ?? STDOUT_LOG),
    errorLog: path.join(source.dir, status?.stderrLog ?? STDERR_LOG),
    diverged: divergence(scan, returnBound(config), status?.cause ?? null),
  };
  const curves = new Map<string, SeedSeries>();
  for (const tag of new Set([...CHARTS.map((chart) => chart.tag), metric.name])) {
    const points = scan.scalars[tag];
    if (points && points.length > 0) curves.set(tag, downsample(points, horizon));
  }
  return { result, curves, env, hasPolicy: (scan.imageSteps[POLICY_TAG]?.length ?? 0) > 0 };
}

/** Without a status.json, the run's HParams session end tells how it finished. */
function stateFromSession(scan: RunScan): TrialState | 'missing' {
  switch (scan.hparams_session?.end_status) {
    case 'success':
      return 'done';
    case 'failure':
      return 'failed';
    case 'unknown':
      return 'interrupted';
    case undefined:
      return scan.hparams_session ? 'running' : 'missing';
    default:
      return 'running';
  }
}

/**
 * The largest episode return the run's env allows, discounted: every env here pays at most 1
 * per step in magnitude, so |Q| <= min(maxEpisodeSteps, 1 / (1 - gamma)). Undefined when the
 * config does not say.
 */
function returnBound(config: Record<string, unknown> | undefined): number | undefined {
  if (typeof config?.env !== 'string' || typeof config.gamma !== 'number') return undefined;
  try {
    return Math.min(envSpec(config.env).maxEpisodeSteps, 1 / (1 - config.gamma));
  } catch {
    return undefined;
  }
}

/** 3 significant digits; large values as 3.1e+8. */
function roughly(value: number): string {
  return Math.abs(value) >= 1e5 ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

/** Why a trial counts as diverged (its Q-values or loss blew up, or the run stopped on it); null when it does not. */
export function divergence(scan: Pick<RunScan, 'scalars'>, qBound: number | undefined, cause: string | null): string | null {
  if (cause !== null && /\bdiverged\b/.test(cause)) return cause;
  const q = (scan.scalars[Q_TAG] ?? []).map(([, value]) => value);
  const worstQ = q.reduce((worst, value) => (Math.abs(value) > Math.abs(worst) || Number.isNaN(value) ? value : worst), 0);
  if (!Number.isFinite(worstQ)) return `${Q_TAG} reached ${worstQ}`;
  if (qBound !== undefined && Math.abs(worstQ) > Q_BLOWUP * qBound) {
    return `${Q_TAG} reached ${roughly(worstQ)}, while returns lie within ±${roughly(qBound)}`;
  }
  const loss = (scan.scalars[LOSS_TAG] ?? []).map(([, value]) => value);
  const lastLoss = loss.at(-1);
  if (lastLoss === undefined) return null;
  if (!Number.isFinite(lastLoss)) return `${LOSS_TAG} reached ${lastLoss}`;
  const typical = median(loss);
  if (typical > 0 && lastLoss > LOSS_BLOWUP * typical) {
    return `${LOSS_TAG} rose to ${roughly(lastLoss)}, ${roughly(lastLoss / typical)} times its median`;
  }
  return null;
}

function withDivergence(configurations: ConfigurationResult[], trials: readonly LoadedTrial[]): ReportConfiguration[] {
  const diverged = new Map<number, { seeds: number; reason: string }>();
  for (const { result } of trials) {
    if (result.diverged === null) continue;
    const entry = diverged.get(result.configIndex);
    if (entry) entry.seeds++;
    else diverged.set(result.configIndex, { seeds: 1, reason: `${result.name}: ${result.diverged}` });
  }
  return configurations.map((configuration) => ({ ...configuration, diverged: diverged.get(configuration.configIndex) ?? null }));
}

/** A seed's curve cut down: the mean step and value of its points in each bin that has any. */
export interface SeedSeries {
  bins: Int32Array;
  steps: Float64Array;
  values: Float64Array;
}

/**
 * Averages a seed's points into `bins` equal step ranges over [0, horizon] (points beyond it
 * fall in the last): at most `bins` points, each at the mean step of its points, so series
 * logged at the same steps by every seed keep their exact steps. Non-finite values are left out.
 */
export function downsample(points: readonly ScalarPoint[], horizon: number, bins = CURVE_POINTS): SeedSeries {
  const sums = new Float64Array(bins);
  const stepSums = new Float64Array(bins);
  const counts = new Int32Array(bins);
  for (const [step, value] of points) {
    if (!Number.isFinite(value)) continue;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((step * bins) / (horizon + 1))));
    sums[bin]! += value;
    stepSums[bin]! += step;
    counts[bin]!++;
  }
  const used = counts.reduce((n, count) => n + (count > 0 ? 1 : 0), 0);
  const series: SeedSeries = { bins: new Int32Array(used), steps: new Float64Array(used), values: new Float64Array(used) };
  let at = 0;
  for (let bin = 0; bin < bins; bin++) {
    if (counts[bin] === 0) continue;
    series.bins[at] = bin;
    series.steps[at] = stepSums[bin]! / counts[bin]!;
    series.values[at] = sums[bin]! / counts[bin]!;
    at++;
  }
  return series;
}

/**
 * The curve of a configuration from its seeds' series, bin by bin over the seeds that have the
 * bin: the mean and sample std of the values in the scale's space (so a log axis gets the
 * geometric mean and a band that stays above zero), the band kept within the seeds' extremes.
 * On a log scale, values <= 0 are left out.
 */
export function combineSeeds(series: readonly SeedSeries[], scale: ChartScale): CurvePoint[] {
  const byBin = new Map<number, { steps: number[]; values: number[] }>();
  for (const seed of series) {
    for (let i = 0; i < seed.bins.length; i++) {
      const value = seed.values[i]!;
      if (scale === 'log' && !(value > 0)) continue;
      let entry = byBin.get(seed.bins[i]!);
      if (!entry) byBin.set(seed.bins[i]!, (entry = { steps: [], values: [] }));
      entry.steps.push(seed.steps[i]!);
      entry.values.push(value);
    }
  }
  return [...byBin.keys()]
    .sort((a, b) => a - b)
    .map((bin) => {
      const { steps, values } = byBin.get(bin)!;
      const { mean, std } = meanStd(values.map((value) => toScale(scale, value)))!;
      const lowest = values.reduce((a, b) => Math.min(a, b));
      const highest = values.reduce((a, b) => Math.max(a, b));
      return {
        step: Math.round(steps.reduce((a, b) => a + b, 0) / steps.length),
        center: fromScale(scale, mean),
        low: Math.max(lowest, fromScale(scale, mean - std)),
        high: Math.min(highest, fromScale(scale, mean + std)),
        seeds: values.length,
      };
    });
}

/** The scales of a chart: a log-like one first when asked, or when its curves span orders of magnitude. */
function chartScales(chart: (typeof CHARTS)[number], series: readonly SeedSeries[]): ChartScale[] {
  const logLike = logLikeScale(series.flatMap((seed) => [...seed.values]));
  const magnitudes = series.flatMap((seed) => [...seed.values].map(Math.abs)).filter((value) => value > 0);
  const wide = magnitudes.length > 0 && maxOf(magnitudes) > WIDE_SPAN * median(magnitudes);
  return chart.log || wide ? [logLike, 'linear'] : ['linear', logLike];
}

/** Each seed's own curve of `tag`, as the charts draw it on demand. */
function seedCurves(seeds: readonly LoadedTrial[], tag: string): SeedCurve[] {
  return seeds.map((trial) => {
    const series = trial.curves.get(tag)!;
    return { trial: trial.result.name, seed: trial.result.seed, points: Array.from(series.steps, (step, j): ScalarPoint => [Math.round(step), series.values[j]!]) };
  });
}

function chartData(chart: (typeof CHARTS)[number], charted: readonly ConfigurationResult[], trials: readonly LoadedTrial[]): ChartData {
  const members = charted
    .map((configuration) => ({
      configuration,
      seeds: trials.filter((trial) => trial.result.configIndex === configuration.configIndex && trial.curves.has(chart.tag)),
    }))
    .filter((member) => member.seeds.length > 0);
  const scales = chartScales(
    chart,
    members.flatMap((member) => member.seeds.map((trial) => trial.curves.get(chart.tag)!)),
  );
  const curves = members.map(({ configuration, seeds }): ConfigurationCurve => {
    const series = seeds.map((trial) => trial.curves.get(chart.tag)!);
    return {
      configName: configuration.configName,
      configIndex: configuration.configIndex,
      byScale: Object.fromEntries(scales.map((scale) => [scale, combineSeeds(series, scale)])),
      seeds: seedCurves(seeds, chart.tag),
    };
  });
  return { tag: chart.tag, title: chart.title, scales, curves };
}

/** The metric's IQM chart: per charted configuration the IQM over its seeds with a 95% bootstrap band. Its tag (the y axis's label) says IQM, so it is not taken for the metric's own chart. */
function iqmChartData(tag: string, charted: readonly ConfigurationResult[], trials: readonly LoadedTrial[]): ChartData {
  const curves = charted.flatMap((configuration): ConfigurationCurve[] => {
    const seeds = trials.filter((trial) => trial.result.configIndex === configuration.configIndex && trial.curves.has(tag));
    if (seeds.length === 0) return [];
    const series = seeds.map((trial) => trial.curves.get(tag)!);
    return [
      {
        configName: configuration.configName,
        configIndex: configuration.configIndex,
        byScale: { linear: iqmCurve(series) },
        seeds: [],
      },
    ];
  });
  return { tag: `${tag} (IQM)`, title: `IQM of ${tag} over seeds, 95% bootstrap band`, scales: ['linear'], curves, centre: 'IQM' };
}

/** The best configuration's seed with the best final metric that logged a policy GIF, and its latest GIF. */
function bestPolicy(configurations: readonly ConfigurationResult[], trials: readonly LoadedTrial[], goal: MetricGoal): PolicyAnimation | null {
  const best = configurations.find((configuration) => configuration.best);
  if (!best) return null;
  // Higher is better; a seed without a score comes last.
  const score = (trial: LoadedTrial): number => (trial.result.score === null ? -Infinity : (goal === 'maximize' ? 1 : -1) * trial.result.score);
  const candidates = trials.filter((trial) => trial.result.configIndex === best.configIndex && trial.hasPolicy).sort((a, b) => (score(a) === score(b) ? 0 : score(a) > score(b) ? -1 : 1));
  for (const candidate of candidates) {
    // Only this trial's images are read: the scan kept their steps, not their bytes.
    const image = latestGif(readRun(candidate.result.dir).images[POLICY_TAG] ?? []);
    if (image) {
      return { trial: candidate.result.name, configName: best.configName, step: image.step, width: image.width, height: image.height, gif: image.bytes };
    }
  }
  return null;
}

function latestGif(images: readonly ImagePoint[]): ImagePoint | undefined {
  return images.filter((image) => image.format === 'gif').at(-1);
}
