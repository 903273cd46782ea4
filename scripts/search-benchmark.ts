/**
 * The pure parts of `npm run bench:search` (scripts/bench-search.ts): the search space and the
 * sweep files made from it, the environment steps a sweep spent (from its trials' status.json),
 * the configuration a sweep picked (from its results.json), the score of a pick on fresh seeds,
 * the verdict against the target, and the markdown table. Kept apart from the script so that
 * test/bench-search.test.ts checks them on fixture data without training anything.
 */
import { createHash } from 'node:crypto';
import { type ConfigurationResult, meanStd, type SweepResults } from '../src/sweep/results.js';
import type { TrialStatus } from '../src/sweep/trial-status.js';
import { hparamValue } from '../src/train/config.js';

/** A sweep file's parameter value as YAML writes it (a hiddenLayers list included). */
export type ParameterValue = number | string | boolean | number[];

/** One benchmark setting: the search space, the searches' budget and the seeds. */
export interface BenchSetting {
  /** 'full' (the defaults), 'quick' (the smoke setting), or 'reduced' (the full space with fewer searches or fresh seeds). */
  kind: 'full' | 'quick' | 'reduced';
  /** Parameters every configuration shares (env, steps, evaluation...). */
  fixed: Record<string, ParameterValue>;
  /** The swept hyperparameters and their values: the grid is their product; bayes draws from the same values. */
  swept: Record<string, ParameterValue[]>;
  /** Seeds every search trains each configuration on. */
  searchSeeds: number[];
  /** sweep_seed of each bayes search: one search per value. */
  sweepSeeds: number[];
  /** bayes: how many configurations each search tries. */
  runCap: number;
  /** bayes.n_startup_trials (random configurations before TPE models the results). */
  startupTrials: number;
  /** ASHA: the first rung (environment steps) and eta. */
  ashaMinSteps: number;
  reductionFactor: number;
  /** The seeds a pick is scored on: no search trains on them. */
  freshSeeds: number[];
}

/** The target of issue 16: a pick as good as the grid's for at most this fraction of the grid's environment steps. */
export const TARGET_STEP_FRACTION = 0.25;

const FRESH_SEED_BASE = 1000;
const freshSeeds = (count: number): number[] => Array.from({ length: count }, (_, i) => FRESH_SEED_BASE + i);

/**
 * The benchmark's search space (README, "Adaptive sweeps"): DQN on CartPole-v1, 27k environment
 * steps, one gradient step every 4 environment steps (SB3's DQN default), 5 hyperparameters =
 * 72 configurations. 27k = 3000 * 3^2, so ASHA's rungs (3000, 9000) and the end lie on evaluations.
 */
export function fullSetting(searches = 5, fresh = 5): BenchSetting {
  return {
    kind: searches === 5 && fresh === 5 ? 'full' : 'reduced',
    fixed: {
      env: 'CartPole-v1',
      steps: 27000,
      batchSize: 64,
      trainStart: 1000,
      trainFrequency: 4,
      gradientSteps: 1,
      // epsilonFraction only acts on the linear schedule (the default schedule is constant).
      epsilonSchedule: 'linear',
      epsilonStart: 1,
      trainEpsilon: 0.02,
      evalEvery: 3000,
      evalEpisodes: 10,
      logEvery: 3000,
      snapshotEvery: 0,
    },
    swept: {
      learningRate: [0.0003, 0.001, 0.003],
      gamma: [0.95, 0.99],
      targetUpdateEvery: [100, 500, 2000],
      epsilonFraction: [0.1, 0.3],
      hiddenLayers: [
        [32, 32],
        [64, 64],
      ],
    },
    searchSeeds: [0],
    sweepSeeds: Array.from({ length: searches }, (_, i) => i),
    runCap: 36,
    startupTrials: 10,
    ashaMinSteps: 3000,
    reductionFactor: 3,
    freshSeeds: freshSeeds(fresh),
  };
}

