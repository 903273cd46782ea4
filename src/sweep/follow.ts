/**
 * Follows trials submitted to a cluster (a BatchSubmission): reads their status.json
 * files, which the tasks' own `sweep trial` processes keep, and feeds the same
 * progress view the local scheduler feeds; asks the queue which tasks ended. A task
 * that ended without its trial recording an end (killed, out of time, its node lost,
 * the sweep folder not visible on the node) is marked failed here with the queue's
 * state and its output file, so no trial is left "running" unnoticed.
 */
import * as path from 'node:path';
import type { Trial } from './expand.js';
import type { BatchSubmission, BatchTaskState } from './executor.js';
import type { SweepView } from './progress-view.js';
import { type EndedTrialStatus, type TrialStatus, hasEnded, pendingStatus, readStatus, writeStatus } from './trial-status.js';
import { emptyTrialOutcomes, recordSessionFailure, trialEndLine, type TrialOutcome, type TrialOutcomes } from './trial.js';

export interface FollowOptions {
  submission: BatchSubmission;
  /** The submitted trials. */
  trials: readonly Trial[];
  sweepDir: string;
  /** Each trial's status before the submission: only a later attempt is this submission's. */
  previous: ReadonlyMap<string, TrialStatus | undefined>;
  view: SweepView;
  /** The tasks' retries, for the "retrying (k/n)" lines. */
  retries: number;
  /** How often the status files are read. */
  statusPollMs: number;
  /** How often the queue is asked (less often: a cluster's controller is shared). */
  queuePollMs: number;
  /** How long a task may be gone from the queue before its trial's status shows an end (shared storage can lag). */
  orphanGraceMs: number;
}

export interface FollowOutcome extends TrialOutcomes {
  /** Still queued or running when the follower stopped following. */
  leftRunning: string[];
}

interface Followed {
  trial: Trial;
  dir: string;
  /** The attempt count before this submission. */
  before: number;
  /** The last attempt the view was told about. */
  shown: number;
  status: TrialStatus | undefined;
  /** The cause of a failed attempt seen before a retry started. */
  lastCause: string | null;
  lastStep: number;
  lastEvalStep: number | null;
  /** When the queue first no longer had the task active. */
  goneSince: number | undefined;
  /** A warning about its damaged status.json was shown. */
  warned: boolean;
}

