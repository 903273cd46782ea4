/**
 * `sweep run` of an adaptive sweep (method bayes, or any method with early_terminate):
 * the sweep folder locked and Ctrl-C taken as for any sweep (withSweepSession), the
 * journal opened and replayed, the controller (adaptive.ts) run with a SegmentRunner of
 * the executor (child processes here, Slurm jobs on a cluster), then results and the
 * final report as for any sweep. sweep.json grows as configurations are suggested.
 */
import * as path from 'node:path';
import { ensureDir } from '../util/files.js';
import type { StopRequests } from '../util/signals.js';
import { defaultRunConfig } from '../train/config.js';
import { type AdaptiveOutcome, type SegmentRunner, checkJournalSearch, runAdaptiveSearch } from './adaptive.js';
import { TrialNamer, type Trial, trialsOf } from './expand.js';
import { type BatchExecutor, type TrialExecutor, isBatchExecutor } from './executor.js';
import { type ResultsFiles, finalReport } from './final-report.js';
import { Journal } from './journal.js';
import { collectResults, writeResults } from './results.js';
import { type SchedulerSettings, schedulerSettings } from './search/asha.js';
import { createSearcher } from './search/searcher.js';
import { type RunSweepOptions, type SweepOutcome, withSweepSession } from './scheduler.js';
import type { SweepSpec } from './spec.js';
import { BatchSegmentRunner } from './batch-segment-runner.js';
import { LocalSegmentRunner } from './segment-runner.js';
import { sweepManifest, writeExperimentSummary } from './sweep-files.js';
import { checkNoSubmissionRuns, planTrials, readPreviousStatuses } from './sweep-plan.js';
import { type TrialsOutcome, plural } from './sweep-outcome.js';
import { type TrialStatus, isComplete, pendingStatus, readStatus, writeManifest, writeStatus } from './trial-status.js';
import { emptyTrialOutcomes } from './trial.js';

/** Whether the sweep is run by the adaptive controller: its configurations depend on results, or it stops trials early. */
export function isAdaptive(spec: SweepSpec): boolean {
  return spec.method === 'bayes' || spec.earlyTerminate !== undefined;
}

/** The trials' steps: every trial of an adaptive sweep has the same (the spec refuses a swept steps with early_terminate). */
export function sweepSteps(spec: SweepSpec): number {
  const steps = spec.parameters.find((parameter) => parameter.key === 'steps');
  return steps?.kind === 'value' && typeof steps.value === 'number' ? steps.value : defaultRunConfig().steps;
}

/** The scheduler of the sweep. */
export function sweepScheduler(spec: SweepSpec): SchedulerSettings {
  return schedulerSettings(spec.earlyTerminate, sweepSteps(spec));
}

/** What the search depends on: a journal of a search with another identity is refused. */
export function searchIdentity(spec: SweepSpec): string {
  const { method, metric, seeds, runCap, sweepSeed, parameters, bayes, earlyTerminate } = spec;
  // Where a key stands in the file is not what the search is.
  return JSON.stringify({ method, metric, seeds, runCap, sweepSeed, bayes, earlyTerminate, parameters }, (key, value) => (key === 'at' ? undefined : value));
}

/** The trials of every configuration the journal holds, named as the controller names them: what `sweep trial --index` of an adaptive sweep runs. */
export async function journalTrials(spec: SweepSpec, sweepDir: string): Promise<Trial[]> {
  const journal = await Journal.open(sweepDir, () => {}, { readOnly: true });
  const namer = new TrialNamer();
  return journal.entries.flatMap((entry) => (entry.type === 'suggested' ? trialsOf(spec, entry.configIndex, entry.assignment, { sweepDir, namer }) : []));
}

/** Default concurrency of an adaptive sweep on a cluster: results must come back for the search to learn, so not all at once. */
export const DEFAULT_BATCH_CONCURRENCY = 8;

function createRunner(options: RunSweepOptions, executor: TrialExecutor | BatchExecutor, stops: StopRequests, concurrency: number): SegmentRunner {
  const { spec, sweepDir, view } = options;
  const retries = options.retries ?? 0;
  if (!isBatchExecutor(executor)) return new LocalSegmentRunner({ sweepDir, executor, metric: spec.metric.name, concurrency, retries, view, stops });
  return new BatchSegmentRunner({
    spec,
    sweepDir,
    executor,
    concurrency,
    retries,
    view,
    stops,
    queuePollMs: options.queuePollMs ?? 10_000,
    statusPollMs: options.statusPollMs ?? 1000,
    orphanGraceMs: options.orphanGraceMs ?? 5_000,
  });
}

