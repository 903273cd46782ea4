/**
 * Results of a sweep: per trial the final and best value of the sweep's metric,
 * per configuration (grouped over seeds) their mean ± std, sorted by the metric's
 * goal with the best configuration marked. Values come from status.json (the
 * run's `finished` message) and, when that lacks them (another metric, an
 * interrupted trial), from the trial's event files.
 */
import * as path from 'node:path';
import { scanRun } from '../tensorboard/index.js';
import type { HParamValue } from '../tensorboard/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import { maxOf, minOf } from '../util/extent.js';
import { formatTable } from '../util/text-table.js';
import { type ShownState, shownState } from './liveness.js';
import { type SweepManifest, readManifest, readStatus, STDERR_LOG, STDOUT_LOG } from './trial-status.js';

export type MetricGoal = 'maximize' | 'minimize';

export interface TrialResult {
  index: number;
  name: string;
  configName: string;
  configIndex: number;
  seed: number;
  hparams: Record<string, HParamValue>;
  /**
   * 'missing' when the trial has no status.json (never started); gone, lost or orphaned when it says running but nothing runs it.
   * paused and stopped (at a rung of an adaptive sweep): `step` is the rung's, `final` the metric's value there.
   */
  state: ShownState;
  /** The metric's last value, and its best one (by the goal). */
  final: number | null;
  best: number | null;
  step: number;
  totalSteps: number;
  exitCode: number | null;
  cause: string | null;
  /** The trial's folder; the log of the run's output (stdout.log) and the one of its errors (stderr.log). */
  dir: string;
  log: string;
  errorLog: string;
}

export interface ConfigurationResult {
  /** 1 = best; null when no trial of it finished. */
  rank: number | null;
  best: boolean;
  configName: string;
  configIndex: number;
  /** The swept values (without the seed). */
  hparams: Record<string, HParamValue>;
  trials: string[];
  /** Finished trials (with a value) over all trials of the configuration. */
  seeds: number;
  /**
   * Null when its values are of done trials; else the step of the rung where the sweep's scheduler
   * stopped its trials (values at that rung). Stopped configurations rank below done ones, and
   * among themselves higher rungs first: reaching a rung means beating the others at the rungs below.
   */
  rungStep: number | null;
  total: number;
  finalMean: number | null;
  finalStd: number | null;
  bestMean: number | null;
  bestStd: number | null;
}

export interface SweepResults {
  sweep: string;
  metric: string;
  goal: MetricGoal;
  swept: string[];
  trials: TrialResult[];
  configurations: ConfigurationResult[];
  bestConfiguration: string | null;
  generatedAt: string;
}

export const RESULTS_JSON = 'results.json';
export const RESULTS_CSV = 'results.csv';

/** Sample standard deviation (n - 1); 0 for a single value. */
export function meanStd(values: readonly number[]): { mean: number; std: number } | null {
  if (values.length === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, std: 0 };
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/**
 * The trials of one configuration whose values count: its done ones with a value, else (an
 * adaptive sweep stopped it) its stopped ones at the highest rung any of them reached.
 */
function countedTrials(members: readonly TrialResult[]): TrialResult[] {
  const done = members.filter((t) => t.state === 'done' && t.final !== null);
  if (done.length > 0) return done;
  const stopped = members.filter((t) => t.state === 'stopped' && t.final !== null);
  const highest = Math.max(...stopped.map((t) => t.step));
  return stopped.filter((t) => t.step === highest);
}

/** Groups trials over seeds and ranks the configurations. Pure. */
export function summarizeTrials(trials: readonly TrialResult[], goal: MetricGoal): ConfigurationResult[] {
  const groups = new Map<number, TrialResult[]>();
  for (const trial of trials) {
    const members = groups.get(trial.configIndex);
    if (members) members.push(trial);
    else groups.set(trial.configIndex, [trial]);
  }
  const configurations: ConfigurationResult[] = [...groups].map(([configIndex, members]) => {
    const finished = countedTrials(members);
    const rungStep = finished[0]?.state === 'stopped' ? finished[0].step : null;
    const final = meanStd(finished.map((t) => t.final!));
    const best = meanStd(finished.filter((t) => t.best !== null).map((t) => t.best!));
    const hparams = { ...members[0]!.hparams };
    delete hparams.seed;
    return {
      rank: null,
      best: false,
      configName: members[0]!.configName,
      configIndex,
      hparams,
      trials: members.map((t) => t.name),
      seeds: finished.length,
      rungStep,
      total: members.length,
      finalMean: final?.mean ?? null,
      finalStd: final?.std ?? null,
      bestMean: best?.mean ?? null,
      bestStd: best?.std ?? null,
    };
  });
  const sign = goal === 'maximize' ? -1 : 1;
  configurations.sort((a, b) => {
    if ((a.finalMean === null) !== (b.finalMean === null)) return a.finalMean === null ? 1 : -1;
    if (a.rungStep !== b.rungStep) return a.rungStep === null ? -1 : b.rungStep === null ? 1 : b.rungStep - a.rungStep;
    if (a.finalMean !== null && b.finalMean !== null && a.finalMean !== b.finalMean) return sign * (a.finalMean - b.finalMean);
    return a.configIndex - b.configIndex;
  });
  let rank = 0;
  for (const configuration of configurations) if (configuration.finalMean !== null) configuration.rank = ++rank;
  if (configurations[0]?.rank === 1) configurations[0].best = true;
  return configurations;
}

/** The last finite value of a metric's series, and its best by the goal; nulls when it has none. */
export function finalAndBest(values: readonly number[], goal: MetricGoal): { final: number | null; best: number | null } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { final: null, best: null };
  return { final: finite.at(-1)!, best: goal === 'maximize' ? maxOf(finite) : minOf(finite) };
}

