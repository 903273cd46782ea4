/**
 * The controller of an adaptive sweep (Ray Tune's split): the searcher suggests
 * configurations, a SegmentRunner runs each configuration's trials (one per seed) to
 * its next rung, the trial scheduler (src/sweep/search/asha.ts) answers what a free
 * slot does next: promote a paused configuration (its trials resume from their
 * checkpoints to the next rung), start a new suggestion, or stop what is left paused.
 *
 * Every suggestion and decision is written to the journal before it acts, so the search
 * is a replay of the journal plus what comes next: a rerun after a kill continues with
 * the same suggestions and decisions, no configuration repeated or lost, and the
 * configurations that were running resume from their checkpoints.
 */
import { ConfigError } from '../train/config.js';
import type { Trial } from './expand.js';
import type { Journal, JournalEntry } from './journal.js';
import { type ConfigStanding, type SchedulerEvent, type SchedulerSettings, SchedulerState } from './search/asha.js';
import type { Assignment, Observation, Searcher } from './search/searcher.js';
import type { MetricGoal } from './spec.js';

/** How one trial's segment ended; `value`: its metric at the segment's last step as the run logged it (null: none there). */
export interface TrialSegmentResult {
  trial: Trial;
  state: 'paused' | 'done' | 'failed' | 'interrupted' | 'notStarted';
  value: number | null;
}

/** Runs the segments of configurations: where the trials run (child processes here, jobs on a cluster). */
export interface SegmentRunner {
  /**
   * Runs each trial to `stopAtStep`, pausing it there (exactly: a checkpoint at that step),
   * or to its end when that is its steps; a paused or interrupted run resumes from its checkpoint.
   */
  run(trials: readonly Trial[], stopAtStep: number): Promise<TrialSegmentResult[]>;
  /** Records that the scheduler stopped these paused trials for good at `step`. */
  markStopped(trials: readonly Trial[], step: number): Promise<void>;
  /** A Ctrl-C: asks the running trials to save a snapshot and stop (`now`: at once). Their segments then end interrupted. */
  stopAll(now: boolean): void;
}

export interface AdaptiveSearchOptions {
  searcher: Searcher;
  settings: SchedulerSettings;
  goal: MetricGoal;
  /** The trials of a configuration, one per seed (their names and indices are the sweep's). */
  trialsOf(configIndex: number, assignment: Assignment): Trial[];
  runner: SegmentRunner;
  journal: Journal;
  /** What identifies the search (file, space, searcher, scheduler): a journal of another search is refused. */
  searchIdentity: string;
  /** Trials at once (a configuration's seeds count one each). */
  concurrency: number;
  /** New trials exist (`all`: every trial so far, in index order): sweep.json grows. */
  trialsCreated(all: readonly Trial[], added: readonly Trial[]): Promise<void>;
  /** True once a stop was asked for: nothing new starts. */
  stopping(): boolean;
  log(line: string): void;
}

export interface AdaptiveOutcome {
  /** Every trial of the search so far, in index order. */
  trials: Trial[];
  configurations: ReadonlyArray<Readonly<ConfigStanding>>;
  /** How each trial's latest segment in this run ended (trials not run in this run are absent). */
  trialStates: Map<string, TrialSegmentResult['state']>;
}

/** A journal of a different search than this one's. */
export class JournalMismatchError extends ConfigError {
  override name = 'JournalMismatchError';
}

/** Refuses a journal that holds another search (the sweep file's search changed since it ran); an empty one is any search's. */
export function checkJournalSearch(journal: Journal, searchIdentity: string): void {
  const header = journal.entries[0];
  if (header === undefined || (header.type === 'search' && header.search === searchIdentity)) return;
  throw new JournalMismatchError(
    `${journal.file} is the journal of another search (${header.type === 'search' ? header.search : 'no search line'}), not of this one (${searchIdentity}): ` +
      'the sweep file changed its search space, method or early_terminate since it ran. Give the sweep another name (or --logdir) to start a new search, ' +
      'or restore the file as it was to continue the old one.',
  );
}

/** The search the journal holds: suggestions by configuration, the scheduler's state, whether the searcher ran out. */
export interface ReplayedSearch {
  assignments: Map<number, Assignment>;
  state: SchedulerState;
  exhausted: boolean;
  /** The latest result of each configuration. */
  latest: Map<number, { step: number; score: number | null }>;
}