export class BatchFollower {
  private readonly open = new Map<number, Followed>();
  private readonly outcome: FollowOutcome = { ...emptyTrialOutcomes(), leftRunning: [] };
  private cancelled = false;
  private left = false;
  private lastQueuePoll = -Infinity;
  private queueErrors = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly options: FollowOptions) {
    for (const trial of options.trials) {
      const before = options.previous.get(trial.name)?.attempt ?? 0;
      this.open.set(trial.index, {
        trial,
        dir: path.join(options.sweepDir, trial.name),
        before,
        shown: before,
        status: undefined,
        lastCause: null,
        lastStep: -1,
        lastEvalStep: null,
        goneSince: undefined,
        warned: false,
      });
    }
  }

  /** Follows until every task ended (or leave()). */
  async run(): Promise<FollowOutcome> {
    while (this.open.size > 0 && !this.left) {
      await this.readStatuses();
      if (this.queueDue()) await this.checkQueue();
      if (this.open.size === 0 || this.left) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.statusPollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    for (const f of this.open.values()) this.outcome.leftRunning.push(f.trial.name);
    this.open.clear();
    return this.outcome;
  }

  /** Stops following at once; the tasks go on. */
  leave(): void {
    this.left = true;
    this.wake?.();
  }

  /** Cancels the submission, then follows its tasks until they ended (running trials save a snapshot and stop). */
  async cancel(): Promise<void> {
    this.cancelled = true;
    try {
      await this.options.submission.cancel();
    } catch (error) {
      this.cancelled = false;
      this.options.view.log(`could not cancel ${this.options.submission.description}: ${(error as Error).message}; cancel it with: ${this.options.submission.cancelCommand}`);
    }
    this.wake?.();
  }

  private fresh(f: Followed): TrialStatus | undefined {
    return f.status && f.status.attempt > f.before ? f.status : undefined;
  }

  /** The queue is asked every queuePollMs, and at once after a cancel (queued tasks just vanish). */
  private queueDue(): boolean {
    return Date.now() - this.lastQueuePoll >= this.options.queuePollMs || this.cancelled;
  }

  /** The trial recorded an end after which its task makes no further attempt. */
  private settled(f: Followed): EndedTrialStatus | undefined {
    const status = this.fresh(f);
    if (!status || !hasEnded(status)) return undefined;
    return status.state !== 'failed' || status.attempt - f.before > this.options.retries ? status : undefined;
  }

  private async readStatuses(): Promise<void> {
    const { view } = this.options;
    for (const f of [...this.open.values()]) {
      f.status = await readStatus(f.dir, (message) => {
        // Once per trial: the file is read every second.
        if (!f.warned) view.log(`warning: ${message}`);
        f.warned = true;
      }).catch(() => f.status);
      const status = this.fresh(f);
      if (!status || status.state === 'pending') continue;
      if (status.state === 'failed') f.lastCause = status.cause;
      if (status.attempt > f.shown) this.showStarted(f, status.attempt);
      // The run's progress, as the file last recorded it.
      const evaluationStep = status.lastEvaluation?.step ?? null;
      if ((status.step !== f.lastStep && status.stepsPerSecond !== null) || evaluationStep !== f.lastEvalStep) {
        f.lastStep = status.step;
        f.lastEvalStep = evaluationStep;
        view.trialProgress(f.trial, status);
      }
      // Its task is only exiting now: the end need not wait for the queue to say so.
      const settled = this.settled(f);
      if (settled) this.close(f, settled.state, settled);
    }
  }

  private showStarted(f: Followed, attempt: number): void {
    const { view, retries } = this.options;
    if (f.shown > f.before) {
      // An attempt this follower saw start was followed by another: a retry (or Slurm requeued the task).
      const tries = f.shown - f.before;
      view.trialEnded(
        f.trial,
        'retrying',
        f.lastCause !== null && tries <= retries
          ? `failed ${f.trial.name}: ${f.lastCause}; retrying (${tries}/${retries})`
          : `${f.trial.name}: attempt ${f.shown} did not finish; attempt ${attempt} starts`,
      );
      f.lastCause = null;
    }
    f.shown = attempt;
    view.trialStarted(f.trial, attempt);
  }

  private async checkQueue(): Promise<void> {
    this.lastQueuePoll = Date.now();
    let tasks: Map<number, BatchTaskState>;
    try {
      tasks = await this.options.submission.poll();
      this.queueErrors = 0;
    } catch (error) {
      if (this.queueErrors++ === 0) {
        this.options.view.log(`cannot ask about ${this.options.submission.description} right now (${(error as Error).message}); trying again`);
      }
      return;
    }
    for (const f of [...this.open.values()]) {
      const task = tasks.get(f.trial.index);
      if (task?.active) {
        f.goneSince = undefined;
        continue;
      }
      await this.taskEnded(f, task);
    }
  }

  /** The task is no longer queued or running: record how its trial ended. */
  private async taskEnded(f: Followed, task: BatchTaskState | undefined): Promise<void> {
    const status = this.fresh(f);
    if (status && hasEnded(status)) {
      // Ended (its last retry, if any, never started).
      this.close(f, status.state, status);
      return;
    }
    if (this.cancelled && (!status || status.state === 'pending')) {
      this.close(f, 'notStarted', undefined);
      return;
    }
    f.goneSince ??= Date.now();
    if (Date.now() - f.goneSince < this.options.orphanGraceMs) return;
    this.close(f, ...(await this.recordLostTask(f, status, task)));
  }

  /** Writes the end of a trial whose task ended without recording one. */
  private async recordLostTask(f: Followed, status: TrialStatus | undefined, task: BatchTaskState | undefined): Promise<[TrialOutcome, TrialStatus]> {
    const { submission, sweepDir } = this.options;
    const taskId = submission.taskId(f.trial.index);
    const how = task ? `${task.state}${task.reason && task.reason !== 'None' ? `, ${task.reason}` : ''}` : 'no longer in the queue';
    const log = submission.taskLog(f.trial);
    let state: 'failed' | 'interrupted';
    let cause: string;
    if (status) {
      state = this.cancelled ? 'interrupted' : 'failed';
      cause = `${submission.description} task ${taskId} ended (${how}) while the trial was running, without recording its end; see ${log}`;
    } else {
      state = 'failed';
      cause = `${submission.description} task ${taskId} ended (${how}) before the trial started; see ${log} ` + `(is ${sweepDir} on storage that the compute nodes share?)`;
    }
    const base = status ?? { ...(this.options.previous.get(f.trial.name) ?? pendingStatus(f.trial)), attempt: f.before + 1 };
    const ended: TrialStatus = { ...base, state, cause, job: taskId, pid: null, exitCode: null, signal: null, endedAt: new Date().toISOString() };
    await writeStatus(f.dir, ended).catch((error: Error) => this.options.view.log(`${f.trial.name}: cannot write its status: ${error.message}`));
    if (state === 'failed') recordSessionFailure(f.dir);
    return [state, ended];
  }

  private close(f: Followed, state: TrialOutcome, status: TrialStatus | undefined): void {
    this.open.delete(f.trial.index);
    this.outcome[state].push(f.trial.name);
    if (state === 'notStarted' || !status) return;
    // A trial that started and ended between two reads still shows as started.
    if (f.shown <= f.before) this.showStarted(f, status.attempt);
    this.options.view.trialEnded(f.trial, state, trialEndLine(f.trial, status, f.dir));
  }
}
