/**
 * What the sweep report shows, read from a sweep folder: each trial's config.json and its
 * event files (decoded with our reader), grouped into configurations over seeds with the same
 * grouping and ranking as `sweep results` (summarizeTrials). With a sweep.json the trials,
 * their configurations and the metric come from it; without one (any folder of our runs) the
 * trials are the run folders, grouped by their `group` option, else by their config less the seed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type HParamValue, type ImagePoint, type RunData, type ScalarPoint, findRunDirs, readRun } from '../tensorboard/index.js';
import { outputOnlyKeys, runConfigKeys } from '../train/config.js';
import { type ConfigurationResult, type MetricGoal, type TrialResult, meanStd, summarizeTrials } from './results.js';
import { type SweepManifest, type TrialState, STDERR_LOG, readManifest, readStatus } from './status.js';

/** One point of a configuration's curve: the mean and spread over the seeds logged at that step. */
export interface CurvePoint {
  step: number;
  mean: number;
  std: number;
  /** Seeds that contributed. */
  seeds: number;
}

export interface ConfigurationCurve {
  configName: string;
  configIndex: number;
  points: CurvePoint[];
}

export interface ChartData {
  tag: string;
  title: string;
  /** One per configuration that logged the tag, in the results table's order. */
  curves: ConfigurationCurve[];
}

export interface PolicyAnimation {
  trial: string;
  configName: string;
  step: number;
  width: number;
  height: number;
  gif: Uint8Array;
}

export interface ReportData {
  sweep: string;
  sweepDir: string;
  metric: string;
  goal: MetricGoal;
  /** Parameters that differ between configurations. */
  swept: string[];
  configurations: ConfigurationResult[];
  trials: TrialResult[];
  charts: ChartData[];
  /** The latest eval/policy GIF of the best configuration's best seed, if it logged one. */
  bestPolicy: PolicyAnimation | null;
  generatedAt: string;
}

/** The curves the report draws. Episode returns fall at different steps per seed, so they are binned. */
const CHARTS: ReadonlyArray<{ tag: string; title: string; binned: boolean }> = [
  { tag: 'eval/return_mean', title: 'Evaluation return (eval/return_mean)', binned: false },
  { tag: 'train/loss', title: 'TD loss (train/loss)', binned: false },
  { tag: 'eval/avg_max_q', title: 'Average max Q (eval/avg_max_q)', binned: false },
  { tag: 'train/episode_return', title: 'Training episode return (train/episode_return)', binned: true },
];
const EPISODE_RETURN_BINS = 50;
const DEFAULT_METRIC = { name: 'eval/return_mean', goal: 'maximize' as MetricGoal };
/** Keys of a run's config that say where or how it ran, not what it trained. */
const NOT_HYPERPARAMETERS = new Set<string>(['seed', ...outputOnlyKeys]);

/** A trial as read from disk: its result row plus the event data the charts need. */
interface LoadedTrial {
  result: TrialResult;
  run: RunData;
}

interface TrialSource {
  index: number;
  name: string;
  dir: string;
  configName: string;
  configIndex: number;
  seed: number;
  hparams: Record<string, HParamValue>;
  steps: number;
}

export async function loadReportData(sweepDir: string): Promise<ReportData> {
  const manifest = await readManifest(sweepDir);
  const metric = manifest?.metric ?? DEFAULT_METRIC;
  const sources = manifest ? manifestSources(sweepDir, manifest) : await discoverSources(sweepDir);
  if (sources.length === 0) throw new Error(`${sweepDir} holds no runs: no sweep.json and no folder with config.json and event files`);
  const trials = await Promise.all(sources.map((source) => loadTrial(source, metric.name, metric.goal)));
  const configurations = summarizeTrials(trials.map((trial) => trial.result), metric.goal);
  return {
    sweep: manifest?.name ?? path.basename(path.resolve(sweepDir)),
    sweepDir,
    metric: metric.name,
    goal: metric.goal,
    swept: manifest?.swept ?? sweptKeys(sources),
    configurations,
    trials: trials.map((trial) => trial.result),
    charts: CHARTS.map((chart) => chartData(chart, configurations, trials)),
    bestPolicy: bestPolicy(configurations, trials, metric.goal),
    generatedAt: new Date().toISOString(),
  };
}

