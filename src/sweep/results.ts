/**
 * Results of a sweep: per trial the final and best value of the sweep's metric and its score
 * (the metric's summary: final, best, mean_last_k, auc or steps_to_threshold; metric-summary.ts),
 * per configuration (grouped over seeds) the mean ± std of the final and best values and the
 * statistics of the score (IQM, bootstrap intervals; ranking.ts), ranked by the score's IQM with
 * the best configuration and those tied with it marked. Values come from status.json (the run's
 * `finished` message) when they suffice, else from the trial's event files.
 */
import * as path from 'node:path';
import { scanRun } from '../tensorboard/index.js';
import type { HParamValue } from '../tensorboard/index.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/files.js';
import { maxOf, minOf } from '../util/extent.js';
import { formatTable } from '../util/text-table.js';
import { type ShownState, shownState } from './liveness.js';
import { type CurvePoint, type MetricDefinition, type MetricGoal, type MetricSummary, describeScore, summaryOf, thresholdFor, trialScore, valueGoal } from './metric-summary.js';
import { type Ranked, type RankingVerdict, rankByScores, rankingVerdict } from './ranking.js';
import { type Interval, mean, sampleStd } from './statistics.js';
import { type SweepManifest, readManifest, readStatus, readTrialConfig, STDERR_LOG, STDOUT_LOG } from './trial-status.js';

export type { MetricGoal } from './metric-summary.js';

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
  /**
   * The metric's summary that ranks it (metric.summary; results.scoring says which); null when it
   * has none. For steps_to_threshold, +Infinity when the run never reached the threshold (null in
   * results.json, which has no infinity: reachedThreshold says it; inf in results.csv).
   */
  score: number | null;
  /** steps_to_threshold only: whether the run reached the threshold (null: no evaluation yet). */
  reachedThreshold?: boolean | null;
  step: number;
  totalSteps: number;
  exitCode: number | null;
  cause: string | null;
  /** The trial's folder; the log of the run's output (stdout.log) and the one of its errors (stderr.log). */
  dir: string;
  log: string;
  errorLog: string;
}