/** The scheduler's event of a journal entry (none for the header and the searcher's end). */
function schedulerEvent(entry: JournalEntry): SchedulerEvent | undefined {
  switch (entry.type) {
    case 'suggested':
      return { type: 'started', configIndex: entry.configIndex };
    case 'result':
      return { type: 'result', configIndex: entry.configIndex, step: entry.step, score: entry.score };
    case 'promoted':
    case 'stopped':
      return { type: entry.type, configIndex: entry.configIndex, step: entry.step };
    default:
      return undefined;
  }
}

/** Rebuilds the search from its journal's entries: a pure reduction. */
export function replaySearch(settings: SchedulerSettings, entries: readonly JournalEntry[]): ReplayedSearch {
  const replayed: ReplayedSearch = { assignments: new Map(), state: new SchedulerState(settings), exhausted: false, latest: new Map() };
  for (const entry of entries) {
    if (entry.type === 'suggested') replayed.assignments.set(entry.configIndex, entry.assignment);
    if (entry.type === 'exhausted') replayed.exhausted = true;
    if (entry.type === 'result') replayed.latest.set(entry.configIndex, { step: entry.step, score: entry.score });
    const event = schedulerEvent(entry);
    if (event) replayed.state.apply(event);
  }
  return replayed;
}

/** One line on an adaptive search from its journal: configurations suggested, promotions, stops, whether the searcher is done. */
export function searchSummary(entries: readonly JournalEntry[]): string {
  const count = (type: JournalEntry['type']): number => entries.filter((entry) => entry.type === type).length;
  const suggested = count('suggested');
  const exhausted = entries.some((entry) => entry.type === 'exhausted');
  return (
    `search: ${suggested} configuration${suggested === 1 ? '' : 's'} suggested${exhausted ? ' (the searcher has no more)' : ''}, ` +
    `${count('result')} rung result${count('result') === 1 ? '' : 's'}, ${count('promoted')} promoted, ${count('stopped')} stopped early`
  );
}

/** What the searcher knows: each configuration's latest result (running ones without a result are left out). */
export function observationsOf(search: ReplayedSearch): Observation[] {
  const observations: Observation[] = [];
  for (const [configIndex, assignment] of search.assignments) {
    const latest = search.latest.get(configIndex);
    if (latest) observations.push({ configIndex, assignment, score: latest.score, step: latest.step });
  }
  return observations;
}

/** The configurations suggested that have no result yet (running): a searcher that learns suggests none of them again. */
export function pendingOf(search: ReplayedSearch): Assignment[] {
  return [...search.assignments].filter(([configIndex]) => !search.latest.has(configIndex)).map(([, assignment]) => assignment);
}

/**
 * A configuration's score at a rung: the mean of its seeds' values, negated for goal
 * minimize (the scheduler keeps larger as better); null when a seed failed or logged no value there.
 */
export function configurationScore(results: readonly TrialSegmentResult[], goal: MetricGoal): number | null {
  if (results.length === 0 || results.some((result) => result.state === 'failed' || result.value === null || !Number.isFinite(result.value))) return null;
  const mean = results.reduce((sum, result) => sum + result.value!, 0) / results.length;
  return goal === 'minimize' ? -mean : mean;
}

/** A point of a search's progress: the environment steps spent so far and the best metric found by then (null: none yet). */
export interface SearchProgressPoint {
  steps: number;
  /** The best configuration's metric (mean over seeds) among every result so far, at whatever rung. */
  bestAnyRung: number;
  /** The best among configurations run to the end; null before the first reached it. */
  bestAtEnd: number | null;
}

/**
 * How a search spent its budget, from its journal: after each result, the environment steps
 * spent by then (each configuration's steps since its last rung, times its seeds) and the
 * best metric found so far, in the file's orientation (scores of goal minimize negated back).
 */
export function searchProgress(entries: readonly JournalEntry[], seeds: number, endStep: number, goal: MetricGoal): SearchProgressPoint[] {
  const reached = new Map<number, number>();
  const points: SearchProgressPoint[] = [];
  let steps = 0;
  let bestAnyRung: number | null = null;
  let bestAtEnd: number | null = null;
  for (const entry of entries) {
    if (entry.type !== 'result') continue;
    steps += (entry.step - (reached.get(entry.configIndex) ?? 0)) * seeds;
    reached.set(entry.configIndex, entry.step);
    if (entry.score !== null) {
      bestAnyRung = Math.max(bestAnyRung ?? entry.score, entry.score);
      if (entry.step >= endStep) bestAtEnd = Math.max(bestAtEnd ?? entry.score, entry.score);
    }
    if (bestAnyRung === null) continue;
    const metric = (score: number): number => (goal === 'minimize' ? -score : score);
    points.push({ steps, bestAnyRung: metric(bestAnyRung), bestAtEnd: bestAtEnd === null ? null : metric(bestAtEnd) });
  }
  return points;
}