function metricFromEvents(dir: string, metric: string, goal: MetricGoal): { final: number | null; best: number | null } {
  try {
    return finalAndBest(
      (scanRun(dir, { scalars: new Set([metric]) }).scalars[metric] ?? []).map((point) => point[1]),
      goal,
    );
  } catch {
    return { final: null, best: null };
  }
}

/** Reads every trial of the sweep in `sweepDir` (its sweep.json, status.json files and event files). */
export async function collectResults(sweepDir: string, manifest?: SweepManifest): Promise<SweepResults> {
  manifest ??= await readManifest(sweepDir);
  if (!manifest) {
    throw new Error(`${sweepDir} is not a sweep folder: it has no sweep.json (run "sweep run <file>" first)`);
  }
  const goal = manifest.metric.goal;
  const trials: TrialResult[] = [];
  for (const entry of manifest.trials) {
    const dir = path.join(sweepDir, entry.name);
    const status = await readStatus(dir);
    let final: number | null = null;
    let best: number | null = null;
    if (status && manifest.metric.name === 'eval/return_mean' && goal === 'maximize' && status.finalReturnMean !== null) {
      final = status.finalReturnMean;
      best = status.bestReturnMean;
    } else if (status && status.state !== 'pending') {
      ({ final, best } = metricFromEvents(dir, manifest.metric.name, goal));
    }
    const shown = shownState(status);
    trials.push({
      index: entry.index,
      name: entry.name,
      configName: entry.configName,
      configIndex: entry.configIndex,
      seed: entry.seed,
      hparams: entry.hparams,
      state: shown.state,
      final,
      best,
      step: status?.step ?? 0,
      totalSteps: status?.totalSteps ?? entry.steps,
      exitCode: status?.exitCode ?? null,
      cause: shown.detail ?? status?.cause ?? null,
      dir,
      log: path.join(dir, status?.stdoutLog ?? STDOUT_LOG),
      errorLog: path.join(dir, status?.stderrLog ?? STDERR_LOG),
    });
  }
  const configurations = summarizeTrials(trials, goal);
  return {
    sweep: manifest.name,
    metric: manifest.metric.name,
    goal,
    swept: manifest.swept,
    trials,
    configurations,
    bestConfiguration: configurations.find((c) => c.best)?.configName ?? null,
    generatedAt: new Date().toISOString(),
  };
}

/** Significant digits of the metric values in results.csv: beyond what seeds can tell apart, and than a float32 event holds. */
const CSV_DIGITS = 6;