/** `--quick`: the same machinery on 4 configurations of 6000 steps, 2 searches, 2 fresh seeds (a smoke run of a few minutes). */
export function quickSetting(): BenchSetting {
  return {
    kind: 'quick',
    fixed: {
      env: 'CartPole-v1',
      steps: 6000,
      batchSize: 64,
      trainStart: 500,
      trainFrequency: 4,
      gradientSteps: 1,
      // epsilonFraction only acts on the linear schedule (the default schedule is constant).
      epsilonSchedule: 'linear',
      epsilonStart: 1,
      trainEpsilon: 0.02,
      gamma: 0.99,
      targetUpdateEvery: 500,
      epsilonFraction: 0.1,
      evalEvery: 1000,
      evalEpisodes: 3,
      logEvery: 1000,
      snapshotEvery: 0,
    },
    swept: {
      learningRate: [0.001, 0.003],
      hiddenLayers: [
        [32, 32],
        [64, 64],
      ],
    },
    searchSeeds: [0],
    sweepSeeds: [0, 1],
    runCap: 3,
    startupTrials: 2,
    // One rung at 3000 with eta 2: 3 configurations there promote one to the end (with eta 3 and rungs 1000, 3000 none would reach it).
    ashaMinSteps: 3000,
    reductionFactor: 2,
    freshSeeds: freshSeeds(2),
  };
}

/** How many configurations the grid has. */
export function gridSize(setting: BenchSetting): number {
  return Object.values(setting.swept).reduce((product, values) => product * values.length, 1);
}

/** A sweep file as an object (the script writes it as YAML). */
export type SweepFile = Record<string, unknown>;

const METRIC = { name: 'eval/return_mean', goal: 'maximize' } as const;

function fixedParameters(values: Record<string, ParameterValue>): Record<string, { value: ParameterValue }> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { value }]));
}

function sweptParameters(setting: BenchSetting): Record<string, { values: ParameterValue[] }> {
  return Object.fromEntries(Object.entries(setting.swept).map(([key, values]) => [key, { values }]));
}

/** The reference: every configuration of the space on the search seeds. */
export function gridSweepFile(setting: BenchSetting): SweepFile {
  return {
    name: 'bench-search-grid',
    method: 'grid',
    metric: METRIC,
    seeds: setting.searchSeeds,
    parameters: { ...fixedParameters(setting.fixed), ...sweptParameters(setting) },
  };
}

/** One adaptive search: TPE over the grid's values, ASHA stopping configurations at the rungs. */
export function bayesSweepFile(setting: BenchSetting, sweepSeed: number): SweepFile {
  return {
    name: `bench-search-bayes-${sweepSeed}`,
    method: 'bayes',
    metric: METRIC,
    seeds: setting.searchSeeds,
    run_cap: setting.runCap,
    sweep_seed: sweepSeed,
    bayes: { n_startup_trials: setting.startupTrials },
    early_terminate: { type: 'asha', min_steps: setting.ashaMinSteps, reduction_factor: setting.reductionFactor },
    parameters: { ...fixedParameters(setting.fixed), ...sweptParameters(setting) },
  };
}

/** The swept values of a pick, in the space's order. */
export type PickedValues = Record<string, ParameterValue>;

