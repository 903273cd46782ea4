/**
 * `sweep trial <file> --index i`: runs one trial of a sweep on this machine exactly as
 * `sweep run` does (runTrial: resume or move aside, trial.json, the run as a child
 * process, status.json, retries) and writes the same files. Each task of a Slurm job
 * array runs it; so can any other scheduler (Kubernetes indexed jobs, a shell loop).
 *
 * With --stop-at-step N it runs one rung segment: the trial pauses at step N (a checkpoint
 * there; status.json says `paused` with `rungStep`), and the next `sweep trial` resumes it
 * from there (with a later --stop-at-step, or none to run it to the end).
 *
 * Exit codes: 0 done (or complete before: done, or stopped at a rung), 1 failed, 2 a problem
 * with the file or the options, 75 (EXIT_PAUSED) paused at --stop-at-step, 130 interrupted.
 */
import { hostname } from 'node:os';
import * as path from 'node:path';
import { ConfigError, checkStopAtStep } from '../train/config.js';
import { EXIT_PAUSED } from '../train/run-messages.js';
import { describeFsError, ensureDir } from '../util/files.js';
import { checkTrialCount, expandSweep, type Trial } from '../sweep/expand.js';
import { isAdaptive, journalTrials } from '../sweep/adaptive-sweep.js';
import { LocalExecutor, type RunningTrial } from '../sweep/executor.js';
import { checkSweepFolder, sweepManifest, writeExperimentSummary } from '../sweep/sweep-files.js';
import { planTrials, readPreviousStatuses } from '../sweep/sweep-plan.js';
import { loadSweepSpec, type SweepSpec } from '../sweep/spec.js';
import { type TrialPlacement, readManifest, writeManifest } from '../sweep/trial-status.js';
import { runTrial, trialControl, type TrialControl, type TrialOutcome } from '../sweep/trial.js';
import { StopRequests } from '../util/signals.js';
import type { SweepIo } from './sweep-io.js';

export interface TrialArgs {
  file: string;
  index: number;
  logdir: string;
  retries: number;
  force: boolean;
  /** Pause the trial at this environment step (one rung segment); undefined: run it to its end. */
  stopAtStep?: number;
}

/** The job this process runs in, when a scheduler says: Slurm's array task, else its job. */
export function schedulerJob(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  return env.SLURM_JOB_ID || undefined;
}

function pickTrial(spec: SweepSpec, trials: Trial[], index: number): Trial {
  if (!Number.isSafeInteger(index) || index < 0) throw new ConfigError(`--index must be an integer >= 0, got ${index}`);
  const trial = trials[index];
  if (!trial) {
    throw new ConfigError(
      `--index ${index} is out of range: ${spec.file} has ${trials.length} trial${trials.length === 1 ? '' : 's'} ` + `(indices 0 to ${trials.length - 1}; see sweep plan ${spec.file})`,
    );
  }
  return trial;
}

/** sweep.json and the hparams experiment, when no `sweep run` wrote them (a trial run by hand or by another scheduler). */
async function ensureSweepFiles(sweepDir: string, spec: SweepSpec, trials: Trial[]): Promise<void> {
  if (await readManifest(sweepDir)) return;
  await writeManifest(sweepDir, sweepManifest(spec, trials));
  writeExperimentSummary(sweepDir, spec);
}

/**
 * How long the run is given to take a signal itself before it is asked to stop. A
 * cancelled Slurm task signals every process of the task at once, the run too; asked
 * by this process as well in the same instant, the run could take the signal for a
 * second Ctrl-C and quit without saving a snapshot.
 */
const STOP_FORWARD_DELAY_MS = 1000;

