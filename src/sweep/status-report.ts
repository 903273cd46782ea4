/**
 * `sweep status <dir>`: where a sweep stands, from its trials' status.json files and,
 * when it was submitted to Slurm, from the queue: what a `sweep run --detach` (or a
 * sweep someone else started) is doing now.
 */
import * as path from 'node:path';
import { searchSummary } from './adaptive.js';
import { Journal } from './journal.js';
import { RunningTrialEtas } from './calibrate.js';
import type { BatchTaskState } from './executor.js';
import { formatDuration } from './progress-view.js';
import { formatNumber } from './results.js';
import type { SlurmJobRecord } from './slurm.js';
import { type LivenessProbe, type ShownState, type TrialLiveness, systemProbe, trialLiveness } from './liveness.js';
import { type TrialStatus, readStatus, requireSweepFolder, STDERR_LOG } from './trial-status.js';
import { formatTable } from '../util/text-table.js';

/** The latest Slurm submission and its tasks (or why the queue could not be asked). */
export interface QueueView {
  record: SlurmJobRecord;
  tasks: Map<number, BatchTaskState> | string;
}

/** A trial's state as shown: its status.json's, except a `running` one whose processes are gone (see liveness.ts). */

const STATE_ORDER: readonly ShownState[] = ['done', 'stopped', 'running', 'paused', 'orphaned', 'gone', 'lost', 'failed', 'interrupted', 'pending', 'missing'];

function queueLine(queue: QueueView): string {
  const { record, tasks } = queue;
  const head = `Slurm job ${record.jobId} (submitted ${record.submittedAt}, ${record.indices.length} trial${record.indices.length === 1 ? '' : 's'})`;
  if (typeof tasks === 'string') return `${head}: cannot ask the queue (${tasks})`;
  const counts = new Map<string, number>();
  for (const task of tasks.values()) if (task.active) counts.set(task.state.toLowerCase(), (counts.get(task.state.toLowerCase()) ?? 0) + 1);
  if (counts.size === 0) return `${head}: ended (no task queued or running)`;
  const active = [...counts].map(([state, n]) => `${n} ${state}`).join(', ');
  return `${head}: ${active}; cancel with: scancel ${record.jobId}`;
}

/** What the queue says about a trial's task, and a warning when the task ended but the trial never recorded an end. */
function queueNote(status: TrialStatus | undefined, index: number, queue: QueueView | undefined, dir: string): string {
  if (!queue || typeof queue.tasks === 'string' || !queue.record.indices.includes(index)) return '';
  const task = queue.tasks.get(index);
  const id = `${queue.record.jobId}_${index}`;
  if (task?.active) return `Slurm ${id} ${task.state}${task.reason && task.reason !== 'None' ? ` (${task.reason})` : ''}`;
  if (status?.state === 'running' && status.job === id) {
    return `Slurm ${id} ended (${task?.state ?? 'gone'}) without the trial recording its end; see ${path.join(dir, `slurm-${id}.out`)}`;
  }
  return '';
}

function trialDetail(status: TrialStatus | undefined, dir: string, liveness: TrialLiveness): string {
  if (!status) return 'no status.json: not started';
  if (liveness.kind !== 'alive') return `no longer running: ${liveness.detail}`;
  if (status.state === 'failed') return `${status.cause ?? 'failed'} — log: ${path.join(dir, status.stderrLog ?? STDERR_LOG)}`;
  const rung = status.rungStep ?? status.step;
  if (status.state === 'paused') return `waiting at the rung at step ${rung} (a checkpoint there); promoted, it resumes from there`;
  if (status.state === 'stopped') return `stopped at the rung at step ${rung}${status.stoppedBy ? ` by ${status.stoppedBy}` : ''}; its metric is the evaluation there`;
  return '';
}

export interface SweepStatusOptions {
  /** The command that resumes the sweep of `file` (default: "sweep run <file>", with --logdir when not runs/). */
  resumeCommand?: (file: string) => string;
  /** How liveness is checked (tests pass their own clock and pids). */
  probe?: LivenessProbe;
}