function manifestSources(sweepDir: string, manifest: SweepManifest): TrialSource[] {
  return manifest.trials.map((entry) => ({
    index: entry.index, name: entry.name, dir: path.join(sweepDir, entry.name), configName: entry.configName || 'default',
    configIndex: entry.configIndex, seed: entry.seed, hparams: entry.hparams, steps: entry.steps,
  }));
}

/** Run folders (event files and a config.json) under `sweepDir`, leaving out runs a rerun moved aside. */
async function discoverSources(sweepDir: string): Promise<TrialSource[]> {
  const runs: Array<{ dir: string; config: Record<string, unknown> }> = [];
  for (const dir of findRunDirs(sweepDir).sort()) {
    if (path.relative(sweepDir, dir).split(path.sep).some((part) => part.startsWith('previous-'))) continue;
    const config = await readJsonObject(path.join(dir, 'config.json'));
    if (config) runs.push({ dir, config });
  }
  const keyOf = (config: Record<string, unknown>): string => typeof config.group === 'string' && config.group !== ''
    ? config.group : JSON.stringify(runConfigKeys.filter((key) => !NOT_HYPERPARAMETERS.has(key)).map((key) => config[key]));
  const configKeys = [...new Set(runs.map((run) => keyOf(run.config)))];
  const swept = sweptKeys(runs.map((run) => ({ hparams: hyperparameters(run.config) })));
  return runs.map((run, index) => {
    const hparams = hyperparameters(run.config);
    const key = keyOf(run.config);
    const configName = typeof run.config.group === 'string' && run.config.group !== ''
      ? run.config.group : swept.map((name) => `${name}=${String(hparams[name])}`).join(',') || 'default';
    return {
      index, name: path.relative(sweepDir, run.dir) || '.', dir: run.dir, configName, configIndex: configKeys.indexOf(key),
      seed: typeof run.config.seed === 'number' ? run.config.seed : 0, hparams: { ...pick(hparams, swept), seed: Number(run.config.seed ?? 0) },
      steps: typeof run.config.steps === 'number' ? run.config.steps : 0,
    };
  });
}

