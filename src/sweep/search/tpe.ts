/**
 * method: bayes — the tree-structured Parzen estimator (Bergstra et al. 2011), as Optuna's
 * TPESampler does it by default (independent per parameter, defaults n_startup_trials 10,
 * n_ei_candidates 24, gamma(n) = min(ceil(0.1 n), 25)):
 *  1. Until n_startup_trials configurations have been observed, draw from the prior (as random search).
 *  2. Then rank the observations, call the best gamma(n) "good" and the rest "bad", fit a
 *     Parzen estimator l(x) to the good ones and g(x) to the bad ones for each parameter
 *     (parzen.ts), draw n_ei_candidates values from l, and suggest the values with the largest
 *     l(x) / g(x).
 * A configuration already tried or pending is never suggested again (the same configuration and
 * seed give the same run): the next best combination of candidates is, then a prior draw.
 *
 * Ranking, best first (Optuna ranks complete trials first and pruned ones by their last step):
 *  - a configuration with a score ranks above one without (failed, or no evaluation: bad);
 *  - one run to the end (measured at its steps) ranks above one stopped early, whatever the
 *    scores, and one stopped at a later step above one stopped at an earlier step, since
 *    returns at different points of training do not compare;
 *  - then the larger score (goal-oriented) ranks higher; ties go to the earlier configuration.
 *
 * Every draw comes from an Rng seeded by (sweep_seed, configIndex), so suggest() is a pure
 * function of the spec, the index, the observations and the pending configurations.
 */
import { defaultRunConfig } from '../../train/config.js';
import { deriveSeed, Rng } from '../../util/random.js';
import { type BayesSettings, DEFAULT_BAYES, type Parameter, type ParamValue, type SweepSpec } from '../spec.js';
import { GridSearcher } from './grid.js';
import { categoricalEstimator, type Estimator, logDensity, numericEstimator, sampleEstimator } from './parzen.js';
import type { Assignment, Observation, Searcher } from './searcher.js';
import { assignmentKey, domainValueAt, drawValue, qGrid, roundDraw, sameValue, spaceSize, sweptParameters, tidy } from './space.js';

/** Optuna's default gamma: how many of n observations are "good". */
export function goodCount(observations: number): number {
  return Math.min(Math.ceil(0.1 * observations), 25);
}

/**
 * The observations best first, by the rule in this file's comment. `runLength` gives a
 * configuration's steps, where a run to the end is measured (steps may be swept).
 */
export function rankObservations(observations: readonly Observation[], runLength: (assignment: Assignment) => number): Observation[] {
  // How far a configuration got: Infinity when it ran to the end, so all of those compare by score alone.
  const reached = (observation: Observation): number => (observation.step >= runLength(observation.assignment) ? Infinity : observation.step);
  return [...observations].sort((a, b) => {
    if ((a.score === null) !== (b.score === null)) return a.score === null ? 1 : -1;
    if (a.score !== null && b.score !== null) {
      const [reachedA, reachedB] = [reached(a), reached(b)];
      if (reachedA !== reachedB) return reachedA < reachedB ? 1 : -1;
      if (a.score !== b.score) return b.score - a.score;
    }
    return a.configIndex - b.configIndex;
  });
}

/** A configuration's steps: its own when steps is swept, else the file's one value or the default. */
function runLengthOf(spec: SweepSpec): (assignment: Assignment) => number {
  const parameter = spec.parameters.find((candidate) => candidate.key === 'steps');
  // Unswept, steps has one value: the first of its domain (swept, the assignment holds it).
  const fixed = parameter ? (domainValueAt(parameter, 0) as number) : defaultRunConfig().steps;
  return (assignment) => (typeof assignment.steps === 'number' ? assignment.steps : fixed);
}

/** One swept parameter as TPE sees it: internal values are numbers. */
type Axis =
  | { parameter: Parameter; kind: 'continuous'; low: number; high: number; log: boolean; min: number; max: number }
  | { parameter: Parameter; kind: 'discrete'; low: number; high: number; step: number }
  | { parameter: Parameter; kind: 'categorical'; choices: ParamValue[] };

