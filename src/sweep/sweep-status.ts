/**
 * `sweep status <dir>`: where a sweep stands, from its trials' status.json files and,
 * when it was submitted to Slurm, from the queue: what a `sweep run --detach` (or a
 * sweep someone else started) is doing now.
 */
import * as path from 'node:path';
import { RunningTrialEtas } from './calibrate.js';
import type { BatchTaskState } from './executor.js';
import { formatDuration } from './progress-view.js';
import { formatNumber } from './results.js';
import type { SlurmJobRecord } from './slurm.js';
import { type TrialState, type TrialStatus, readManifest, readStatus, STDERR_LOG } from './status.js';

/** The latest Slurm submission and its tasks (or why the queue could not be asked). */
export interface QueueView {
  record: SlurmJobRecord;
  tasks: Map<number, BatchTaskState> | string;
}

const STATE_ORDER: readonly (TrialState | 'missing')[] = ['done', 'running', 'failed', 'interrupted', 'pending', 'missing'];

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

function trialDetail(status: TrialStatus | undefined, dir: string): string {
  if (!status) return 'no status.json: not started';
  if (status.state === 'failed') return `${status.cause ?? 'failed'} — log: ${path.join(dir, status.stderrLog ?? STDERR_LOG)}`;
  return '';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}

/** The status report of the sweep in `sweepDir`. */
export async function formatSweepStatus(sweepDir: string, queue: QueueView | undefined): Promise<string> {
  const manifest = await readManifest(sweepDir);
  if (!manifest) throw new Error(`${sweepDir} is not a sweep folder: it has no sweep.json (run "sweep run <file>" first)`);
  const rows: string[][] = [['state', 'trial', 'steps', 'eval', 'steps/s', 'ETA', 'note']];
  const counts = new Map<string, number>();
  const etas = new RunningTrialEtas();
  for (const entry of manifest.trials) {
    const dir = path.join(sweepDir, entry.name);
    const status = await readStatus(dir, () => {});
    const state = status?.state ?? 'missing';
    counts.set(state, (counts.get(state) ?? 0) + 1);
    const total = status?.totalSteps ?? entry.steps;
    const step = status?.step ?? 0;
    const speed = status?.state === 'running' ? status.stepsPerSecond : null;
    const eta = speed ? await etas.secondsLeft(dir, { step, stepsPerSecond: speed }) : null;
    const notes = [queueNote(status, entry.index, queue, dir), trialDetail(status, dir)].filter((note) => note !== '');
    rows.push([
      state + (status && status.attempt > 1 ? ` (attempt ${status.attempt})` : ''), entry.name, `${step}/${total}`,
      formatNumber(status?.lastEvaluation?.returnMean ?? null), speed ? String(Math.round(speed)) : '-',
      eta !== null ? formatDuration(eta) : '-', notes.join('; '),
    ]);
  }
  const summary = STATE_ORDER.filter((state) => counts.has(state)).map((state) => `${state} ${counts.get(state)}`).join(', ');
  return [
    `Sweep ${manifest.name} (${sweepDir}): ${manifest.trials.length} trials — ${summary}`,
    ...(queue ? [queueLine(queue)] : []),
    '',
    ...table(rows),
  ].join('\n');
}