interface Completion {
  configIndex: number;
  step: number;
  results: TrialSegmentResult[];
}

/** Runs (or continues, from its journal) an adaptive search until the searcher and the scheduler have nothing left, or a stop. */
export async function runAdaptiveSearch(options: AdaptiveSearchOptions): Promise<AdaptiveOutcome> {
  const { journal, runner, settings } = options;
  if (journal.entries.length === 0) await journal.append({ type: 'search', search: options.searchIdentity });
  else checkJournalSearch(journal, options.searchIdentity);
  const search = replaySearch(settings, journal.entries);
  const { state } = search;
  const trialsByConfig = new Map<number, Trial[]>();
  for (const [configIndex, assignment] of search.assignments) trialsByConfig.set(configIndex, options.trialsOf(configIndex, assignment));
  const allTrials = (): Trial[] => [...trialsByConfig.values()].flat().sort((a, b) => a.index - b.index);
  await options.trialsCreated(allTrials(), allTrials());

  const trialStates = new Map<string, TrialSegmentResult['state']>();
  const inFlight = new Map<number, Promise<Completion>>();
  let committed = 0;
  const record = async (entry: JournalEntry): Promise<void> => {
    await journal.append(entry);
    if (entry.type === 'suggested') search.assignments.set(entry.configIndex, entry.assignment);
    if (entry.type === 'exhausted') search.exhausted = true;
    if (entry.type === 'result') search.latest.set(entry.configIndex, { step: entry.step, score: entry.score });
    const event = schedulerEvent(entry);
    if (event) state.apply(event);
  };
  const dispatch = (configIndex: number, step: number): void => {
    const trials = trialsByConfig.get(configIndex)!;
    committed += trials.length;
    inFlight.set(
      configIndex,
      runner.run(trials, step).then((results) => ({ configIndex, step, results })),
    );
  };

  // Stops the journal decided but a kill kept from being recorded in the trials' folders.
  for (const config of state.standings()) if (config.phase === 'stopped') await runner.markStopped(trialsByConfig.get(config.configIndex)!, config.step);
  // Segments that were running when the last run ended continue first (from their checkpoints).
  for (const config of state.standings()) if (config.phase === 'running' && !options.stopping()) dispatch(config.configIndex, config.target);

  for (;;) {
    while (!options.stopping() && committed < options.concurrency) {
      const action = state.nextAction(search.exhausted);
      if (action.type === 'promote') {
        await record({ type: 'promoted', configIndex: action.configIndex, step: action.step });
        options.log(`promoting configuration ${action.configIndex} to step ${action.step}`);
        dispatch(action.configIndex, action.step);
      } else if (action.type === 'new') {
        const configIndex = search.assignments.size;
        const assignment = options.searcher.suggest(configIndex, observationsOf(search), pendingOf(search));
        if (assignment === null) {
          await record({ type: 'exhausted', configIndex });
          continue;
        }
        // Made before the suggestion is recorded: a configuration the run refuses must not enter the journal.
        const trials = options.trialsOf(configIndex, assignment);
        await record({ type: 'suggested', configIndex, assignment });
        trialsByConfig.set(configIndex, trials);
        await options.trialsCreated(allTrials(), trials);
        dispatch(configIndex, state.nextRung(configIndex));
      } else if (action.type === 'stop') {
        for (const { configIndex, step } of action.configs) {
          await record({ type: 'stopped', configIndex, step });
          await runner.markStopped(trialsByConfig.get(configIndex)!, step);
        }
        options.log(`stopped ${action.configs.length} paused configuration${action.configs.length === 1 ? '' : 's'} at their rungs: nothing left would promote them`);
      } else {
        break;
      }
    }
    if (inFlight.size === 0) break;
    const completion = await Promise.race(inFlight.values());
    inFlight.delete(completion.configIndex);
    committed -= completion.results.length;
    for (const result of completion.results) trialStates.set(result.trial.name, result.state);
    // A segment cut short (a stop, a kill from outside) leaves no result: a rerun runs it again from its checkpoints.
    if (completion.results.some((result) => result.state === 'interrupted' || result.state === 'notStarted')) continue;
    const score = configurationScore(completion.results, options.goal);
    await record({ type: 'result', configIndex: completion.configIndex, step: completion.step, score });
  }
  return { trials: allTrials(), configurations: state.standings(), trialStates };
}
