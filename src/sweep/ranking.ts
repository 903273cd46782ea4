/**
 * Ranking configurations with honesty: each configuration's trial scores over its seeds are
 * summarised (IQM, mean, median, std, extremes, bootstrap intervals), the configurations are
 * ordered by IQM, and the verdict says which ones cannot be told apart from the best (their
 * IQM intervals overlap the best's) and how likely a run of the best beats a run of the
 * runner-up (probability of improvement). Pure: `sweep results`, the report and a confirmation
 * on fresh seeds all rank through rankByScores.
 *
 * Interval overlap is a conservative test: two configurations whose intervals overlap may still
 * differ, but ones whose intervals are apart differ at about the 95% level or better.
 */
import type { MetricGoal } from './metric-summary.js';
import { type BootstrapOptions, type SampleStatistics, describeSample, intervalsOverlap, probabilityOfImprovement } from './statistics.js';

/** What ranking needs of a configuration: its index (the last tie-break) and its finished seeds' scores. */
export interface ScoredGroup {
  configIndex: number;
  /** One score per finished seed, in the metric's units; +Infinity for a run that never reached a threshold. */
  scores: readonly number[];
  /**
   * Null or absent for scores of runs that reached their end; else the step of the rung where an
   * adaptive sweep stopped them. Such groups rank below finished ones, higher rungs first: reaching
   * a rung means beating the others at the rungs below, and scores at different steps do not compare.
   */
  rungStep?: number | null;
}

/** What ranking adds to a configuration. */
export interface Ranked {
  /** 1 = best; null when it has no score. */
  rank: number | null;
  best: boolean;
  /** The statistics of its scores over seeds; null when it has none. */
  score: SampleStatistics | null;
  /** Seeds that never reached the threshold (steps_to_threshold); 0 for other summaries. */
  notSolved: number;
  /** Whether its IQM interval overlaps the best's; null for the best itself, without a score, or when either has fewer than 2 seeds (no interval). */
  tiedWithBest: boolean | null;
  /** P(a run of the best beats a run of this one), ties counting one half; null for the best itself and without a score. */
  probabilityBestBeats: number | null;
}

/** +1 where larger scores are better, -1 where smaller are. */
function direction(goal: MetricGoal): 1 | -1 {
  return goal === 'maximize' ? 1 : -1;
}

/** Scores turned so that larger is better. */
function oriented(scores: readonly number[], goal: MetricGoal): number[] {
  return scores.map((score) => direction(goal) * score);
}

/** Orders two ranked groups: higher IQM by the goal first, then a smaller share of unsolved seeds, then the mean, then the configuration's index. */
function compareGroups(goal: MetricGoal, a: ScoredGroup & { score: SampleStatistics | null; notSolved: number }, b: ScoredGroup & { score: SampleStatistics | null; notSolved: number }): number {
  if ((a.score === null) !== (b.score === null)) return a.score === null ? 1 : -1;
  const rungA = a.rungStep ?? null;
  const rungB = b.rungStep ?? null;
  if (rungA !== rungB) return rungA === null ? -1 : rungB === null ? 1 : rungB - rungA;
  if (a.score !== null && b.score !== null) {
    const sign = direction(goal);
    if (a.score.iqm !== b.score.iqm) return sign * (b.score.iqm - a.score.iqm) > 0 ? 1 : -1;
    const unsolved = a.notSolved / a.score.n - b.notSolved / b.score.n;
    if (unsolved !== 0) return unsolved;
    if (a.score.mean !== b.score.mean) return sign * (b.score.mean - a.score.mean) > 0 ? 1 : -1;
  }
  return a.configIndex - b.configIndex;
}

/** The groups with their statistics, ordered best first, the best marked and each compared with it. */
export function rankByScores<T extends ScoredGroup>(groups: readonly T[], goal: MetricGoal, options?: BootstrapOptions): Array<T & Ranked> {
  const described = groups.map((group) => ({
    ...group,
    score: describeSample(group.scores, options),
    notSolved: group.scores.filter((score) => score === Number.POSITIVE_INFINITY).length,
  }));
  described.sort((a, b) => compareGroups(goal, a, b));
  const leader = described[0]?.score ? described[0] : undefined;
  let rank = 0;
  return described.map((group): T & Ranked => {
    const isBest = group === leader;
    // Scores at another step than the best's (a rung) are not compared with it: the scheduler already did.
    const comparable = leader !== undefined && !isBest && group.score !== null && (group.rungStep ?? null) === (leader.rungStep ?? null);
    const belowAtRung = leader !== undefined && !isBest && group.score !== null && !comparable;
    return {
      ...group,
      rank: group.score === null ? null : ++rank,
      best: isBest,
      tiedWithBest: belowAtRung ? false : comparable && leader.score!.iqmCi && group.score!.iqmCi ? intervalsOverlap(leader.score!.iqmCi, group.score!.iqmCi) : null,
      probabilityBestBeats: comparable ? probabilityOfImprovement(oriented(leader.scores, goal), oriented(group.scores, goal)) : null,
    };
  });
}

/** A ranked configuration as the verdict reads it. */
export type RankedConfiguration = Ranked & { configName: string };

/** What the ranking lets one say about the best configuration. */
export interface RankingVerdict {
  /** The best configuration's name; null when none has a score. */
  best: string | null;
  /** Configurations whose IQM interval overlaps the best's: not distinguishable from it. */
  tiedWithBest: string[];
  /** Configurations that cannot be compared with the best: it or they have fewer than 2 seeds. */
  untested: string[];
  runnerUp: string | null;
  /** P(a run of the best beats a run of the runner-up); null without a runner-up. */
  probabilityOfImprovement: number | null;
  /** The best's intervals come from fewer than 5 seeds. */
  rough: boolean;
}

/** The verdict of configurations ranked by rankByScores (in their ranked order). */
export function rankingVerdict(configurations: readonly RankedConfiguration[]): RankingVerdict {
  const best = configurations.find((c) => c.best);
  const runnerUp = configurations.find((c) => c.rank === 2);
  const others = configurations.filter((c) => !c.best && c.score !== null);
  return {
    best: best?.configName ?? null,
    tiedWithBest: others.filter((c) => c.tiedWithBest === true).map((c) => c.configName),
    untested: best ? others.filter((c) => c.tiedWithBest === null).map((c) => c.configName) : [],
    runnerUp: runnerUp?.configName ?? null,
    probabilityOfImprovement: runnerUp?.probabilityBestBeats ?? null,
    rough: best?.score?.rough ?? false,
  };
}