/** Stops the trial on SIGINT/SIGTERM (a second one: at once), like `sweep run` stops its children. */
function signalControl(io: SweepIo): { control: TrialControl; dispose(): void } {
  let handle: RunningTrial | undefined;
  const stops = new StopRequests(
    {
      graceful: (reason) => {
        io.out(`${reason}: asking the run to save a snapshot and stop (again to stop at once)`);
        setTimeout(() => handle?.stop(), STOP_FORWARD_DELAY_MS).unref();
      },
      immediate: (_reason, count) => {
        if (count === 2) handle?.kill();
      },
    },
    { signals: true },
  );
  return {
    control: trialControl(stops, (running) => {
      handle = running;
    }),
    dispose: () => stops.dispose(),
  };
}

/** The exit code for how the trial's run ended (as rlsweep-run's). */
function exitCodeOf(state: TrialOutcome): number {
  switch (state) {
    case 'done':
    case 'stopped':
      return 0;
    case 'failed':
      return 1;
    case 'paused':
      return EXIT_PAUSED;
    case 'interrupted':
    case 'notStarted':
      return 130;
  }
}

export async function commandTrial(args: TrialArgs, io: SweepIo): Promise<number> {
  if (!Number.isSafeInteger(args.retries) || args.retries < 0) throw new ConfigError(`--retries must be an integer >= 0, got ${args.retries}`);
  const spec = await loadSweepSpec(args.file);
  checkTrialCount(spec, { yes: true });
  const sweepDir = path.join(args.logdir, spec.name);
  // An adaptive sweep's trials are made as its search goes: the journal holds them.
  const trials = isAdaptive(spec) ? await journalTrials(spec, sweepDir) : expandSweep(spec, { sweepDir });
  const trial = pickTrial(spec, trials, args.index);
  // Below the step the trial's checkpoint is at, the run itself refuses it (the trial then fails with that message).
  const stopAtStep = args.stopAtStep === undefined ? undefined : checkStopAtStep(args.stopAtStep, trial.config, 0, `--stop-at-step (trial ${trial.name} of ${spec.file})`);
  const dir = path.join(sweepDir, trial.name);
  await checkSweepFolder(sweepDir, spec);
  try {
    await ensureDir(dir);
  } catch (error) {
    throw new Error(`cannot create the trial folder ${dir} (${describeFsError(error)}); check that it is writable (on a cluster: that it is on storage the compute nodes share) or pass --logdir`);
  }
  await ensureSweepFiles(sweepDir, spec, trials);
  const previous = await readPreviousStatuses(sweepDir, [trial], (message) => io.err(`warning: ${message}`));
  // As a batch executor's task: only a run on this host is asked whether it still runs (a task
  // requeued elsewhere must not wait for a lost node's heartbeat to go stale).
  const plan = await planTrials(spec, sweepDir, [trial], previous, { force: args.force, batch: true });
  if (plan.skipped.length > 0) {
    const previousState = plan.previous.get(trial.name)?.state;
    io.out(`${trial.name} is ${previousState === 'stopped' ? 'stopped at a rung' : 'done'} already (${dir}); nothing to run`);
    return 0;
  }

  const job = schedulerJob();
  const placement: TrialPlacement = { host: hostname(), ...(job ? { job } : {}) };
  const signals = signalControl(io);
  try {
    const run = await runTrial({
      trial,
      dir,
      retries: args.retries,
      previous: plan.previous.get(trial.name),
      restart: plan.rerun.has(trial.name),
      placement,
      ...(stopAtStep === undefined ? {} : { stopAtStep }),
      control: signals.control,
      // Stopped through its IPC channel: a cancelled Slurm task has sent SIGTERM to the run already.
      executor: new LocalExecutor({ stopBy: 'disconnect' }),
      callbacks: {
        log: (line) => io.out(line),
        started: (attempt) => io.out(`started ${trial.name}${attempt > 1 ? ` (attempt ${attempt})` : ''} in ${dir}${job ? ` (job ${job}, host ${hostname()})` : ''}`),
        progress: () => {},
        ended: (_state, line) => io.out(line),
      },
    });
    return exitCodeOf(run.state);
  } finally {
    signals.dispose();
  }
}