/** A measured value for the CSV: 6 significant digits (123.456, 0.00123457), no float noise such as 0.30000000000000004. */
function csvNumber(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? value : Number(value.toPrecision(CSV_DIGITS));
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One row per trial (tidy: ready for a spreadsheet or pandas), with its configuration's
 * aggregate. `log` is the run's output (stdout.log); `error_log` its errors (stderr.log), given
 * for a trial that did not finish.
 */
export function resultsCsv(results: SweepResults): string {
  const byConfig = new Map(results.configurations.map((c) => [c.configIndex, c]));
  const header = [
    'trial',
    'configuration',
    ...results.swept,
    'seed',
    'state',
    'metric',
    'final',
    'best',
    'steps',
    'total_steps',
    'config_rank',
    'config_final_mean',
    'config_final_std',
    'config_best_mean',
    'config_seeds',
    'best_configuration',
    'exit_code',
    'cause',
    'log',
    'error_log',
  ];
  const rows = results.trials.map((trial) => {
    const config = byConfig.get(trial.configIndex)!;
    return [
      trial.name,
      trial.configName,
      ...results.swept.map((key) => trial.hparams[key]),
      trial.seed,
      trial.state,
      results.metric,
      csvNumber(trial.final),
      csvNumber(trial.best),
      trial.step,
      trial.totalSteps,
      config.rank,
      csvNumber(config.finalMean),
      csvNumber(config.finalStd),
      csvNumber(config.bestMean),
      config.seeds,
      config.best,
      trial.exitCode,
      trial.cause,
      trial.log,
      trial.state === 'done' || trial.state === 'stopped' ? '' : trial.errorLog,
    ];
  });
  const lines = [header.map(csvField).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

export async function writeResults(sweepDir: string, results: SweepResults): Promise<{ json: string; csv: string }> {
  const json = path.join(sweepDir, RESULTS_JSON);
  const csv = path.join(sweepDir, RESULTS_CSV);
  await writeJsonAtomic(json, results);
  await writeFileAtomic(csv, resultsCsv(results));
  return { json, csv };
}

export function formatNumber(value: number | null): string {
  if (value === null) return '-';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 0.01 || abs === 0) return value.toFixed(2);
  return value.toPrecision(3);
}

/** The console summary: configurations ranked by the metric, then trials that did not finish. */
export function formatResults(results: SweepResults, options: { unfinished?: boolean } = {}): string {
  const lines: string[] = [];
  const { metric, goal } = results;
  // Stopped configurations (an adaptive sweep's) say at which rung their values are.
  const rungs = results.configurations.some((c) => c.rungStep !== null);
  const header = ['', 'rank', ...(results.swept.length > 0 ? results.swept : ['configuration']), `final ${metric} (mean ± std)`, 'best (mean)', 'seeds', ...(rungs ? ['stopped at step'] : [])];
  const rows = results.configurations.map((c) => [
    c.best ? '*' : '',
    c.rank === null ? '-' : String(c.rank),
    ...(results.swept.length > 0 ? results.swept.map((key) => String(c.hparams[key] ?? '')) : [c.configName]),
    c.finalMean === null ? '-' : `${formatNumber(c.finalMean)} ± ${formatNumber(c.finalStd)}`,
    formatNumber(c.bestMean),
    `${c.seeds}/${c.total}`,
    ...(rungs ? [c.rungStep === null ? '-' : String(c.rungStep)] : []),
  ]);
  const swept = results.swept.length > 0 ? results.swept.length : 1;
  lines.push(`Sweep ${results.sweep}: ${results.configurations.length} configurations, ${results.trials.length} trials, ${metric} (${goal}, * = best)`);
  for (const line of formatTable([header, ...rows], new Set([1, 2 + swept, 3 + swept, 4 + swept, 5 + swept]))) lines.push(line);
  const best = results.configurations.find((c) => c.best);
  if (best) lines.push(`Best: ${best.configName} — ${metric} ${formatNumber(best.finalMean)} ± ${formatNumber(best.finalStd)} over ${best.seeds} seeds`);
  else lines.push(`No configuration has a finished trial with ${metric} yet.`);
  // A stopped trial ended where the sweep wanted: the table shows it.
  const unfinished = results.trials.filter((t) => t.state !== 'done' && t.state !== 'stopped');
  if (unfinished.length > 0 && options.unfinished !== false) {
    lines.push('', 'Not done:');
    for (const trial of unfinished) {
      const detail =
        trial.state === 'failed'
          ? `${trial.cause ?? 'failed'} — log: ${trial.errorLog}`
          : trial.state === 'interrupted'
            ? `at step ${trial.step}/${trial.totalSteps}`
            : trial.state === 'paused'
              ? `paused at step ${trial.step}/${trial.totalSteps}${trial.final === null ? '' : ` (${metric} ${formatNumber(trial.final)} there)`}, waiting to be promoted or stopped`
              : trial.state === 'missing'
                ? 'not started'
                : trial.state === 'gone' || trial.state === 'lost' || trial.state === 'orphaned'
                  ? `no longer running (${trial.cause}); resume with sweep run <its file>`
                  : trial.state;
      lines.push(`  ${trial.state.padEnd(11)} ${trial.name}: ${detail}`);
    }
  }
  return lines.join('\n');
}
