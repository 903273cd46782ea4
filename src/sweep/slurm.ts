/**
 * Slurm as a BatchExecutor: a sweep's trials become one job array. Each array task
 * runs `sweep trial <file> --index $SLURM_ARRAY_TASK_ID`, which runs that trial
 * exactly as the local scheduler does and keeps its status.json; the submitting
 * `sweep run` follows the tasks with squeue and the status files (src/sweep/follow.ts).
 *
 * Everything goes through the Slurm client commands (sbatch, squeue, scancel) with
 * this process's environment, so SLURM_CONF and PATH choose the cluster. The sweep
 * folder, the repository and Node must be at the same paths on the compute nodes
 * (shared storage): the tasks write their trials' folders there.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../train/config.js';
import { ensureDir, fileNameStamp, readJson, writeJsonAtomic } from '../util/files.js';
import type { Trial } from './expand.js';
import { type BatchExecutor, type BatchRequest, type BatchSubmission, type BatchTaskState, tsxExecArgv } from './executor.js';

/** Slurm's client commands are missing here. */
export class SlurmUnavailableError extends ConfigError {
  override name = 'SlurmUnavailableError';
}

export const SLURM_COMMANDS = ['sbatch', 'squeue', 'scancel'] as const;
/** The folder of a sweep that holds its batch scripts and the record of its jobs. */
export const SLURM_DIR = 'slurm';
export const JOBS_FILE = 'jobs.json';

/** States in which a job has ended (squeue --states=all shows them until the job is purged). */
const ENDED_STATES = new Set(['COMPLETED', 'CANCELLED', 'FAILED', 'TIMEOUT', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'OUT_OF_MEMORY', 'REVOKED', 'SPECIAL_EXIT']);

export interface SlurmOptions {
  /** sbatch --partition. */
  partition?: string;
  /** sbatch --time: each trial's time limit, e.g. 02:00:00. */
  time?: string;
  /** sbatch --cpus-per-task. Default 1 (a run uses one core). */
  cpusPerTrial?: number;
  /** More sbatch arguments, e.g. ["--mem=2G", "--account=abc"]. */
  sbatchArgs?: string[];
  /** Environment of the Slurm commands (and so of the tasks: sbatch exports it). Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** One submission as recorded in <sweep>/slurm/jobs.json. */
export interface SlurmJobRecord {
  jobId: string;
  submittedAt: string;
  script: string;
  /** The copy of the sweep file the tasks expand (editing the original later changes nothing queued). */
  sweepFile: string;
  indices: number[];
  concurrency: number | null;
  /** The sbatch command line. */
  sbatch: string[];
}

/** Time limits sbatch accepts: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED. */
const TIME_FORMAT = /^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2}|UNLIMITED|INFINITE)$/i;

export function checkSlurmTime(time: string): void {
  if (!TIME_FORMAT.test(time)) {
    throw new ConfigError(`--time ${JSON.stringify(time)} is not a Slurm time limit; use HH:MM:SS (e.g. 02:00:00), MM, or D-HH:MM:SS`);
  }
}

/** The executable `name` on PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Throws SlurmUnavailableError unless sbatch, squeue and scancel are on PATH. */
export function checkSlurmAvailable(env: NodeJS.ProcessEnv = process.env): void {
  const missing = SLURM_COMMANDS.filter((command) => findOnPath(command, env) === undefined);
  if (missing.length === 0) return;
  throw new SlurmUnavailableError(
    `Slurm is not available here: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH ` +
      `(${env.PATH || 'PATH is empty'}). Run the sweep on a machine of the cluster that can submit jobs (a login node), ` +
      'put the Slurm client commands on PATH, or leave out --executor slurm to run the trials on this machine.',
  );
}