function axisOf(parameter: Parameter): Axis {
  if (parameter.kind !== 'range') return { parameter, kind: 'categorical', choices: parameter.kind === 'values' ? parameter.values : [parameter.value] };
  const { min, max, distribution } = parameter;
  switch (distribution) {
    case 'uniform':
      return { parameter, kind: 'continuous', low: min, high: max, log: false, min, max };
    case 'log_uniform_values':
      return { parameter, kind: 'continuous', low: Math.log(min), high: Math.log(max), log: true, min, max };
    case 'int_uniform':
      return { parameter, kind: 'discrete', low: min, high: max, step: 1 };
    case 'q_uniform': {
      // Grid indices: value = index * q, the multiples of q the grid and random search take.
      const q = parameter.q!;
      const { first, last } = qGrid(min, max, q);
      return { parameter, kind: 'discrete', low: first, high: last, step: q };
    }
  }
}

/** The internal value of an observed value, undefined when it is outside the axis (a changed file). */
function internalOf(axis: Axis, value: ParamValue | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (axis.kind === 'categorical') {
    const index = axis.choices.findIndex((choice) => sameValue(choice, value));
    return index < 0 ? undefined : index;
  }
  if (typeof value !== 'number') return undefined;
  if (axis.kind === 'continuous') {
    if (!(value >= axis.min && value <= axis.max)) return undefined;
    return axis.log ? Math.log(value) : value;
  }
  const index = Math.round(value / axis.step);
  return gridValue(axis.step, index) === value && index >= axis.low && index <= axis.high ? index : undefined;
}

/** The value of a grid index: index * step (an integer for int_uniform, tidied for q_uniform). */
function gridValue(step: number, index: number): number {
  return step === 1 ? index : tidy(index * step);
}

/** The parameter's value at an internal value; continuous ones keep 5 significant digits, as random draws do. */
function externalOf(axis: Axis, internal: number): ParamValue {
  if (axis.kind === 'categorical') return axis.choices[internal]!;
  if (axis.kind === 'discrete') return gridValue(axis.step, internal);
  return roundDraw(axis.log ? Math.exp(internal) : internal, axis.min, axis.max);
}

function estimatorOf(axis: Axis, observed: readonly number[]): Estimator {
  return axis.kind === 'categorical' ? categoricalEstimator(axis.choices.length, observed) : numericEstimator(axis, observed);
}

interface Candidate {
  value: ParamValue;
  /** log l(x) - log g(x). */
  score: number;
}

/** At most this many candidate combinations are looked at for one not tried yet. */
const MAX_COMBINATIONS = 4096;
/** Prior draws tried for an untried configuration before a finite space is enumerated. */
const MAX_PRIOR_DRAWS = 1000;

export class TpeSearcher implements Searcher {
  private readonly swept: Parameter[];
  private readonly axes: Axis[];
  private readonly settings: BayesSettings;
  private readonly space: number;
  private readonly runLength: (assignment: Assignment) => number;

  constructor(private readonly spec: SweepSpec) {
    this.runLength = runLengthOf(spec);
    this.swept = sweptParameters(spec);
    this.axes = this.swept.map(axisOf);
    this.settings = spec.bayes ?? DEFAULT_BAYES;
    this.space = spaceSize(spec);
  }

  /**
   * `pending`: configurations suggested earlier whose results are not in yet; they are not
   * learnt from (Optuna's default, no constant liar) but never suggested again.
   */
  suggest(configIndex: number, observations: readonly Observation[], pending: readonly Assignment[] = []): Assignment | null {
    if (!Number.isSafeInteger(configIndex) || configIndex < 0 || configIndex >= (this.spec.runCap ?? 0)) return null;
    const rng = new Rng(deriveSeed(this.spec.sweepSeed, `bayes/${configIndex}`));
    const taken = new Set([...observations.map((observation) => observation.assignment), ...pending].map((assignment) => assignmentKey(this.swept, assignment)));
    if (observations.length < this.settings.nStartupTrials) return this.priorDraw(rng, taken);

    const ranked = rankObservations(observations, this.runLength);
    const scored = ranked.filter((observation) => observation.score !== null).length;
    const good = Math.min(goodCount(observations.length), scored);
    const byAge = (a: Observation, b: Observation): number => a.configIndex - b.configIndex;
    const below = ranked.slice(0, good).sort(byAge);
    const above = ranked.slice(good).sort(byAge);
    const candidates = this.axes.map((axis) => this.candidates(axis, below, above, rng));
    return this.bestUntried(candidates, taken) ?? this.priorDraw(rng, taken);
  }