/** A short name for a pick, the same for the same values whichever search picked it: picks that agree share one fresh-seed sweep. */
export function pickKey(pick: PickedValues): string {
  const canonical = JSON.stringify(
    Object.keys(pick)
      .sort()
      .map((key) => [key, pick[key]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 10);
}

/** The pick trained on the fresh seeds as a grid of one configuration; its final greedy evaluation is the score. */
export function freshSweepFile(setting: BenchSetting, pick: PickedValues): SweepFile {
  return {
    name: `bench-search-fresh-${pickKey(pick)}`,
    method: 'grid',
    metric: METRIC,
    seeds: setting.freshSeeds,
    parameters: fixedParameters({ ...setting.fixed, ...pick }),
  };
}

/**
 * Environment steps a sweep spent: each trial's `step` in its status.json, the steps it actually
 * ran (a stopped or paused trial's rung, a resumed trial's total once, since it continues from its
 * checkpoint). A trial never started has no status and spent nothing.
 */
export function stepsSpent(statuses: ReadonlyArray<Pick<TrialStatus, 'step'> | undefined>): number {
  return statuses.reduce((sum, status) => sum + (status?.step ?? 0), 0);
}

/** The configuration a sweep picked, with the score its search saw. */
export interface SweepPick {
  configName: string;
  pick: PickedValues;
  /** Mean over the search seeds of the metric it was ranked by: the final evaluation, or the evaluation at its rung when stoppedAt is set. */
  searchScore: number;
  /** Null when the pick ran to the end on every search seed; else the rung (environment steps) where the search stopped it. */
  stoppedAt: number | null;
}

type Scored = ConfigurationResult & { finalMean: number };

/**
 * What a sweep picks: the best mean final evaluation among the configurations that ran to the
 * end on every search seed (ties go to the configuration made first). A configuration ASHA
 * stopped at a rung was scored on a shorter run, so it is picked only when none ran to the end
 * (ASHA with few configurations per rung can stop them all): then the best at the highest rung,
 * marked by stoppedAt. Its swept values are read back into the space's values (results.json
 * shows a list as "64x64", as the HParams dashboard does). Throws when nothing has a score.
 */
export function choosePick(results: Pick<SweepResults, 'sweep' | 'goal' | 'configurations'>, swept: BenchSetting['swept']): SweepPick {
  const scored = results.configurations.filter((configuration): configuration is Scored => configuration.finalMean !== null);
  const finished = scored.filter((configuration) => configuration.rungStep === null && configuration.seeds === configuration.total);
  const highestRung = Math.max(...scored.map((configuration) => configuration.rungStep ?? 0));
  const candidates = finished.length > 0 ? finished : scored.filter((configuration) => configuration.rungStep === highestRung);
  if (candidates.length === 0) throw new Error(`sweep ${results.sweep}: no configuration has a value of the metric, so it picked nothing; see its results.csv`);
  const better = (a: number, b: number): boolean => (results.goal === 'maximize' ? a > b : a < b);
  let best = candidates[0]!;
  for (const configuration of candidates) {
    if (better(configuration.finalMean, best.finalMean) || (configuration.finalMean === best.finalMean && configuration.configIndex < best.configIndex)) best = configuration;
  }
  const pick: PickedValues = {};
  for (const [key, values] of Object.entries(swept)) {
    const shown = best.hparams[key];
    const value = values.find((candidate) => hparamValue(candidate) === shown);
    if (value === undefined) {
      throw new Error(
        `sweep ${results.sweep}: configuration ${best.configName} has ${key}=${JSON.stringify(shown)}, which is not one of the space's values (${values.map((v) => hparamValue(v)).join(', ')})`,
      );
    }
    pick[key] = value;
  }
  return { configName: best.configName, pick, searchScore: best.finalMean, stoppedAt: finished.length > 0 ? null : best.rungStep };
}

/** A pick's score on the fresh seeds: its final greedy evaluation per seed. */
export interface FreshScore {
  mean: number;
  /** Sample standard deviation over the fresh seeds (the seed-to-seed spread). */
  std: number;
  perSeed: number[];
}

/** The fresh-seed score from the fresh sweep's results.json; every seed must have finished. */
export function freshScore(results: Pick<SweepResults, 'sweep' | 'trials'>): FreshScore {
  const unfinished = results.trials.filter((trial) => trial.state !== 'done' || trial.final === null);
  if (unfinished.length > 0 || results.trials.length === 0) {
    throw new Error(
      `sweep ${results.sweep}: ${unfinished.length || 'no'} trial(s) did not finish (${unfinished.map((t) => `${t.name}: ${t.state}`).join(', ')}); rerun the benchmark with the same --logdir to finish them`,
    );
  }
  const perSeed = [...results.trials].sort((a, b) => a.seed - b.seed).map((trial) => trial.final!);
  const summary = meanStd(perSeed)!;
  return { mean: summary.mean, std: summary.std, perSeed };
}

/** One row of the table: a search (or the grid) and what it picked. */
export interface SearchRow {
  method: string;
  /** sweep_seed; null for the grid. */
  searchSeed: number | null;
  stepsSpent: number;
  pick: SweepPick;
  fresh: FreshScore;
}

/** The bar a search must reach: the grid's pick's fresh-seed mean minus its seed-to-seed spread (one standard deviation). */
export function scoreThreshold(grid: Pick<SearchRow, 'fresh'>): number {
  return grid.fresh.mean - grid.fresh.std;
}

export interface Verdict {
  met: boolean;
  text: string;
}

/** Whether a search met the target: a fresh-seed mean within the grid's spread, for at most 25% of the grid's steps. */
export function verdictOf(row: Pick<SearchRow, 'stepsSpent' | 'fresh'>, grid: Pick<SearchRow, 'stepsSpent' | 'fresh'>): Verdict {
  const threshold = scoreThreshold(grid);
  const fraction = row.stepsSpent / grid.stepsSpent;
  const misses: string[] = [];
  if (row.fresh.mean < threshold) misses.push(`score ${round(row.fresh.mean)} < ${round(threshold)}`);
  if (fraction > TARGET_STEP_FRACTION) misses.push(`${percent(fraction)} > ${percent(TARGET_STEP_FRACTION)} of the grid's steps`);
  return misses.length === 0 ? { met: true, text: 'meets the target' } : { met: false, text: `misses: ${misses.join('; ')}` };
}

const round = (value: number): string => value.toFixed(1);
const percent = (fraction: number): string => `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)}%`;

/** A pick as a table cell: its swept values, e.g. "learningRate=0.001 gamma=0.99 hiddenLayers=[64,64]". */
export function describePick(pick: PickedValues): string {
  return Object.entries(pick)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? `[${value.join(',')}]` : String(value)}`)
    .join(' ');
}

function describeScore(fresh: FreshScore): string {
  return `${round(fresh.mean)} ± ${round(fresh.std)}`;
}

/**
 * The benchmark's markdown table: the grid (the reference) first, then each search, and a
 * summary line. Scores are the final greedy evaluation's mean return on the fresh seeds, ± the
 * standard deviation over those seeds (not a confidence interval).
 */
export function formatTable(grid: SearchRow, searches: readonly SearchRow[], freshSeedList: readonly number[]): string {
  const header = '| method | search seed | env steps spent | % of grid | pick (swept values) | search score | fresh-seed score | verdict |';
  const rule = '|---|---|--:|--:|---|--:|--:|---|';
  const line = (row: SearchRow, verdict: string): string =>
    `| ${row.method} | ${row.searchSeed ?? '-'} | ${row.stepsSpent.toLocaleString('en-US')} | ${percent(row.stepsSpent / grid.stepsSpent)} | ${describePick(row.pick.pick)} | ${round(row.pick.searchScore)}${row.pick.stoppedAt === null ? '' : ` (at ${row.pick.stoppedAt})`} | ${describeScore(row.fresh)} | ${verdict} |`;
  const verdicts = searches.map((row) => verdictOf(row, grid));
  const met = verdicts.filter((verdict) => verdict.met).length;
  const fractions = searches.map((row) => row.stepsSpent / grid.stepsSpent).sort((a, b) => a - b);
  const median = fractions.length === 0 ? null : (fractions[Math.floor((fractions.length - 1) / 2)]! + fractions[Math.ceil((fractions.length - 1) / 2)]!) / 2;
  return [
    header,
    rule,
    line(grid, `reference: bar = ${round(grid.fresh.mean)} - ${round(grid.fresh.std)} = ${round(scoreThreshold(grid))}`),
    ...searches.map((row, i) => line(row, verdicts[i]!.text)),
    '',
    `Fresh-seed score: final greedy evaluation (mean return) on seeds ${freshSeedList.join(', ')}, mean ± standard deviation over those seeds (no bootstrap interval). ` +
      `Target: a fresh-seed mean at least the grid pick's mean minus its standard deviation, for at most ${percent(TARGET_STEP_FRACTION)} of the grid's environment steps.`,
    `${met} of ${searches.length} searches met the target${median === null ? '' : `; median ${percent(median)} of the grid's environment steps`}.`,
  ].join('\n');
}