/** [0, 2, 3, 4, 7] -> "0,2-4,7" (sbatch --array syntax). */
export function formatIndices(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** sbatch's --array value: the indices, and "%N" to run at most N at once. */
export function arraySpec(indices: readonly number[], concurrency: number | undefined): string {
  return `${formatIndices(indices)}${concurrency === undefined ? '' : `%${concurrency}`}`;
}

/** Quotes for bash when needed. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Lines of `squeue -h -r -o '%K|%T|%r'`: task index -> state. Lines of other jobs' steps are skipped. */
export function parseSqueue(text: string): Map<number, BatchTaskState> {
  const tasks = new Map<number, BatchTaskState>();
  for (const line of text.split('\n')) {
    const [index, state, reason] = line.trim().split('|');
    if (index === undefined || state === undefined || !/^\d+$/.test(index)) continue;
    const name = state.toUpperCase();
    tasks.set(Number(index), { active: !ENDED_STATES.has(name), state: name, ...(reason ? { reason } : {}) });
  }
  return tasks;
}

export interface BatchScriptOptions {
  /** Absolute paths. */
  sweepDir: string;
  slurmDir: string;
  workDir: string;
  /** Trial names by index. */
  trialNames: readonly string[];
  /** The command of a task, without its index: `node --import tsx sweep.ts trial <file> --logdir <dir> ...`. */
  command: readonly string[];
  /** How the script is submitted (for the record: sbatch options go on its command line, where no quoting can go wrong). */
  submitCommand: readonly string[];
  sweepFile: string;
}

/** The batch script of a sweep's job array: the task's index picks the trial. */
export function batchScript(o: BatchScriptOptions): string {
  const taskOut = '"$trial_dir/slurm-${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}.out"';
  return [
    '#!/bin/bash',
    `# rlsweep: one array task per trial of ${o.sweepFile}, written by \`sweep run --executor slurm\`.`,
    "# Each task runs `sweep trial <file> --index $SLURM_ARRAY_TASK_ID`, which writes the trial's folder and status.json.",
    `# Submitted with: ${o.submitCommand.map(shellQuote).join(' ')}`,
    'set -eu',
    'trials=(',
    ...o.trialNames.map((name) => `  ${shellQuote(name)}`),
    ')',
    `trial_dir=${shellQuote(o.sweepDir)}/"\${trials[$SLURM_ARRAY_TASK_ID]}"`,
    'mkdir -p "$trial_dir"',
    "# The task's output goes next to the trial's own logs (sbatch --output only holds what comes before this line).",
    `exec >>${taskOut} 2>&1 || { echo "cannot write ${taskOut.replace(/"/g, '')}" >&2; exit 1; }`,
    `rm -f ${shellQuote(o.slurmDir)}/"\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}.out"`,
    `cd ${shellQuote(o.workDir)}`,
    `exec ${o.command.map(shellQuote).join(' ')} --index "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}

interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a Slurm command; rejects with its stderr in the message. */
function runCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const detail = stderr.trim() || error.message;
        reject(Object.assign(new Error(`${command} ${args.join(' ')}: ${detail}`), { stderr, code: (error as NodeJS.ErrnoException).code }));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** The command a task runs: this Node, tsx, and this checkout's sweep CLI (the same paths on the nodes). */
export function defaultTrialCommand(): string[] {
  return [process.execPath, ...tsxExecArgv(), fileURLToPath(new URL('../cli/sweep.ts', import.meta.url)), 'trial'];
}

class SlurmSubmission implements BatchSubmission {
  readonly description: string;
  readonly cancelCommand: string;

  constructor(
    readonly id: string,
    readonly indices: readonly number[],
    private readonly sweepDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.description = `Slurm job ${id}`;
    this.cancelCommand = `scancel ${id}`;
  }

  taskId(index: number): string {
    return `${this.id}_${index}`;
  }

  taskLog(trial: Trial): string {
    return path.join(this.sweepDir, trial.name, `slurm-${this.id}_${trial.index}.out`);
  }

  async poll(): Promise<Map<number, BatchTaskState>> {
    try {
      const { stdout } = await runCommand('squeue', ['-h', '-r', '-j', this.id, '--states=all', '-o', '%K|%T|%r'], this.env);
      return parseSqueue(stdout);
    } catch (error) {
      // Slurm forgets a job some minutes after it ended (MinJobAge): every task ended.
      if (/Invalid job id/i.test((error as { stderr?: string }).stderr ?? '')) return new Map();
      throw error;
    }
  }

  async cancel(): Promise<void> {
    await runCommand('scancel', [this.id], this.env);
  }
}

export class SlurmExecutor implements BatchExecutor {
  readonly kind = 'batch';
  readonly description = 'a Slurm job array';
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly options: SlurmOptions = {},
    private readonly trialCommand: string[] = defaultTrialCommand(),
  ) {
    this.env = options.env ?? process.env;
    if (options.time !== undefined) checkSlurmTime(options.time);
    checkSlurmAvailable(this.env);
  }

  async activeSubmissions(sweepDir: string): Promise<BatchSubmission[]> {
    const active: BatchSubmission[] = [];
    for (const record of await readJobRecords(sweepDir)) {
      const submission = new SlurmSubmission(record.jobId, record.indices, sweepDir, this.env);
      const tasks = await submission.poll();
      if ([...tasks.values()].some((task) => task.active)) active.push(submission);
    }
    return active;
  }

  async submit(request: BatchRequest): Promise<BatchSubmission> {
    const sweepDir = path.resolve(request.sweepDir);
    const slurmDir = path.join(sweepDir, SLURM_DIR);
    await ensureDir(slurmDir);
    const name = `array-${fileNameStamp()}`;
    // The tasks expand a copy: the file may change (or vanish) while they wait in the queue.
    const sweepFile = path.join(slurmDir, `${name}${path.extname(request.sweepFile) || '.yaml'}`);
    await fs.copyFile(request.sweepFile, sweepFile);
    const script = path.join(slurmDir, `${name}.sh`);
    const array = arraySpec(request.indices, request.concurrency);
    const command = [
      ...this.trialCommand,
      sweepFile,
      '--logdir',
      path.dirname(sweepDir),
      ...(request.retries > 0 ? ['--retries', String(request.retries)] : []),
      ...(request.force ? ['--force'] : []),
      ...(request.stopAtStep === undefined ? [] : ['--stop-at-step', String(request.stopAtStep)]),
    ];
    const { partition, time } = this.options;
    const sbatch = [
      '--parsable',
      `--array=${array}`,
      `--job-name=rlsweep-${request.sweepName}`,
      `--cpus-per-task=${this.options.cpusPerTrial ?? 1}`,
      // Only until the task redirects its output into the trial's folder.
      `--output=${path.join(slurmDir, '%A_%a.out')}`,
      ...(partition ? [`--partition=${partition}`] : []),
      ...(time ? [`--time=${time}`] : []),
      // Last, so that they override ours.
      ...(this.options.sbatchArgs ?? []),
      script,
    ];
    await fs.writeFile(
      script,
      batchScript({
        sweepDir,
        slurmDir,
        workDir: process.cwd(),
        trialNames: request.trials.map((trial) => trial.name),
        command,
        submitCommand: ['sbatch', ...sbatch],
        sweepFile: request.sweepFile,
      }),
      { mode: 0o755 },
    );
    let stdout: string;
    try {
      ({ stdout } = await runCommand('sbatch', sbatch, this.env));
    } catch (error) {
      throw new Error(`Slurm refused the job array: ${(error as Error).message}\n(batch script: ${script})`);
    }
    // --parsable prints "<job id>" or "<job id>;<cluster>".
    const jobId = stdout.trim().split(';')[0] ?? '';
    if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed ${JSON.stringify(stdout.trim())} instead of a job id (batch script: ${script})`);
    await appendJobRecord(sweepDir, {
      jobId,
      submittedAt: new Date().toISOString(),
      script,
      sweepFile,
      indices: [...request.indices],
      concurrency: request.concurrency ?? null,
      sbatch: ['sbatch', ...sbatch],
    });
    return new SlurmSubmission(jobId, request.indices, sweepDir, this.env);
  }
}

/** The sweep's submissions, oldest first (none when it never ran on Slurm). */
export async function readJobRecords(sweepDir: string): Promise<SlurmJobRecord[]> {
  const records = await readJson<SlurmJobRecord[]>(path.join(sweepDir, SLURM_DIR, JOBS_FILE));
  return Array.isArray(records) ? records : [];
}

async function appendJobRecord(sweepDir: string, record: SlurmJobRecord): Promise<void> {
  const records = await readJobRecords(sweepDir);
  await writeJsonAtomic(path.join(sweepDir, SLURM_DIR, JOBS_FILE), [...records, record]);
}

/** The tasks of the sweep's latest submission, as squeue sees them; undefined without Slurm or a submission. */
export async function latestSlurmJob(sweepDir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ record: SlurmJobRecord; tasks: Map<number, BatchTaskState> | string } | undefined> {
  const record = (await readJobRecords(sweepDir)).at(-1);
  if (!record) return undefined;
  if (findOnPath('squeue', env) === undefined) return { record, tasks: 'squeue is not on PATH here' };
  try {
    return { record, tasks: await new SlurmSubmission(record.jobId, record.indices, sweepDir, env).poll() };
  } catch (error) {
    return { record, tasks: (error as Error).message };
  }
}
