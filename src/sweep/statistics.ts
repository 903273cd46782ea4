/**
 * Statistics of a configuration's scores over its seeds, after rliable (Agarwal et al., "Deep RL
 * at the Edge of the Statistical Precipice", NeurIPS 2021): the interquartile mean, percentile
 * bootstrap confidence intervals and the probability of improvement. Written here because no
 * well-kept npm package does the IQM with a seeded, reproducible bootstrap (simple-statistics and
 * jStat cover means, quantiles and the std, not scipy's trimmed mean with a bootstrap interval
 * drawn from a seed we control). rliable's stratified bootstrap resamples runs within each
 * task; with one task, as here, that is the plain bootstrap over seeds.
 *
 * Values may hold +Infinity or -Infinity (a run that never reached a threshold scores +Infinity
 * steps): order statistics, the IQM and the probability of improvement treat it as worse than any
 * finite value, the mean becomes infinite, and the std is NaN.
 */
import { Rng } from '../util/random.js';

/** A closed interval [low, high]. */
export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapOptions {
  /** Number of bootstrap resamples. */
  resamples?: number;
  /** Coverage of the interval, e.g. 0.95. */
  confidence?: number;
  /** Seed of the resampling, so the same values always give the same interval. */
  seed?: number;
}

/** rliable draws 50000 resamples; 2000 puts the 2.5% and 97.5% percentiles within a few hundredths of a std of their limit, at a cost a report of 1000 trials does not feel. */
export const BOOTSTRAP_RESAMPLES = 2000;
export const CONFIDENCE = 0.95;
/** One fixed seed: every sample of the same size is resampled with the same indices, so results are reproducible and comparisons between configurations share their noise. */
export const BOOTSTRAP_SEED = 0;
/** Below this many values an interval is marked rough: a bootstrap of 2-4 seeds underestimates the spread. */
export const ROUGH_BELOW = 5;

/** What the statistics of a sample are. */
export interface SampleStatistics {
  n: number;
  mean: number;
  median: number;
  /** Interquartile mean: the mean of the middle half (scipy's trim_mean(values, 0.25)). */
  iqm: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  std: number;
  min: number;
  max: number;
  /** Percentile bootstrap intervals of the mean and of the IQM; null for fewer than 2 values. */
  meanCi: Interval | null;
  iqmCi: Interval | null;
  /** Fewer than ROUGH_BELOW values: the intervals are rough. */
  rough: boolean;
}

