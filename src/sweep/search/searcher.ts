/**
 * The searcher side of an adaptive sweep (Ray Tune's split): a searcher proposes
 * configurations and learns from their results; a trial scheduler (elsewhere)
 * decides continue/pause/stop on intermediate results. Suggestions are a pure
 * function of the sweep file, its sweep_seed, the configuration's index and the
 * observations passed in, so a sweep's journal replays to the same search.
 */
import type { ParamValue, SweepSpec } from '../spec.js';
import { GridSearcher } from './grid.js';
import { RandomSearcher } from './random.js';
import { configurationBudget } from './space.js';
import { TpeSearcher } from './tpe.js';

/** One configuration: the swept parameters' values by RunConfig key (the seed is apart). */
export type Assignment = Record<string, ParamValue>;

/** What a searcher learns about one configuration so far. */
export interface Observation {
  /** 0-based index of the configuration in the order it was suggested. */
  configIndex: number;
  assignment: Assignment;
  /** The configuration's metric (mean over its seeds), oriented so that larger is better (negated for goal: minimize); null when it failed or has no evaluation. */
  score: number | null;
  /** The environment step the score was measured at: a rung for a configuration stopped early, the budget for one run to the end. */
  step: number;
}

export interface Searcher {
  /**
   * The configuration to try as the `configIndex`-th, given what is known of the earlier
   * ones; null when the searcher has no more (the grid is exhausted, run_cap is reached).
   * `pending`: configurations suggested earlier that have no observation yet (running);
   * a searcher that learns never suggests one of them (or an observed one) again. Grid and
   * random ignore both lists: their configIndex-th configuration is fixed.
   * Deterministic: the same arguments always give the same answer.
   */
  suggest(configIndex: number, observations: readonly Observation[], pending?: readonly Assignment[]): Assignment | null;
}

/** The searcher of the spec's method: grid, random or bayes (TPE). */
export function createSearcher(spec: SweepSpec): Searcher {
  switch (spec.method) {
    case 'grid':
      return new GridSearcher(spec);
    case 'random':
      return new RandomSearcher(spec, configurationBudget(spec));
    case 'bayes':
      return new TpeSearcher(spec);
  }
}