  /** An axis's distinct candidate values, best l/g first. */
  private candidates(axis: Axis, below: readonly Observation[], above: readonly Observation[], rng: Rng): Candidate[] {
    const observed = (group: readonly Observation[]): number[] =>
      group.map((observation) => internalOf(axis, observation.assignment[axis.parameter.key])).filter((value): value is number => value !== undefined);
    const good = estimatorOf(axis, observed(below));
    const bad = estimatorOf(axis, observed(above));
    const seen = new Set<string>();
    const candidates: Candidate[] = [];
    for (let i = 0; i < this.settings.nEiCandidates; i++) {
      const value = externalOf(axis, sampleEstimator(good, rng));
      const id = JSON.stringify(value);
      if (seen.has(id)) continue;
      seen.add(id);
      // Scored at the value suggested (after rounding), so the score is that of what runs.
      const x = internalOf(axis, value)!;
      candidates.push({ value, score: logDensity(good, x) - logDensity(bad, x) });
    }
    return candidates
      .map((candidate, order) => ({ candidate, order }))
      .sort((a, b) => b.candidate.score - a.candidate.score || a.order - b.order)
      .map(({ candidate }) => candidate);
  }

  /**
   * The combination of candidates with the largest total l/g that is not taken: the per-axis
   * best when untaken (exactly Optuna's independent choice), else the next best, found best-first.
   */
  private bestUntried(candidates: readonly Candidate[][], taken: ReadonlySet<string>): Assignment | null {
    const total = (indices: readonly number[]): number => indices.reduce((sum, index, axis) => sum + candidates[axis]![index]!.score, 0);
    const frontier = new MaxHeap<number[]>((a, b) => total(a) - total(b) || compareIndices(b, a));
    const start = candidates.map(() => 0);
    frontier.push(start);
    const visited = new Set([start.join(',')]);
    for (let popped = 0; popped < MAX_COMBINATIONS && frontier.size > 0; popped++) {
      const indices = frontier.pop()!;
      const assignment = Object.fromEntries(indices.map((index, axis) => [this.axes[axis]!.parameter.key, candidates[axis]![index]!.value])) as Assignment;
      if (!taken.has(assignmentKey(this.swept, assignment))) return assignment;
      indices.forEach((index, axis) => {
        if (index + 1 >= candidates[axis]!.length) return;
        const next = [...indices];
        next[axis] = index + 1;
        const id = next.join(',');
        if (visited.has(id)) return;
        visited.add(id);
        frontier.push(next);
      });
    }
    return null;
  }

  /** A draw from the prior that is not taken; null when every configuration of a finite space is. */
  private priorDraw(rng: Rng, taken: ReadonlySet<string>): Assignment | null {
    for (let attempt = 0; attempt < MAX_PRIOR_DRAWS; attempt++) {
      const assignment = Object.fromEntries(this.swept.map((parameter) => [parameter.key, drawValue(parameter, rng)])) as Assignment;
      if (!taken.has(assignmentKey(this.swept, assignment))) return assignment;
    }
    if (!Number.isFinite(this.space)) return null;
    // A nearly exhausted finite space: the first untaken configuration in grid order.
    const grid = new GridSearcher(this.spec);
    for (let index = 0; index < grid.size; index++) {
      const assignment = grid.suggest(index)!;
      if (!taken.has(assignmentKey(this.swept, assignment))) return assignment;
    }
    return null;
  }
}

function compareIndices(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** A binary max-heap under `compare` (a total order, so pops are deterministic). */
class MaxHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) <= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let largest = i;
        if (left < items.length && this.compare(items[left]!, items[largest]!) > 0) largest = left;
        if (right < items.length && this.compare(items[right]!, items[largest]!) > 0) largest = right;
        if (largest === i) break;
        [items[i], items[largest]] = [items[largest]!, items[i]!];
        i = largest;
      }
    }
    return top;
  }
}