/** Each trial by the state its status.json ends this run in; complete before this run: skipped. */
function outcomeOf(trials: readonly Trial[], before: Map<string, TrialStatus | undefined>, after: Map<string, TrialStatus | undefined>): TrialsOutcome & { skipped: string[] } {
  const outcome = { ...emptyTrialOutcomes(), leftRunning: [] as string[], skipped: [] as string[] };
  for (const trial of trials) {
    const status = after.get(trial.name);
    if (isComplete(before.get(trial.name)) && status?.state === before.get(trial.name)?.state) outcome.skipped.push(trial.name);
    else if (!status || status.state === 'pending') outcome.notStarted.push(trial.name);
    else if (status.state === 'running') outcome.interrupted.push(trial.name);
    else outcome[status.state].push(trial.name);
  }
  return outcome;
}

export async function runAdaptiveSweep(options: RunSweepOptions): Promise<SweepOutcome> {
  const { spec, sweepDir, executor, view } = options;
  return withSweepSession(options, async (stops) => {
    const journal = await Journal.open(sweepDir, (warning) => view.log(`warning: ${warning}`));
    // Before anything is written: a changed search must not touch the old one's folder.
    checkJournalSearch(journal, searchIdentity(spec));
    // Segments a killed controller submitted may still run on the cluster: running them again would run them twice.
    await checkNoSubmissionRuns(options);
    const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
    const runner = createRunner(options, executor, stops, concurrency);
    stops.handleWith({
      graceful: (reason) => {
        view.log(`${reason}: no new trial starts; asking the running trials to save a snapshot and stop (press Ctrl-C again to stop at once); the search continues from its journal on a rerun`);
        runner.stopAll(false);
      },
      immediate: (reason, count) => {
        if (count > 2) return;
        view.log(`${reason} again: stopping the running trials at once`);
        runner.stopAll(true);
      },
    });
    const namer = new TrialNamer();
    let before = new Map<string, TrialStatus | undefined>();
    let begun = false;
    writeExperimentSummary(sweepDir, spec);
    const settings = sweepScheduler(spec);
    view.log(
      `adaptive sweep ${spec.name}: ${spec.method} search, ${settings.type === 'fifo' ? 'every configuration to the end' : `${settings.type} (eta ${settings.eta})`}, ` +
        `${concurrency} trials at a time as ${executor.description}; journal ${journal.file}`,
    );
    const search: AdaptiveOutcome = await runAdaptiveSearch({
      searcher: createSearcher(spec),
      settings,
      goal: spec.metric.goal,
      trialsOf: (configIndex, assignment) => trialsOf(spec, configIndex, assignment, { sweepDir, namer }),
      runner,
      journal,
      searchIdentity: searchIdentity(spec),
      concurrency,
      trialsCreated: async (all, added) => {
        const previous = await readPreviousStatuses(sweepDir, [...added], (message) => view.log(`warning: ${message}`));
        if (!begun) {
          // The trials of the replayed journal: refused when they still run elsewhere or their configuration changed.
          await planTrials(spec, sweepDir, [...added], previous, { force: options.force ?? false, batch: isBatchExecutor(executor) });
          before = previous;
        }
        for (const [name, status] of previous) before.set(name, status);
        await writeManifest(sweepDir, sweepManifest(spec, [...all]));
        for (const trial of added) {
          const dir = path.join(sweepDir, trial.name);
          await ensureDir(dir);
          if (!previous.get(trial.name)) await writeStatus(dir, pendingStatus(trial));
        }
        const toRun = added.filter((trial) => !isComplete(previous.get(trial.name)));
        if (!begun) view.begin(toRun, added.length - toRun.length);
        else view.trialsAdded(toRun);
        begun = true;
      },
      stopping: () => stops.stopping,
      log: (line) => view.log(line),
    });
    view.end();

    const after = new Map<string, TrialStatus | undefined>();
    for (const trial of search.trials) after.set(trial.name, await readStatus(path.join(sweepDir, trial.name), () => {}));
    const outcome = outcomeOf(search.trials, before, after);
    const results = await collectResults(sweepDir, sweepManifest(spec, search.trials));
    const files: ResultsFiles = await writeResults(sweepDir, results).catch((error: Error) => ({ error: error.message }));
    const stopped = search.configurations.filter((config) => config.phase === 'stopped').length;
    const report = finalReport(options, { skipped: search.trials.filter((trial) => outcome.skipped.includes(trial.name)) }, outcome, results, files, stops.stopping);
    const summary = `${plural(search.configurations.length, 'configuration')} tried, ${search.configurations.filter((config) => config.phase === 'done').length} run to the end, ${stopped} stopped early by ${settings.type}`;
    options.print(`${report.text}\n${summary}`);
    const { done, failed, interrupted, paused, notStarted, leftRunning, skipped } = outcome;
    return { exitCode: report.exitCode, skipped, done, failed, interrupted, paused, notStarted, leftRunning, results };
  });
}
