/**
 * The statistics the sweep report draws beyond the results table (after rliable): per
 * configuration the IQM of its seeds' curves at each step with a bootstrap band, and the
 * performance profile of its trials' scores (the fraction of runs better than each score).
 * Pure functions of what report-data.ts has read.
 */
import type { CurvePoint as ReportCurvePoint, SeedSeries } from './report-data.js';
import type { MetricGoal } from './metric-summary.js';
import { type BootstrapOptions, describeSample } from './statistics.js';

/** Resamples per point of an IQM curve: its band is a picture of up to 100 points per configuration, where 500 resamples place the edges well within a line's width, at a quarter of the cost of the tables' 2000. */
export const CURVE_RESAMPLES = 500;

/**
 * A configuration's curve as the IQM over its seeds, bin by bin over the seeds that have the bin,
 * with the 95% percentile bootstrap interval of that IQM as the band (a single seed's bin has
 * no band: low = high = its value).
 */
export function iqmCurve(series: readonly SeedSeries[], options: BootstrapOptions = { resamples: CURVE_RESAMPLES }): ReportCurvePoint[] {
  const byBin = new Map<number, { steps: number[]; values: number[] }>();
  for (const seed of series) {
    for (let i = 0; i < seed.bins.length; i++) {
      let entry = byBin.get(seed.bins[i]!);
      if (!entry) byBin.set(seed.bins[i]!, (entry = { steps: [], values: [] }));
      entry.steps.push(seed.steps[i]!);
      entry.values.push(seed.values[i]!);
    }
  }
  return [...byBin.keys()]
    .sort((a, b) => a - b)
    .map((bin) => {
      const { steps, values } = byBin.get(bin)!;
      const statistics = describeSample(values, options)!;
      return {
        step: Math.round(steps.reduce((a, b) => a + b, 0) / steps.length),
        center: statistics.iqm,
        low: statistics.iqmCi?.low ?? statistics.iqm,
        high: statistics.iqmCi?.high ?? statistics.iqm,
        seeds: values.length,
      };
    });
}

/** One configuration's line of the performance profile: its finished trials' scores, ascending. */
export interface ProfileSeries {
  configName: string;
  configIndex: number;
  /** Ascending; +Infinity for runs that never reached the threshold. */
  scores: number[];
}

export interface PerformanceProfile {
  goal: MetricGoal;
  /** What a score is, e.g. "final eval/return_mean". */
  description: string;
  series: ProfileSeries[];
}

/**
 * The fraction of a configuration's runs better than τ: with goal maximize, score > τ (rliable's
 * run-score distribution); with minimize, score < τ (for steps_to_threshold: the runs that
 * reached the threshold in fewer than τ steps; one that never did never counts).
 */
export function fractionBetter(scores: readonly number[], tau: number, goal: MetricGoal): number {
  if (scores.length === 0) return 0;
  const better = scores.filter((score) => (goal === 'maximize' ? score > tau : score < tau)).length;
  return better / scores.length;
}

/** The profile of `configurations` (the charted ones, in ranked order) from their trials' scores. */
export function performanceProfile(
  configurations: ReadonlyArray<{ configName: string; configIndex: number }>,
  trials: ReadonlyArray<{ configIndex: number; state: string; score: number | null }>,
  goal: MetricGoal,
  description: string,
): PerformanceProfile {
  const series = configurations
    .map((configuration) => ({
      configName: configuration.configName,
      configIndex: configuration.configIndex,
      scores: trials
        .filter((trial) => trial.configIndex === configuration.configIndex && trial.state === 'done' && trial.score !== null)
        .map((trial) => trial.score!)
        .sort((a, b) => a - b),
    }))
    .filter((entry) => entry.scores.length > 0);
  return { goal, description, series };
}