/** A configuration over its seeds; `rank`, `best`, `score` (statistics of its trials' scores), `tiedWithBest`, ... come from the ranking (ranking.ts). */
export interface ConfigurationResult extends Ranked {
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

/** How the trials are scored: the metric's summary, and in words. */
export interface Scoring {
  summary: MetricSummary;
  k?: number;
  threshold?: number;
  /** e.g. "final eval/return_mean", "steps until eval/return_mean >= 475". */
  description: string;
}

export interface SweepResults {
  sweep: string;
  metric: string;
  /** The goal of the score (minimize for steps_to_threshold). */
  goal: MetricGoal;
  scoring: Scoring;
  swept: string[];
  trials: TrialResult[];
  configurations: ConfigurationResult[];
  bestConfiguration: string | null;
  /** The best, the configurations not distinguishable from it, and P(best beats the runner-up). */
  ranking: RankingVerdict;
  generatedAt: string;
}

export const RESULTS_JSON = 'results.json';
export const RESULTS_CSV = 'results.csv';

/** Mean and sample standard deviation (n - 1; 0 for a single value); null for no values. */
export function meanStd(values: readonly number[]): { mean: number; std: number } | null {
  return values.length === 0 ? null : { mean: mean(values), std: sampleStd(values) };
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

/**
 * Groups trials over seeds and ranks the configurations by their scores: the pure ranking over
 * trial results that `sweep results`, the report and a confirmation share. Configurations an
 * adaptive sweep stopped rank below those run to the end, higher rungs first (ranking.ts).
 */
export function summarizeTrials(trials: readonly TrialResult[], goal: MetricGoal): ConfigurationResult[] {
  const groups = new Map<number, TrialResult[]>();
  for (const trial of trials) {
    const members = groups.get(trial.configIndex);
    if (members) members.push(trial);
    else groups.set(trial.configIndex, [trial]);
  }
  const configurations = [...groups].map(([configIndex, members]) => {
    const finished = countedTrials(members);
    const rungStep = finished[0]?.state === 'stopped' ? finished[0].step : null;
    const final = meanStd(finished.map((t) => t.final!));
    const best = meanStd(finished.filter((t) => t.best !== null).map((t) => t.best!));
    const hparams = { ...members[0]!.hparams };
    delete hparams.seed;
    return {
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
      scores: finished.filter((t) => t.score !== null).map((t) => t.score!),
    };
  });
  return rankByScores(configurations, goal).map(({ scores: _scores, ...configuration }) => configuration);
}

/** The last finite value of a metric's series, and its best by the goal; nulls when it has none. */
export function finalAndBest(values: readonly number[], goal: MetricGoal): { final: number | null; best: number | null } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { final: null, best: null };
  return { final: finite.at(-1)!, best: goal === 'maximize' ? maxOf(finite) : minOf(finite) };
}

/** What a trial's metric curve gives: its final and best values, its score, and for steps_to_threshold whether it got there. */
export type TrialMetricValues = Pick<TrialResult, 'final' | 'best' | 'score' | 'reachedThreshold'>;

/** The final, best and score of a metric's curve ([step, value] points); `env` gives steps_to_threshold its default threshold. */
export function metricValues(curve: readonly CurvePoint[], metric: MetricDefinition, env?: string): TrialMetricValues {
  const score = trialScore(curve, metric, env);
  return {
    ...finalAndBest(
      curve.map((point) => point[1]),
      valueGoal(metric),
    ),
    score,
    ...(summaryOf(metric) === 'steps_to_threshold' ? { reachedThreshold: score === null ? null : Number.isFinite(score) } : {}),
  };
}

/** The summaries that status.json's final and best values of eval/return_mean answer without the event files. */
function fromStatus(metric: MetricDefinition, final: number, best: number | null): TrialMetricValues | undefined {
  if (metric.name !== 'eval/return_mean' || metric.goal !== 'maximize') return undefined;
  const summary = summaryOf(metric);
  if (summary === 'final') return { final, best, score: final };
  if (summary === 'best') return { final, best, score: best };
  return undefined;
}

function metricFromEvents(dir: string, metric: MetricDefinition, env: string | undefined): TrialMetricValues {
  try {
    return metricValues(scanRun(dir, { scalars: new Set([metric.name]) }).scalars[metric.name] ?? [], metric, env);
  } catch {
    return { final: null, best: null, score: null };
  }
}

/** The env a trial ran on, when its score needs one (steps_to_threshold without a threshold of its own). */
async function trialEnv(dir: string, metric: MetricDefinition): Promise<string | undefined> {
  if (summaryOf(metric) !== 'steps_to_threshold' || metric.threshold !== undefined) return undefined;
  const env = (await readTrialConfig(dir))?.env;
  return typeof env === 'string' ? env : undefined;
}

/** How trials are scored, from the sweep's metric; `envs`: the envs the trials ran on (one names its default threshold). */
export function scoringOf(metric: MetricDefinition, envs: ReadonlySet<string>): Scoring {
  const env = envs.size === 1 ? [...envs][0] : undefined;
  const threshold = summaryOf(metric) === 'steps_to_threshold' ? thresholdFor(metric, env) : undefined;
  return {
    summary: summaryOf(metric),
    ...(metric.k !== undefined && summaryOf(metric) === 'mean_last_k' ? { k: metric.k } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
    description: describeScore(metric, env),
  };
}

/** Reads every trial of the sweep in `sweepDir` (its sweep.json, status.json files and event files). */
export async function collectResults(sweepDir: string, manifest?: SweepManifest): Promise<SweepResults> {
  manifest ??= await readManifest(sweepDir);
  if (!manifest) {
    throw new Error(`${sweepDir} is not a sweep folder: it has no sweep.json (run "sweep run <file>" first)`);
  }
  const metric: MetricDefinition = manifest.metric;
  const goal = metric.goal;
  const trials: TrialResult[] = [];
  const envs = new Set<string>();
  for (const entry of manifest.trials) {
    const dir = path.join(sweepDir, entry.name);
    const status = await readStatus(dir);
    let values: TrialMetricValues = { final: null, best: null, score: null };
    const quick = status && status.finalReturnMean !== null ? fromStatus(metric, status.finalReturnMean, status.bestReturnMean) : undefined;
    if (quick) {
      values = quick;
    } else if (status && status.state !== 'pending') {
      const env = await trialEnv(dir, metric);
      if (env !== undefined) envs.add(env);
      values = metricFromEvents(dir, metric, env);
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
      ...values,
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
    metric: metric.name,
    goal,
    scoring: scoringOf(metric, envs),
    swept: manifest.swept,
    trials,
    configurations,
    bestConfiguration: configurations.find((c) => c.best)?.configName ?? null,
    ranking: rankingVerdict(configurations),
    generatedAt: new Date().toISOString(),
  };
}

/** Significant digits of the metric values in results.csv: beyond what seeds can tell apart, and than a float32 event holds. */
const CSV_DIGITS = 6;

/** A measured value for the CSV: 6 significant digits (123.456, 0.00123457), no float noise such as 0.30000000000000004; infinity as inf (pandas and numpy read it). */
function csvNumber(value: number | null): number | string | null {
  if (value === null || Number.isNaN(value)) return null;
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return Number(value.toPrecision(CSV_DIGITS));
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The configuration statistics columns of results.csv (after config_seeds), with their values. */
function configurationStatisticsColumns(config: ConfigurationResult): Array<[string, unknown]> {
  const score = config.score;
  return [
    ['config_score_iqm', csvNumber(score?.iqm ?? null)],
    ['config_score_iqm_ci_low', csvNumber(score?.iqmCi?.low ?? null)],
    ['config_score_iqm_ci_high', csvNumber(score?.iqmCi?.high ?? null)],
    ['config_score_mean', csvNumber(score?.mean ?? null)],
    ['config_score_mean_ci_low', csvNumber(score?.meanCi?.low ?? null)],
    ['config_score_mean_ci_high', csvNumber(score?.meanCi?.high ?? null)],
    ['config_score_median', csvNumber(score?.median ?? null)],
    ['config_score_std', csvNumber(score?.std ?? null)],
    ['config_score_min', csvNumber(score?.min ?? null)],
    ['config_score_max', csvNumber(score?.max ?? null)],
    ['config_score_seeds', score?.n ?? 0],
    ['config_ci_rough', score ? score.rough : null],
    ['config_not_solved', config.notSolved],
    ['tied_with_best', config.tiedWithBest],
    ['p_best_beats', csvNumber(config.probabilityBestBeats)],
  ];
}

/**
 * One row per trial (tidy: ready for a spreadsheet or pandas), with its configuration's
 * aggregate. `score` is the trial's summary of the metric (`summary` says which), the
 * `config_score_*` columns its configuration's statistics over seeds. `log` is the run's output
 * (stdout.log); `error_log` its errors (stderr.log), given for a trial that did not finish.
 */
export function resultsCsv(results: SweepResults): string {
  const byConfig = new Map(results.configurations.map((c) => [c.configIndex, c]));
  const statisticsHeader = results.configurations.length > 0 ? configurationStatisticsColumns(results.configurations[0]!).map(([name]) => name) : [];
  const header = [
    'trial',
    'configuration',
    ...results.swept,
    'seed',
    'state',
    'metric',
    'final',
    'best',
    'summary',
    'score',
    'steps',
    'total_steps',
    'config_rank',
    'config_final_mean',
    'config_final_std',
    'config_best_mean',
    'config_seeds',
    ...statisticsHeader,
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
      results.scoring.summary,
      csvNumber(trial.score),
      trial.step,
      trial.totalSteps,
      config.rank,
      csvNumber(config.finalMean),
      csvNumber(config.finalStd),
      csvNumber(config.bestMean),
      config.seeds,
      ...configurationStatisticsColumns(config).map(([, value]) => value),
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

/** A value for people: 2 decimals, whole numbers from 1000 on, 3 significant digits below 0.01; ∞ for an infinite one. */
export function formatNumber(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 0.01 || abs === 0) return value.toFixed(2);
  return value.toPrecision(3);
}

/** "12.50 ± 3.10"; an infinite mean (a run that never reached the threshold) has no std to show. */
export function meanStdText(mean: number, std: number): string {
  return Number.isFinite(mean) ? `${formatNumber(mean)} ± ${formatNumber(std)}` : formatNumber(mean);
}

/** "[12.50, 31.00]"; "no CI" without an interval. */
export function formatInterval(interval: Interval | null): string {
  return interval === null ? 'no CI' : `[${formatNumber(interval.low)}, ${formatNumber(interval.high)}]`;
}

/** How much to trust a configuration's intervals: "n=2, CI rough", "n=1, no CI", "not solved: 1 of 3"; '' when there is nothing to say. */
export function statisticsNote(config: Pick<ConfigurationResult, 'score' | 'notSolved'>): string {
  const notes: string[] = [];
  const score = config.score;
  if (score && score.n < 2) notes.push(`n=${score.n}, no CI`);
  else if (score?.rough) notes.push(`n=${score.n}, CI rough`);
  if (config.notSolved > 0 && score) notes.push(`not solved: ${config.notSolved} of ${score.n}`);
  return notes.join('; ');
}

/** "A, B and C". */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * The console's verdict on the ranking, e.g. "Best: X (IQM 120.50, 95% CI [98.00, 140.00]);
 * not distinguishable from Y and Z (their IQM CIs overlap the best's); ...": only what the
 * intervals support.
 */
export function bestLine(results: { configurations: ReadonlyArray<Pick<ConfigurationResult, 'best' | 'score' | 'notSolved'>>; ranking: RankingVerdict; metric: string }): string {
  const { ranking } = results;
  const best = results.configurations.find((c) => c.best);
  if (!best?.score || ranking.best === null) return `No configuration has a finished trial with ${results.metric} yet.`;
  const score = best.score;
  const interval = score.iqmCi === null ? '' : `, 95% CI ${formatInterval(score.iqmCi)}`;
  const note = statisticsNote(best);
  const parts = [`Best: ${ranking.best} (IQM ${formatNumber(score.iqm)}${interval}${note ? `; ${note}` : ''})`];
  const others = results.configurations.filter((c) => !c.best && c.score !== null).length;
  if (others === 0) {
    parts.push('the only configuration with a result');
  } else {
    if (ranking.tiedWithBest.length > 0) parts.push(`not distinguishable from ${listOf(ranking.tiedWithBest)} (their IQM CIs overlap the best's)`);
    else if (ranking.untested.length < others) parts.push("no other configuration's IQM CI overlaps the best's");
    if (ranking.untested.length > 0) {
      parts.push(score.n < 2 ? 'with 1 seed there is no CI, so it cannot be told apart from the others: add seeds' : `${listOf(ranking.untested)}: too few seeds (1) to compare with it`);
    }
    if (ranking.runnerUp !== null && ranking.probabilityOfImprovement !== null) {
      parts.push(`P(a run of the best beats one of the runner-up ${ranking.runnerUp}) = ${ranking.probabilityOfImprovement.toFixed(2)}`);
    }
  }
  return parts.join('; ');
}

/** The console summary: configurations ranked by the score's IQM over seeds, the verdict, then trials that did not finish. */
export function formatResults(results: SweepResults, options: { unfinished?: boolean } = {}): string {
  const lines: string[] = [];
  const { goal, metric } = results;
  const worst = goal === 'maximize' ? 'min' : 'max';
  // Stopped configurations (an adaptive sweep's) say at which rung their scores are.
  const rungs = results.configurations.some((c) => c.rungStep !== null);
  const header = [
    '',
    'rank',
    ...(results.swept.length > 0 ? results.swept : ['configuration']),
    'IQM',
    '95% CI',
    'mean ± std',
    '95% CI',
    'median',
    worst,
    'seeds',
    ...(rungs ? ['stopped at step'] : []),
    '',
  ];
  const rows = results.configurations.map((c) => {
    const score = c.score;
    return [
      c.best ? '*' : c.tiedWithBest ? '=' : '',
      c.rank === null ? '-' : String(c.rank),
      ...(results.swept.length > 0 ? results.swept.map((key) => String(c.hparams[key] ?? '')) : [c.configName]),
      formatNumber(score?.iqm ?? null),
      score ? formatInterval(score.iqmCi) : '',
      score ? meanStdText(score.mean, score.std) : '-',
      score ? formatInterval(score.meanCi) : '',
      formatNumber(score?.median ?? null),
      formatNumber(score ? (goal === 'maximize' ? score.min : score.max) : null),
      `${c.seeds}/${c.total}`,
      ...(rungs ? [c.rungStep === null ? '-' : String(c.rungStep)] : []),
      statisticsNote(c),
    ];
  });
  const swept = results.swept.length > 0 ? results.swept.length : 1;
  const numeric = [1, 2 + swept, 4 + swept, 6 + swept, 7 + swept, 8 + swept, ...(rungs ? [9 + swept] : [])];
  lines.push(
    `Sweep ${results.sweep}: ${results.configurations.length} configurations, ${results.trials.length} trials; ` +
      `score: ${results.scoring.description} (${goal}); over seeds: IQM, mean and their 95% bootstrap CIs (* = best, = = tied with the best)`,
  );
  for (const line of formatTable([header, ...rows], new Set(numeric))) lines.push(line);
  lines.push(bestLine(results));
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