async function readJsonObject(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The RunConfig values of a config.json that are hyperparameters, lists as 64x64 like the HParams dashboard. */
function hyperparameters(config: Record<string, unknown>): Record<string, HParamValue> {
  const values: Record<string, HParamValue> = {};
  for (const key of runConfigKeys) {
    const value = config[key];
    if (NOT_HYPERPARAMETERS.has(key) || value === undefined) continue;
    values[key] = Array.isArray(value) ? value.join('x') : (value as HParamValue);
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

async function loadTrial(source: TrialSource, metric: string, goal: MetricGoal): Promise<LoadedTrial> {
  let run: RunData;
  try {
    run = readRun(source.dir);
  } catch {
    // A trial that never started has no event file; it still gets its row.
    run = { scalars: {}, texts: {}, images: {}, histograms: {}, truncated_files: [] };
  }
  const status = await readStatus(source.dir);
  const values = (run.scalars[metric] ?? []).map(([, value]) => value).filter(Number.isFinite);
  const lastStep = Math.max(0, ...Object.values(run.scalars).flatMap((points) => points.map(([step]) => step)));
  const result: TrialResult = {
    index: source.index, name: source.name, configName: source.configName, configIndex: source.configIndex, seed: source.seed,
    hparams: source.hparams, state: status?.state ?? stateFromSession(run),
    final: values.at(-1) ?? null,
    best: values.length === 0 ? null : goal === 'maximize' ? Math.max(...values) : Math.min(...values),
    step: status?.step ?? lastStep, totalSteps: status?.totalSteps ?? source.steps,
    exitCode: status?.exitCode ?? null, cause: status?.cause ?? null, dir: source.dir, log: path.join(source.dir, status?.stderrLog ?? STDERR_LOG),
  };
  return { result, run };
}

/** Without a status.json, the run's HParams session end tells how it finished. */
function stateFromSession(run: RunData): TrialState | 'missing' {
  switch (run.hparams_session?.end_status) {
    case 'success': return 'done';
    case 'failure': return 'failed';
    case 'unknown': return 'interrupted';
    case undefined: return run.hparams_session ? 'running' : 'missing';
    default: return 'running';
  }
}

function chartData(chart: (typeof CHARTS)[number], configurations: readonly ConfigurationResult[], trials: readonly LoadedTrial[]): ChartData {
  const curves: ConfigurationCurve[] = [];
  for (const configuration of configurations) {
    const perSeed = trials
      .filter((trial) => trial.result.configIndex === configuration.configIndex)
      .map((trial) => trial.run.scalars[chart.tag] ?? [])
      .filter((points) => points.length > 0);
    if (perSeed.length === 0) continue;
    const points = chart.binned ? binnedCurve(perSeed, EPISODE_RETURN_BINS) : alignedCurve(perSeed);
    curves.push({ configName: configuration.configName, configIndex: configuration.configIndex, points });
  }
  return { tag: chart.tag, title: chart.title, curves };
}

/** Mean ± std over seeds at every step any seed logged (our runs log these tags at the same steps). */
export function alignedCurve(perSeed: ReadonlyArray<readonly ScalarPoint[]>): CurvePoint[] {
  const byStep = new Map<number, number[]>();
  for (const points of perSeed) {
    for (const [step, value] of points) if (Number.isFinite(value)) byStep.set(step, [...(byStep.get(step) ?? []), value]);
  }
  return [...byStep.keys()].sort((a, b) => a - b).map((step) => curvePoint(step, byStep.get(step)!));
}

/**
 * For tags logged at different steps per seed: each seed is first averaged into equal-width
 * step bins, then the bins are averaged over seeds; a point sits at its bin's centre.
 */
export function binnedCurve(perSeed: ReadonlyArray<readonly ScalarPoint[]>, binCount: number): CurvePoint[] {
  const lastStep = Math.max(...perSeed.flatMap((points) => points.map(([step]) => step)));
  const width = Math.max(1, lastStep / binCount);
  const byBin = new Map<number, number[]>();
  for (const points of perSeed) {
    const sums = new Map<number, { sum: number; count: number }>();
    for (const [step, value] of points) {
      if (!Number.isFinite(value)) continue;
      const bin = Math.min(binCount - 1, Math.floor(step / width));
      const entry = sums.get(bin) ?? { sum: 0, count: 0 };
      sums.set(bin, { sum: entry.sum + value, count: entry.count + 1 });
    }
    for (const [bin, { sum, count }] of sums) byBin.set(bin, [...(byBin.get(bin) ?? []), sum / count]);
  }
  return [...byBin.keys()].sort((a, b) => a - b).map((bin) => curvePoint(Math.round((bin + 0.5) * width), byBin.get(bin)!));
}

function curvePoint(step: number, values: number[]): CurvePoint {
  const { mean, std } = meanStd(values)!;
  return { step, mean, std, seeds: values.length };
}

/** The best configuration's seed with the best final metric, and its latest eval/policy GIF. */
function bestPolicy(configurations: readonly ConfigurationResult[], trials: readonly LoadedTrial[], goal: MetricGoal): PolicyAnimation | null {
  const best = configurations.find((configuration) => configuration.best);
  if (!best) return null;
  // Higher is better; a seed without a final value comes last.
  const score = (trial: LoadedTrial): number => trial.result.final === null ? -Infinity : (goal === 'maximize' ? 1 : -1) * trial.result.final;
  const candidates = trials.filter((trial) => trial.result.configIndex === best.configIndex && latestGif(trial.run) !== undefined);
  const chosen = candidates.reduce<LoadedTrial | undefined>((top, trial) => (top === undefined || score(trial) > score(top) ? trial : top), undefined);
  if (!chosen) return null;
  const image = latestGif(chosen.run)!;
  return { trial: chosen.result.name, configName: best.configName, step: image.step, width: image.width, height: image.height, gif: image.bytes };
}

function latestGif(run: RunData): ImagePoint | undefined {
  return (run.images['eval/policy'] ?? []).filter((image) => image.format === 'gif').at(-1);
}