function sorted(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

function requireValues(values: ArrayLike<number>, what: string): void {
  if (values.length === 0) throw new RangeError(`${what} of no values`);
}

/** Arithmetic mean. */
export function mean(values: ArrayLike<number>): number {
  requireValues(values, 'mean');
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Sample standard deviation (divides by n - 1); 0 for one value, NaN when a value is infinite. */
export function sampleStd(values: ArrayLike<number>): number {
  requireValues(values, 'std');
  if (values.length === 1) return Number.isFinite(values[0]!) ? 0 : Number.NaN;
  const centre = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - centre) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

/**
 * The q-quantile (0 <= q <= 1) of sorted values, interpolated linearly between order statistics
 * (numpy's default, "type 7"). An infinite neighbour is returned as is rather than multiplied by 0.
 */
export function quantileOfSorted(values: ArrayLike<number>, q: number): number {
  requireValues(values, 'quantile');
  const position = q * (values.length - 1);
  const below = Math.floor(position);
  const fraction = position - below;
  const low = values[below]!;
  if (fraction === 0 || below + 1 >= values.length) return low;
  const high = values[below + 1]!;
  return low === high ? low : low + (high - low) * fraction;
}

export function median(values: readonly number[]): number {
  return quantileOfSorted(sorted(values), 0.5);
}

/** The mean of sorted values without the lowest and highest floor(n/4) (scipy's trim_mean(values, 0.25), which rliable's IQM is). */
function interquartileMeanOfSorted(values: ArrayLike<number>): number {
  const cut = Math.floor(0.25 * values.length);
  let sum = 0;
  for (let i = cut; i < values.length - cut; i++) sum += values[i]!;
  return sum / (values.length - 2 * cut);
}

/** Interquartile mean: n = 4 averages the middle 2, n = 5 the middle 3, n < 4 all of them. */
export function interquartileMean(values: readonly number[]): number {
  requireValues(values, 'IQM');
  return interquartileMeanOfSorted(sorted(values));
}

/**
 * Percentile bootstrap intervals of the mean and of the IQM of `values`, from one set of seeded
 * resamples (drawn with replacement, each of n values): the (1 - confidence) / 2 and
 * (1 + confidence) / 2 quantiles of each statistic over the resamples.
 */
function bootstrapMeanAndIqm(values: readonly number[], options: BootstrapOptions = {}): { mean: Interval; iqm: Interval } {
  const { resamples = BOOTSTRAP_RESAMPLES, confidence = CONFIDENCE, seed = BOOTSTRAP_SEED } = options;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be an integer >= 1, got ${resamples}`);
  requireValues(values, 'bootstrap');
  const rng = new Rng(seed);
  const n = values.length;
  // Below 4 values the IQM trims nothing: it is the mean, and no resample needs sorting.
  const trims = Math.floor(0.25 * n) > 0;
  const resample = new Float64Array(n);
  const means = new Float64Array(resamples);
  const iqms = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const value = values[rng.nextInt(n)]!;
      resample[i] = value;
      sum += value;
    }
    means[r] = sum / n;
    iqms[r] = trims ? interquartileMeanOfSorted(resample.sort()) : means[r]!;
  }
  const tail = (1 - confidence) / 2;
  const interval = (estimates: Float64Array): Interval => {
    estimates.sort();
    return { low: quantileOfSorted(estimates, tail), high: quantileOfSorted(estimates, 1 - tail) };
  };
  return { mean: interval(means), iqm: interval(iqms) };
}

/** Percentile bootstrap interval of the mean. */
export function bootstrapMeanInterval(values: readonly number[], options?: BootstrapOptions): Interval {
  return bootstrapMeanAndIqm(values, options).mean;
}

/** Percentile bootstrap interval of the interquartile mean. */
export function bootstrapIqmInterval(values: readonly number[], options?: BootstrapOptions): Interval {
  return bootstrapMeanAndIqm(values, options).iqm;
}

/** Every statistic of a sample; null for no values. The intervals come from one set of resamples. */
export function describeSample(values: readonly number[], options?: BootstrapOptions): SampleStatistics | null {
  if (values.length === 0) return null;
  const ordered = sorted(values);
  const intervals = values.length >= 2 ? bootstrapMeanAndIqm(values, options) : null;
  return {
    n: values.length,
    mean: mean(values),
    median: quantileOfSorted(ordered, 0.5),
    iqm: interquartileMeanOfSorted(ordered),
    std: sampleStd(values),
    min: ordered[0]!,
    max: ordered[ordered.length - 1]!,
    meanCi: intervals?.mean ?? null,
    iqmCi: intervals?.iqm ?? null,
    rough: values.length < ROUGH_BELOW,
  };
}

/**
 * Probability of improvement P(X > Y) of a run of X over a run of Y, ties counting one half:
 * the Mann-Whitney U statistic of X over Y divided by n·m (rliable's probability_of_improvement
 * for one task). Larger values are better; negate both samples for a goal to minimise.
 */
export function probabilityOfImprovement(x: readonly number[], y: readonly number[]): number {
  requireValues(x, 'probability of improvement');
  requireValues(y, 'probability of improvement');
  let wins = 0;
  for (const a of x) for (const b of y) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (x.length * y.length);
}

/** Whether two intervals share a point. */
export function intervalsOverlap(a: Interval, b: Interval): boolean {
  return a.low <= b.high && b.low <= a.high;
}