function defaultResumeCommand(sweepDir: string, queue: QueueView | undefined): (file: string) => string {
  const logdir = path.dirname(sweepDir);
  return (file) => `sweep run ${file}${logdir === 'runs' ? '' : ` --logdir ${logdir}`}${queue ? ' --executor slurm' : ''}`;
}

/** The status report of the sweep in `sweepDir`. */
export async function formatSweepStatus(sweepDir: string, queue: QueueView | undefined, options: SweepStatusOptions = {}): Promise<string> {
  const manifest = await requireSweepFolder(sweepDir, 'status');
  const probe = options.probe ?? systemProbe();
  const rows: string[][] = [['state', 'trial', 'steps', 'eval', 'steps/s', 'ETA', 'note']];
  const counts = new Map<ShownState, number>();
  const etas = new RunningTrialEtas();
  for (const entry of manifest.trials) {
    const dir = path.join(sweepDir, entry.name);
    const status = await readStatus(dir, () => {});
    const liveness: TrialLiveness = status ? trialLiveness(status, probe) : { kind: 'alive' };
    const state: ShownState = liveness.kind !== 'alive' ? liveness.kind : (status?.state ?? 'missing');
    counts.set(state, (counts.get(state) ?? 0) + 1);
    const total = status?.totalSteps ?? entry.steps;
    const step = status?.step ?? 0;
    // Speed and ETA only for a trial that runs: a dead one's last speed would promise an end that never comes.
    const speed = state === 'running' ? status!.stepsPerSecond : null;
    const eta = speed ? await etas.secondsLeft(dir, { step, stepsPerSecond: speed }) : null;
    const notes = [queueNote(status, entry.index, queue, dir), trialDetail(status, dir, liveness)].filter((note) => note !== '');
    rows.push([
      state + (status && status.attempt > 1 ? ` (attempt ${status.attempt})` : ''),
      entry.name,
      `${step}/${total}`,
      formatNumber(status?.lastEvaluation?.returnMean ?? null),
      speed ? String(Math.round(speed)) : '-',
      eta !== null ? formatDuration(eta) : '-',
      notes.join('; '),
    ]);
  }
  const summary = STATE_ORDER.filter((state) => counts.has(state))
    .map((state) => `${state} ${counts.get(state)}`)
    .join(', ');
  const count = (...states: ShownState[]): number => states.reduce((sum, state) => sum + (counts.get(state) ?? 0), 0);
  const resume = (options.resumeCommand ?? defaultResumeCommand(sweepDir, queue))(manifest.file);
  const footer: string[] = [];
  const dead = count('gone', 'lost', 'orphaned');
  if (dead > 0) {
    footer.push(
      '',
      `${dead} trial${dead === 1 ? '' : 's'} no longer running without having recorded an end (the sweep was killed, or its node lost); ` +
        `${count('orphaned') > 0 ? 'once the orphaned runs have stopped, ' : ''}resume the sweep with: ${resume}`,
    );
  } else if (
    count('running') === 0 &&
    count('pending', 'missing', 'interrupted', 'failed', 'paused') > 0 &&
    !(queue && typeof queue.tasks !== 'string' && [...queue.tasks.values()].some((task) => task.active))
  ) {
    footer.push('', `Nothing is running and not every trial is done; resume the sweep with: ${resume}`);
  }
  // An adaptive sweep: where its search stands (its journal; a damaged one is left out here, `sweep run` names the problem).
  const journal = await Journal.open(sweepDir, () => {}, { readOnly: true }).catch(() => undefined);
  const search = journal && journal.entries.length > 0 ? [`${searchSummary(journal.entries)} (${journal.file})`] : [];
  return [`Sweep ${manifest.name} (${sweepDir}): ${manifest.trials.length} trials — ${summary}`, ...search, ...(queue ? [queueLine(queue)] : []), '', ...formatTable(rows), ...footer].join('\n');
}
